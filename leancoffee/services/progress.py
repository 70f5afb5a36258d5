"""Voting progress: each participant may say "I'm done voting"; facilitators see how many did, and how many placed
all, some or none of their dots (never under hidden voting: dots placed are what hidden voting hides)."""

from dataclasses import dataclass

from flask_babel import gettext
from peewee import JOIN, Case, fn

from leancoffee.models import VOTING, Meeting, Participant, User, Vote
from leancoffee.prepared import Prepared
from leancoffee.services import changes
from leancoffee.services.access import meeting_write, require_member
from leancoffee.services.changes import Change
from leancoffee.services.errors import Conflict, Invalid


def _how_many(condition):
    return fn.SUM(Case(None, [(condition, 1)], 0))


# Counted in SQL, one row back: this runs after every public vote while the meeting votes.
@Prepared
def DONE_COUNTS(meeting_id):
    """The meeting's active participants, and how many of them said they are done voting."""
    return (Participant.select(fn.COUNT(Participant.id), _how_many(Participant.done_voting))
            .where((Participant.meeting == meeting_id) & Participant.is_active).tuples())


@Prepared
def DOTS_COUNTS(meeting_id, budget):
    """As DONE_COUNTS, and how many placed all of their `budget` dots and how many some of them."""
    dots = Vote.select(Vote.user, fn.COUNT(Vote.id).alias("placed")).where(Vote.meeting == meeting_id).group_by(Vote.user)
    placed = fn.COALESCE(dots.c.placed, 0)
    return (Participant.select(fn.COUNT(Participant.id), _how_many(Participant.done_voting), _how_many(placed >= budget),
                               _how_many((placed > 0) & (placed < budget)))
            .join(dots, JOIN.LEFT_OUTER, on=(dots.c.user_id == Participant.user))
            .where((Participant.meeting == meeting_id) & Participant.is_active).tuples())


@dataclass(frozen=True)
class VotingProgress:
    """How far voting has got among the meeting's participants (dot counts are None under hidden voting)."""

    people: int
    done: int
    all_placed: int | None = None
    some_placed: int | None = None
    none_placed: int | None = None

    @property
    def dots_shown(self) -> bool:
        return self.all_placed is not None


def set_done_voting(user: User, code, done) -> Change:
    """A participant says they are done voting ("1"), or takes it back ("0"); only while the meeting votes.

    Under hidden voting it bumps no version, like a vote: only the person's own tabs hear of it at once,
    and facilitators get the count at most every few seconds (live/timers.py, Throttle).
    """
    if done not in ("0", "1"):
        raise Invalid(gettext("Say whether you are done voting."))
    with meeting_write(code, user, vote=True) as meeting:
        if meeting.phase != VOTING:
            raise Conflict(gettext("“I'm done voting” is for the voting phase, "
                                   "and the meeting is not voting now. Nothing was changed."))
        participant = require_member(meeting, user)
        Participant.update(done_voting=done == "1").where(Participant.id == participant.id).execute()
    version = None if meeting.votes_hidden else meeting.version
    return Change(changes.DONE_VOTING, meeting.id, version, actor_id=user.id, meeting=meeting)


def clear_done_voting(meeting: Meeting) -> None:
    """Inside a write opening voting after collecting: new topics may be in, so nobody is done yet."""
    Participant.update(done_voting=False).where((Participant.meeting == meeting.id) & Participant.done_voting).execute()


def read_progress(meeting: Meeting) -> VotingProgress | None:
    """The meeting's voting progress while it votes (None otherwise), in one query; no dot is counted while votes are hidden."""
    if meeting.phase != VOTING:
        return None
    if meeting.votes_hidden:
        people, done = DONE_COUNTS.first(meeting.id)
        return VotingProgress(people, done or 0)
    people, done, all_placed, some_placed = DOTS_COUNTS.first(meeting.id, meeting.votes_per_person)
    all_placed, some_placed = all_placed or 0, some_placed or 0  # SUM of no rows is NULL
    return VotingProgress(people, done or 0, all_placed, some_placed, people - all_placed - some_placed)


class ProgressRules:
    """Voting progress as the board shows it (mixed into BoardState: participants, progress)."""

    def said_done_voting(self, viewer) -> bool:
        """Whether this viewer said "I'm done voting"."""
        return any(p.user_id == viewer.user_id and p.done_voting for p in self.participants)
