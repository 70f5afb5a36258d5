"""The board as people see it: one read of a meeting, shaped for rendering to any viewer."""

from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import gettext, lazy_gettext, lazy_pgettext
from peewee import JOIN, fn

from leancoffee.models import (
    COLLECTING,
    COMPLETED,
    DISCUSSING,
    DISCUSSING_PHASE,
    DONE,
    FACILITATOR,
    PHASES,
    TO_DISCUSS,
    TOPIC_STATUSES,
    VOTING,
    Meeting,
    Participant,
    ThumbsVote,
    Topic,
    User,
    Vote,
    utcnow,
)
from leancoffee.prepared import Prepared
from leancoffee.services.action_items import NoteRules, load_notes
from leancoffee.services.clock import ClockRules
from leancoffee.services.meetings import STATUS_LABELS
from leancoffee.services.merging import merged_titles
from leancoffee.services.people import is_crowd
from leancoffee.services.progress import ProgressRules, VotingProgress, read_progress
from leancoffee.services.timebox import TimerView, timer_view
from leancoffee.services.topics import COLUMN_LABELS, expected_state
from leancoffee.services.viewing import TopicView, Viewer
from leancoffee.services.votes import VOTED_TOPICS

PHASE_LABELS = {COLLECTING: lazy_gettext("Collecting topics"), VOTING: lazy_gettext("Voting"),
                DISCUSSING_PHASE: lazy_gettext("Discussing"), DONE: lazy_pgettext("meeting phase", "Done")}
PHASE_GUIDANCE = {
    COLLECTING: lazy_gettext("Add the topics you would like to talk about. You can already vote for the ones you like."),
    VOTING: lazy_gettext("Vote with your dots for the topics you most want to discuss."),
    DISCUSSING_PHASE: lazy_gettext("Topics are discussed one at a time, most votes first, each in a timebox."),
    DONE: lazy_gettext("The meeting is over: the summary has every takeaway and action."),
}
# English ordinals by their last digits; each language writes them its own way (German: "Platz 1").
ORDINALS = {1: lazy_gettext("%(rank)sst"), 2: lazy_gettext("%(rank)snd"), 3: lazy_gettext("%(rank)srd")}
ORDINAL_OTHER = lazy_gettext("%(rank)sth")


@dataclass
class BoardState(NoteRules, ClockRules, ProgressRules):
    """Everything the board shows, read once and rendered for as many viewers as needed."""

    meeting: Meeting
    participants: list[Participant]
    names: dict[int, str]
    topics: dict[int, TopicView]
    votes_by_user: dict[int, set[int]] = field(default_factory=dict)
    notes: dict[int, list] = field(default_factory=dict)
    # Every action this meeting lists: its own, and those carried into it from earlier meetings of its series.
    actions: list = field(default_factory=list)
    # The thumbs of the current round, by user.
    thumbs_by_user: dict[int, str] = field(default_factory=dict)
    # Topics written privately and not revealed yet, kept out of `topics`: only column(…, viewer) shows one, to its author.
    unrevealed: dict[int, TopicView] = field(default_factory=dict)
    # While the meeting votes: who is done, and (unless hidden) who placed all, some or none of their dots.
    progress: VotingProgress | None = None
    now: object = field(default_factory=utcnow)

    @property
    def version(self) -> int:
        return self.meeting.version

    @property
    def phase(self) -> str:
        return self.meeting.phase

    @property
    def phase_label(self) -> str:
        return str(PHASE_LABELS[self.meeting.phase])

    @property
    def phase_guidance(self) -> str:
        if self.writing_privately:  # no voting yet, and nobody sees the others' topics
            return gettext("Add the topics you would like to talk about. "
                           "Voting opens when a facilitator reveals everyone's topics.")
        return str(PHASE_GUIDANCE[self.meeting.phase])

    def phase_step(self, offset: int) -> str | None:
        """The phase `offset` steps away (None past either end)."""
        index = PHASES.index(self.meeting.phase) + offset
        return PHASES[index] if 0 <= index < len(PHASES) else None

    @property
    def counts_hidden(self) -> bool:
        """Hidden voting: while votes may be cast, nobody sees the counts (nor an order revealing them)."""
        return self.meeting.votes_hidden

    @property
    def voting_open(self) -> bool:
        return self.meeting.phase in (COLLECTING, VOTING) and not self.read_only and not self.writing_privately

    @property
    def writing_privately(self) -> bool:
        """Private writing while topics are collected: each sees only their own until a facilitator reveals them."""
        return self.meeting.private_writing and self.meeting.phase == COLLECTING and not self.read_only

    @property
    def writers(self) -> set[int]:
        """Who has written topics not revealed yet (how many others have is all anyone else learns)."""
        return {t.author_id for t in self.unrevealed.values()}

    def others_writing(self, viewer: Viewer) -> int:
        return len(self.writers - {viewer.user_id})

    @property
    def timer(self) -> TimerView:
        return timer_view(self.meeting, self.now)

    @property
    def current_topic(self) -> "TopicView | None":
        return next((t for t in self.topics.values() if t.status == DISCUSSING), None)

    def expected(self, action: str, topic: "TopicView | None" = None) -> str:
        """The state a facilitator's form for `action` names (its hidden `expected` field)."""
        return expected_state(action, self.meeting, self.current_topic, topic)

    def spent_seconds(self, topic: "TopicView") -> int:
        """Time a topic has been discussed so far, the current discussion included."""
        extra = (self.now - topic.discussion_started_at).total_seconds() if topic.discussion_started_at else 0
        return topic.discussed_seconds + max(0, int(extra))

    def thumbs_counts(self) -> dict[str, int]:
        counts = {"up": 0, "neutral": 0, "down": 0}
        for choice in self.thumbs_by_user.values():
            counts[choice] += 1
        return counts

    def my_thumb(self, viewer: "Viewer") -> str | None:
        return self.thumbs_by_user.get(viewer.user_id)

    def rank_label(self, topic: "TopicView") -> str:
        """"1st", or "tied 1st" when others share the count; empty without votes or while hidden."""
        if self.counts_hidden or topic.status != TO_DISCUSS or topic.votes == 0:
            return ""
        counts = [t.votes for t in self.topics.values() if t.status == TO_DISCUSS]
        rank = 1 + sum(1 for c in counts if c > topic.votes)
        place = str(ORDINALS.get(rank if rank < 20 else rank % 10, ORDINAL_OTHER)) % {"rank": rank}
        return gettext("tied %(place)s", place=place) if self.is_tied(topic) else place

    def is_tied(self, topic: "TopicView") -> bool:
        """Whether other topics in To Discuss have as many votes as this one (shown as a tie, never ranked apart)."""
        return sum(1 for t in self.topics.values() if t.status == TO_DISCUSS and t.votes == topic.votes) > 1

    @property
    def read_only(self) -> bool:
        return self.meeting.status == COMPLETED

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.meeting.status])

    def column(self, status: str, viewer: Viewer | None = None) -> list[TopicView]:
        """Topics of one column in board order (To Discuss by votes, the others by when they arrived), with the
        viewer's own unrevealed topics: nobody else's ever."""
        topics = [t for t in self.topics.values() if t.status == status]
        if status == TO_DISCUSS and viewer is not None and viewer.user_id is not None:
            topics += [t for t in self.unrevealed.values() if t.author_id == viewer.user_id]
        if status == TO_DISCUSS and self.counts_hidden:
            return sorted(topics, key=lambda t: (t.created_at, t.id))
        if status == TO_DISCUSS:
            return sorted(topics, key=lambda t: (-t.votes, t.created_at, t.id))
        return sorted(topics, key=lambda t: (t.moved_at, t.id))

    def columns(self, viewer: Viewer | None = None) -> list[tuple[str, str, list[TopicView]]]:
        """(status, label, topics) for the three columns, in board order (with the viewer's own unrevealed topics)."""
        return [(s, COLUMN_LABELS[s], self.column(s, viewer)) for s in TOPIC_STATUSES]

    def my_votes(self, viewer: Viewer) -> set[int]:
        return self.votes_by_user.get(viewer.user_id, set())

    def dots_left(self, viewer: Viewer) -> int:
        return self.meeting.votes_per_person - len(self.my_votes(viewer))

    def can_vote(self, viewer: Viewer) -> bool:
        return self.can_act(viewer) and self.voting_open

    def can_act(self, viewer: Viewer) -> bool:
        return viewer.is_member and not self.read_only

    def can_edit(self, viewer: Viewer, topic: TopicView) -> bool:
        return self.can_act(viewer) and (viewer.is_facilitator or topic.author_id == viewer.user_id)

    def is_facilitating(self, viewer: Viewer) -> bool:
        return viewer.is_member and viewer.is_facilitator

    @property
    def crowd(self) -> bool:
        """Beyond CROWD_SIZE people: counts and a link to everyone (services/people.py), not a row each."""
        return is_crowd(len(self.participants))

    @property
    def facilitator_ids(self) -> set[int]:
        """The members who facilitate (empty for a votes-only read, which has no people)."""
        return {p.user_id for p in self.participants if p.role == FACILITATOR}


def meeting_version(meeting_id: int) -> int | None:
    """The meeting's current version (None once it is gone): one cheap query."""
    return Meeting.select(Meeting.version).where(Meeting.id == meeting_id).scalar()


TOPICS_WITH_COUNTS = Prepared(
    lambda meeting_id: Topic.select(Topic, fn.COUNT(Vote.id).alias("vote_count"))
    .join(Vote, JOIN.LEFT_OUTER, on=(Vote.topic == Topic.id))
    .where(Topic.meeting == meeting_id)
    .group_by(Topic.id)
)
MEETING_BY_ID = Prepared(lambda meeting_id: Meeting.select().where(Meeting.id == meeting_id).limit(1))


def _topic_views(meeting_id: int, names: dict[int, str]) -> tuple[dict[int, TopicView], dict[int, TopicView]]:
    """The meeting's topics, revealed and not: an anonymous one's author is never even read into its view."""
    rows = list(TOPICS_WITH_COUNTS.rows(meeting_id))
    absent = {t.author_id for t in rows if not t.anonymous and t.author_id not in names}
    if names and absent:  # topics carried by Run again whose authors have not joined this meeting yet: their own name
        names = {**names, **dict(User.select(User.id, User.name).where(User.id.in_(absent)).tuples())}
    views = {
        t.id: TopicView(
            id=t.id, title=t.title, description=t.description, status=t.status,
            author_id=t.author_id,
            author_name="" if t.anonymous else names.get(t.author_id, "someone"),
            votes=t.vote_count,
            created_at=t.created_at, moved_at=t.moved_at,
            discussed_seconds=t.discussed_seconds, discussion_started_at=t.discussion_started_at,
            merged_from=merged_titles(t),
            anonymous=t.anonymous,
            unrevealed=t.unrevealed,
        )
        for t in rows
    }
    return ({i: t for i, t in views.items() if not t.unrevealed}, {i: t for i, t in views.items() if t.unrevealed})


def load_board(meeting_id: int) -> BoardState:
    """Read a meeting's whole board in six queries."""
    meeting = Meeting.get_by_id(meeting_id)
    everyone = list(Participant.select().where(Participant.meeting == meeting_id).order_by(Participant.joined_at, Participant.id))
    names = {p.user_id: p.label for p in everyone}
    topics, unrevealed = _topic_views(meeting_id, names)
    notes, actions = load_notes(meeting_id)
    current = next((t for t in topics.values() if t.status == DISCUSSING), None)
    thumbs = {}
    if current is not None and meeting.timer_round:
        thumbs = dict(
            ThumbsVote.select(ThumbsVote.user, ThumbsVote.choice)
            .where((ThumbsVote.topic == current.id) & (ThumbsVote.round == meeting.timer_round))
            .tuples()
        )
    votes_by_user: dict[int, set[int]] = defaultdict(set)
    for user_id, topic_id in Vote.select(Vote.user, Vote.topic).where(Vote.meeting == meeting_id).tuples():
        votes_by_user[user_id].add(topic_id)
    return BoardState(
        meeting=meeting,
        participants=[p for p in everyone if p.is_active],
        names=names,
        topics=topics,
        votes_by_user=dict(votes_by_user),
        notes=notes,
        actions=actions,
        thumbs_by_user=thumbs,
        unrevealed=unrevealed,
        progress=read_progress(meeting),
    )


def load_votes(meeting_id: int, voter_id: int | None, meeting: Meeting | None = None,
               voter_dots: frozenset[int] | None = None) -> BoardState:
    """Just what a vote changes: every topic's count, plus the meeting and one voter's dots unless given, and the
    voting progress while the meeting votes. People, notes and thumbs are left empty and authors unnamed: render only
    vote regions from it.
    """
    if meeting is None:
        meeting = MEETING_BY_ID.first(meeting_id)
        if meeting is None:
            raise Meeting.DoesNotExist(f"meeting {meeting_id}")
    if voter_dots is None:
        voter_dots = {topic_id for (topic_id,) in VOTED_TOPICS.rows(meeting_id, voter_id)}
    return BoardState(
        meeting=meeting,
        participants=[],
        names={},
        topics=_topic_views(meeting_id, {})[0],
        votes_by_user={voter_id: set(voter_dots)},
        progress=None if meeting.votes_hidden else read_progress(meeting),  # the facilitators' dots placed
    )
