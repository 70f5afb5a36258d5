"""A person's sign-in across devices."""

from leancoffee.db import db
from leancoffee.models import Participant, User


def sign_out_everywhere(user: User) -> list[int]:
    """End this person's sessions on every device (their login cookies stop working); returns their meetings' ids."""
    with db.atomic():
        User.update(session_generation=User.session_generation + 1).where(User.id == user.id).execute()
        return [p.meeting_id for p in Participant.select(Participant.meeting).where(Participant.user == user.id)]
