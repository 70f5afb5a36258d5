"""A person's sign-in across devices."""

from leancoffee.db import db
from leancoffee.models import Participant, User
from leancoffee.services import tokens


def sign_out_everywhere(user: User, revoke_tokens: bool = False) -> list[int]:
    """End this person's sessions on every device (their login cookies stop working), and their API tokens if asked.

    Returns their meetings' ids.
    """
    with db.atomic():
        User.update(session_generation=User.session_generation + 1).where(User.id == user.id).execute()
        if revoke_tokens:
            tokens.revoke_all(user)
        return [p.meeting_id for p in Participant.select(Participant.meeting).where(Participant.user == user.id)]
