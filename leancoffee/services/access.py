"""Lookups and guards shared by every service: which meeting, who is acting, may they."""

from contextlib import contextmanager

from flask_babel import gettext
from peewee import Case

from leancoffee.db import db
from leancoffee.models import COLLECTING, COMPLETED, VOTING, Meeting, Participant, Topic, User
from leancoffee.prepared import Prepared
from leancoffee.services.errors import Conflict, Forbidden, NotFound
from leancoffee.services.validation import row_id

# The lookups every vote makes (see leancoffee.prepared).
MEETING_BY_CODE = Prepared(lambda code: Meeting.select().where(Meeting.code == code).limit(1))
BUMP_VERSION = Prepared(lambda code: Meeting.update(version=Meeting.version + 1).where(Meeting.code == code).returning(Meeting))
# A vote under hidden voting must not show in the version every screen sees (Meeting.votes_hidden):
# it still updates, and so locks, the meeting row, but adds nothing to the version.
_VOTES_HIDDEN = Meeting.hidden_voting & Meeting.phase.in_((COLLECTING, VOTING))
BUMP_VERSION_FOR_VOTE = Prepared(
    lambda code: Meeting.update(version=Meeting.version + Case(None, [(_VOTES_HIDDEN, 0)], 1))
    .where(Meeting.code == code).returning(Meeting)
)


@Prepared
def PARTICIPANT(meeting_id, user_id):
    return Participant.select().where((Participant.meeting == meeting_id) & (Participant.user == user_id)).limit(1)


@Prepared
def TOPIC_OF_MEETING(topic_id, meeting_id):
    return Topic.select().where((Topic.id == topic_id) & (Topic.meeting == meeting_id)).limit(1)


def find_meeting(code: str) -> Meeting:
    """The meeting with this link code, or NotFound."""
    meeting = MEETING_BY_CODE.first(str(code))
    if meeting is None:
        raise NotFound(gettext("No meeting has this link. Check the address you were given."))
    return meeting


def begin_change(code: str, vote: bool = False) -> Meeting:
    """Inside a transaction: bump the meeting's version and return the row as it now is (one query).

    The UPDATE comes first on purpose: on PostgreSQL it locks the meeting row, so writes to
    one meeting (budget check included) run one after another; SQLite's IMMEDIATE
    transactions already do that for the whole file. A hidden vote leaves the version as it was.
    """
    meeting = (BUMP_VERSION_FOR_VOTE if vote else BUMP_VERSION).first(str(code))
    if meeting is not None:
        return meeting
    raise NotFound(gettext("No meeting has this link. Check the address you were given."))


def membership(meeting: Meeting, user: User | None) -> Participant | None:
    """The user's participant row in the meeting, active or not."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return PARTICIPANT.first(meeting.id, user.id)


def require_member(meeting: Meeting, user: User | None) -> Participant:
    """The acting user's active participation, or Forbidden."""
    participant = membership(meeting, user)
    if participant is None or not participant.is_active:
        raise Forbidden(gettext("Join this meeting first: only its participants can do that."))
    return participant


def require_facilitator(meeting: Meeting, user: User | None) -> Participant:
    """The acting user's participation if they are one of this meeting's facilitators, or Forbidden."""
    participant = require_member(meeting, user)
    if not participant.facilitates:
        raise Forbidden(gettext("Only a facilitator can do that."))
    return participant


def require_open(meeting: Meeting) -> None:
    """Refuse changes to a completed meeting."""
    if meeting.status == COMPLETED:
        raise Conflict(gettext("This meeting is completed: its board is read-only."))


def keep_version(meeting: Meeting) -> None:
    """Undo this transaction's version bump: a change to an unrevealed topic must not show in the version others see."""
    Meeting.update(version=Meeting.version - 1).where(Meeting.id == meeting.id).execute()


def find_topic(meeting: Meeting, topic_id, user: User | None = None) -> Topic:
    """The topic with this id in this meeting as `user` may see it (an unrevealed one is its author's alone), or NotFound."""
    topic_id = row_id(topic_id)
    if topic_id is None:
        raise NotFound(gettext("That topic does not exist in this meeting."))
    topic = TOPIC_OF_MEETING.first(topic_id, meeting.id)
    # Someone else's unrevealed topic reads exactly as one that does not exist: no answer tells them it does.
    if topic is None or (topic.unrevealed and (user is None or topic.author_id != user.id)):
        raise NotFound(gettext("That topic does not exist in this meeting (it may have been deleted)."))
    return topic


@contextmanager
def meeting_write(code: str, user: User | None, *, facilitator: bool = False, open_only: bool = True, vote: bool = False):
    """One write to a meeting: a transaction that bumps its version and checks who may act, and when."""
    with db.atomic():
        meeting = begin_change(code, vote)
        if facilitator:
            require_facilitator(meeting, user)
        else:
            require_member(meeting, user)
        if open_only:
            require_open(meeting)
        yield meeting
