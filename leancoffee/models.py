"""Tables: users, meetings, participants, topics and votes; the rules that data must obey live here."""

from datetime import UTC, datetime

from flask_login import UserMixin
from peewee import (
    SQL,
    AutoField,
    BooleanField,
    CharField,
    Check,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from leancoffee.db import db

MEETING_TITLE_MAX = 120
NAME_MAX = 40
TOPIC_TITLE_MAX = 120
TOPIC_DESCRIPTION_MAX = 500
VOTES_MIN, VOTES_MAX = 1, 10

PLANNED, IN_PROGRESS, COMPLETED = "planned", "in_progress", "completed"
MEETING_STATUSES = (PLANNED, IN_PROGRESS, COMPLETED)
TO_DISCUSS, DISCUSSING, DISCUSSED = "to_discuss", "discussing", "discussed"
TOPIC_STATUSES = (TO_DISCUSS, DISCUSSING, DISCUSSED)
FACILITATOR, PARTICIPANT = "facilitator", "participant"


def utcnow() -> datetime:
    """Naive UTC now, the one clock every timestamp uses."""
    return datetime.now(UTC).replace(tzinfo=None)


def _one_of(column: str, values) -> Check:
    """A CHECK constraint that keeps column within values."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return Check(f"{column} IN ({quoted})")


class BaseModel(Model):
    class Meta:
        database = db


class User(UserMixin, BaseModel):
    """A browser's identity: no password, kept by a long-lived login cookie."""

    id = AutoField()
    name = CharField(max_length=NAME_MAX)
    created_at = DateTimeField(default=utcnow)


class Meeting(BaseModel):
    """One Lean Coffee; `code` is the unguessable id in its links, `version` counts its changes."""

    id = AutoField()
    code = CharField(max_length=32, unique=True)
    title = CharField(max_length=MEETING_TITLE_MAX, constraints=[Check(f"length(title) BETWEEN 1 AND {MEETING_TITLE_MAX}")])
    votes_per_person = IntegerField(
        default=3, constraints=[Check(f"votes_per_person BETWEEN {VOTES_MIN} AND {VOTES_MAX}")]
    )
    status = CharField(max_length=16, default=PLANNED, constraints=[_one_of("status", MEETING_STATUSES)])
    facilitator = ForeignKeyField(User, backref="facilitated")
    created_at = DateTimeField(default=utcnow)
    started_at = DateTimeField(null=True)
    ended_at = DateTimeField(null=True)
    version = IntegerField(default=1)


class Participant(BaseModel):
    """A user's membership of a meeting: created on first join, reactivated on rejoin."""

    id = AutoField()
    meeting = ForeignKeyField(Meeting, backref="participants", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="participations", on_delete="CASCADE")
    name = CharField(max_length=NAME_MAX, constraints=[Check(f"length(name) BETWEEN 1 AND {NAME_MAX}")])
    role = CharField(max_length=16, default=PARTICIPANT, constraints=[_one_of("role", (FACILITATOR, PARTICIPANT))])
    is_active = BooleanField(default=True)
    joined_at = DateTimeField(default=utcnow)
    left_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("meeting", "user"), True),)


class Topic(BaseModel):
    """A proposed topic and the column it sits in."""

    id = AutoField()
    meeting = ForeignKeyField(Meeting, backref="topics", on_delete="CASCADE")
    author = ForeignKeyField(User, backref="topics")
    title = CharField(max_length=TOPIC_TITLE_MAX, constraints=[Check(f"length(title) BETWEEN 1 AND {TOPIC_TITLE_MAX}")])
    description = TextField(default="", constraints=[Check(f"length(description) <= {TOPIC_DESCRIPTION_MAX}")])
    status = CharField(max_length=16, default=TO_DISCUSS, constraints=[_one_of("status", TOPIC_STATUSES)])
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    # When the topic last changed column: Discussed is shown in the order topics got there.
    moved_at = DateTimeField(default=utcnow)


class Vote(BaseModel):
    """One dot: at most one per user per topic (unique index), counted against the meeting budget."""

    id = AutoField()
    meeting = ForeignKeyField(Meeting, on_delete="CASCADE")
    topic = ForeignKeyField(Topic, backref="votes", on_delete="CASCADE")
    user = ForeignKeyField(User, on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow, constraints=[SQL("NOT NULL")])

    class Meta:
        indexes = (
            (("topic", "user"), True),
            (("meeting", "user"), False),
        )


ALL_MODELS = [User, Meeting, Participant, Topic, Vote]
