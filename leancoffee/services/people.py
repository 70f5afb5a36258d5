"""Who is in a meeting when it is a crowd: beyond CROWD_SIZE people the board shows counts, and everyone is listed
on a page of its own, read when asked (issue 18: a thousand screens reconnecting at once)."""

from flask_babel import gettext

from leancoffee.models import FACILITATOR, Meeting, Participant, User
from leancoffee.services.access import find_meeting, membership
from leancoffee.services.errors import Forbidden

# Beyond this many people in a meeting, its board shows how many are here and in the meeting, the facilitators by
# name and a link to everyone; the datalist of owners' names holds only the facilitators' and the viewer's. At or
# under it, a row per person as always. The one place this number lives.
CROWD_SIZE = 50
# A crowd's arrivals and departures reach its screens (as counts) in batches of this many seconds: a thousand screens
# reconnecting at once get a few counts each, not one every 50 ms (live/hub.py).
CROWD_PRESENCE_SECONDS = 1.0


def is_crowd(people: int) -> bool:
    """Whether a meeting of this many people shows counts instead of a row per person."""
    return people > CROWD_SIZE


def here_among(board, present) -> int:
    """How many of the board's participants are here (`present`: the users with the meeting open), without a loop in a
    template: every screen of a crowd gets this count on each arrival. Their ids are gathered once per board read."""
    ids = board.__dict__.get("_participant_ids")
    if ids is None:
        ids = board.__dict__["_participant_ids"] = frozenset(p.user_id for p in board.participants)
    return len(ids.intersection(present or ()))


def facilitators_among(board) -> list[Participant]:
    """The board's facilitators (a few among a crowd), gathered once per board read: not a loop over everyone in a
    template rendered for each screen that opens."""
    found = board.__dict__.get("_facilitators")
    if found is None:
        found = board.__dict__["_facilitators"] = [p for p in board.participants if p.role == FACILITATOR]
    return found


def people_page_for(code, user: User | None) -> tuple[Meeting, Participant]:
    """The meeting and the visitor's membership, for its people page: its members only (NotFound, Forbidden)."""
    meeting = find_meeting(code)
    participant = membership(meeting, user)
    if participant is None or not participant.is_active:
        raise Forbidden(gettext("Only the people in this meeting see who is in it: join it first with its link."))
    return meeting, participant
