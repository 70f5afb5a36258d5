"""The board as people see it: one read of a meeting, shaped for rendering to any viewer."""

from collections import defaultdict
from dataclasses import dataclass, field

from peewee import JOIN, fn

from leancoffee.models import (
    COMPLETED,
    DISCUSSED,
    DISCUSSING,
    TO_DISCUSS,
    TOPIC_STATUSES,
    Meeting,
    Participant,
    Topic,
    Vote,
)
from leancoffee.services.meetings import STATUS_LABELS

COLUMN_LABELS = {TO_DISCUSS: "To Discuss", DISCUSSING: "Discussing", DISCUSSED: "Discussed"}


@dataclass(frozen=True)
class Viewer:
    """Who is looking at the board: decides vote state, remaining dots and which controls show."""

    user_id: int | None
    is_facilitator: bool = False
    is_member: bool = False


@dataclass
class TopicView:
    """A topic with its vote count and author's display name."""

    id: int
    title: str
    description: str
    status: str
    author_id: int
    author_name: str
    votes: int
    created_at: object
    moved_at: object


@dataclass
class BoardState:
    """Everything the board shows, read once and rendered for as many viewers as needed."""

    meeting: Meeting
    participants: list[Participant]
    names: dict[int, str]
    topics: dict[int, TopicView]
    votes_by_user: dict[int, set[int]] = field(default_factory=dict)

    @property
    def version(self) -> int:
        return self.meeting.version

    @property
    def read_only(self) -> bool:
        return self.meeting.status == COMPLETED

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.meeting.status]

    def column(self, status: str) -> list[TopicView]:
        """Topics of one column in board order: To Discuss by votes, the others by when they arrived."""
        topics = [t for t in self.topics.values() if t.status == status]
        if status == TO_DISCUSS:
            return sorted(topics, key=lambda t: (-t.votes, t.created_at, t.id))
        return sorted(topics, key=lambda t: (t.moved_at, t.id))

    def columns(self) -> list[tuple[str, str, list[TopicView]]]:
        """(status, label, topics) for the three columns, in board order."""
        return [(s, COLUMN_LABELS[s], self.column(s)) for s in TOPIC_STATUSES]

    def my_votes(self, viewer: Viewer) -> set[int]:
        return self.votes_by_user.get(viewer.user_id, set())

    def dots_left(self, viewer: Viewer) -> int:
        return self.meeting.votes_per_person - len(self.my_votes(viewer))

    def can_act(self, viewer: Viewer) -> bool:
        return viewer.is_member and not self.read_only

    def can_edit(self, viewer: Viewer, topic: TopicView) -> bool:
        return self.can_act(viewer) and (viewer.is_facilitator or topic.author_id == viewer.user_id)

    def is_facilitating(self, viewer: Viewer) -> bool:
        return viewer.is_member and viewer.is_facilitator


def load_board(meeting_id: int) -> BoardState:
    """Read a meeting's board in four queries."""
    meeting = Meeting.get_by_id(meeting_id)
    everyone = list(Participant.select().where(Participant.meeting == meeting_id).order_by(Participant.joined_at, Participant.id))
    names = {p.user_id: p.name for p in everyone}
    vote_count = fn.COUNT(Vote.id).alias("vote_count")
    rows = (
        Topic.select(Topic, vote_count)
        .join(Vote, JOIN.LEFT_OUTER, on=(Vote.topic == Topic.id))
        .where(Topic.meeting == meeting_id)
        .group_by(Topic.id)
    )
    topics = {
        t.id: TopicView(
            id=t.id,
            title=t.title,
            description=t.description,
            status=t.status,
            author_id=t.author_id,
            author_name=names.get(t.author_id, "someone"),
            votes=t.vote_count,
            created_at=t.created_at,
            moved_at=t.moved_at,
        )
        for t in rows
    }
    votes_by_user: dict[int, set[int]] = defaultdict(set)
    for user_id, topic_id in Vote.select(Vote.user, Vote.topic).where(Vote.meeting == meeting_id).tuples():
        votes_by_user[user_id].add(topic_id)
    return BoardState(
        meeting=meeting,
        participants=[p for p in everyone if p.is_active],
        names=names,
        topics=topics,
        votes_by_user=dict(votes_by_user),
    )


def viewer_for(meeting: Meeting, participant: Participant | None) -> Viewer:
    """The Viewer for a participant row (None: someone who has not joined)."""
    if participant is None:
        return Viewer(user_id=None)
    return Viewer(
        user_id=participant.user_id,
        is_facilitator=meeting.facilitator_id == participant.user_id,
        is_member=participant.is_active,
    )
