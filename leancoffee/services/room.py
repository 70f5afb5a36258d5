"""The room screen's own link: found by its secret alone, renewed by the facilitator."""

import re

from flask_babel import lazy_gettext

from leancoffee.db import db
from leancoffee.models import Meeting, new_room_secret
from leancoffee.services import changes
from leancoffee.services.access import find_meeting, require_facilitator
from leancoffee.services.changes import Change
from leancoffee.services.errors import NotFound

# What new_room_secret makes; anything else is not looked up.
_SECRET = re.compile(r"[A-Za-z0-9_-]{32,64}")
RENEWED_OR_WRONG = lazy_gettext("This room link does not open a meeting: it may have been renewed. "
                                 "Ask the facilitator for the new one.")


def find_room(secret) -> Meeting:
    """The meeting whose room link this is, or NotFound (a renewed link is not found either)."""
    meeting = None
    if isinstance(secret, str) and _SECRET.fullmatch(secret):
        meeting = Meeting.get_or_none(Meeting.room_secret == secret)
    if meeting is None:
        raise NotFound(RENEWED_OR_WRONG)
    return meeting


def room_secret_of(meeting_id: int) -> str | None:
    """The meeting's current room secret (None once it is gone)."""
    return Meeting.select(Meeting.room_secret).where(Meeting.id == meeting_id).scalar()


def renew_room_link(user, code) -> Change:
    """Facilitator: a new room secret; screens opened with the old one close and every facilitator's board shows the new one.

    The board does not change, so the meeting's version does not either.
    """
    with db.atomic():
        meeting = find_meeting(code)
        require_facilitator(meeting, user)
        meeting.room_secret = new_room_secret()
        Meeting.update(room_secret=meeting.room_secret).where(Meeting.id == meeting.id).execute()
    return Change(changes.ROOM_LINK_RENEWED, meeting.id, None, actor_id=user.id, meeting=meeting)
