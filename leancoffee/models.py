"""Tables: users, meetings and their series, participants, topics, votes and notes; the rules that data must obey live here."""

import secrets
from datetime import UTC, datetime

from flask_login import UserMixin
from peewee import (
    SQL,
    AutoField,
    BooleanField,
    CharField,
    Check,
    DateTimeField,
    FloatField,
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
COLLECTING, VOTING, DISCUSSING_PHASE, DONE = "collecting", "voting", "discussing", "done"
PHASES = (COLLECTING, VOTING, DISCUSSING_PHASE, DONE)
TIMER_IDLE, TIMER_RUNNING, TIMER_PAUSED = "idle", "running", "paused"
THUMBS_UP, THUMBS_NEUTRAL, THUMBS_DOWN = "up", "neutral", "down"
THUMBS_CHOICES = (THUMBS_UP, THUMBS_NEUTRAL, THUMBS_DOWN)
CONTINUE, MOVE_ON = "continue", "move_on"
TAKEAWAY, ACTION = "takeaway", "action"
NOTE_MAX = 500
DEFAULT_TIMEBOX = "8m 4m 2m"
TIMEBOX_PATTERN_MAX = 80
TOKEN_NAME_MAX = 60
PHASE_TIMEBOX_MAX, PLANNED_MINUTES_MAX = 120 * 60, 600
# What forms tell people (maxlength, "up to n characters"): the same numbers the schema enforces.
FORM_LIMITS = {
    "name": NAME_MAX, "meeting_title": MEETING_TITLE_MAX, "topic_title": TOPIC_TITLE_MAX,
    "topic_description": TOPIC_DESCRIPTION_MAX, "note": NOTE_MAX, "timebox_pattern": TIMEBOX_PATTERN_MAX,
    "votes_min": VOTES_MIN, "votes_max": VOTES_MAX, "token_name": TOKEN_NAME_MAX, "planned_minutes": PLANNED_MINUTES_MAX,
}


def utcnow() -> datetime:
    """Naive UTC now, the one clock every timestamp uses."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_room_secret() -> str:
    """An unguessable room-screen secret (192 random bits, URL-safe): the projector's only credential."""
    return secrets.token_urlsafe(24)


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
    # Raised by signing out: every login cookie issued before then (any device, any worker) stops working.
    session_generation = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])

    def get_id(self) -> str:
        """What login cookies carry: the user and the sign-in generation they were issued in."""
        return f"{self.id}.{self.session_generation}"


class Series(BaseModel):
    """Meetings run again one after another (Run again); `code` is the unguessable id of the series' stable link."""

    id = AutoField()
    code = CharField(max_length=32, unique=True)
    created_at = DateTimeField(default=utcnow)


class Meeting(BaseModel):
    """One Lean Coffee; `code` is the unguessable id in its links, `version` counts its changes."""

    id = AutoField()
    code = CharField(max_length=32, unique=True)
    title = CharField(max_length=MEETING_TITLE_MAX, constraints=[Check(f"length(title) BETWEEN 1 AND {MEETING_TITLE_MAX}")])
    votes_per_person = IntegerField(default=3, constraints=[Check(f"votes_per_person BETWEEN {VOTES_MIN} AND {VOTES_MAX}")])
    status = CharField(max_length=16, default=PLANNED, constraints=[_one_of("status", MEETING_STATUSES)])
    facilitator = ForeignKeyField(User, backref="facilitated")
    created_at = DateTimeField(default=utcnow)
    started_at = DateTimeField(null=True)
    ended_at = DateTimeField(null=True)
    version = IntegerField(default=1)
    phase = CharField(max_length=16, default=COLLECTING, constraints=[_one_of("phase", PHASES)])
    # While voting is open and this is set, nobody sees the counts (or an order that reveals them).
    hidden_voting = BooleanField(default=False)
    timebox_pattern = CharField(max_length=TIMEBOX_PATTERN_MAX, default=DEFAULT_TIMEBOX)
    # The shared timer: the server keeps an end time, never a countdown from a browser.
    timer_state = CharField(max_length=8, default=TIMER_IDLE,
                            constraints=[_one_of("timer_state", (TIMER_IDLE, TIMER_RUNNING, TIMER_PAUSED))])
    timer_ends_at = DateTimeField(null=True)
    timer_remaining = FloatField(null=True)
    # Timeboxes run so far for the topic being discussed (1 = the first).
    timer_round = IntegerField(default=0)
    # The room screen's link (/room/<secret>): read-only, no login; renewing it closes the screens opened with the old one.
    room_secret = CharField(max_length=64, unique=True, default=new_room_secret)
    # "Show who proposed each topic": off, new topics are written anonymously (Topic.anonymous keeps it per topic).
    show_authors = BooleanField(default=True, constraints=[SQL("DEFAULT TRUE")])
    # "Private writing": topics written while collecting stay their author's own until a facilitator reveals them.
    private_writing = BooleanField(default=False, constraints=[SQL("DEFAULT FALSE")])
    # The series this meeting belongs to (None until it is run again, or run from another).
    series = ForeignKeyField(Series, backref="meetings", null=True, on_delete="SET NULL")
    # Optional: timeboxes for collecting and voting (seconds) and the meeting's planned length (minutes); None: not set.
    collecting_seconds = IntegerField(null=True, constraints=[Check(f"collecting_seconds BETWEEN 1 AND {PHASE_TIMEBOX_MAX}")])
    voting_seconds = IntegerField(null=True, constraints=[Check(f"voting_seconds BETWEEN 1 AND {PHASE_TIMEBOX_MAX}")])
    planned_minutes = IntegerField(null=True, constraints=[Check(f"planned_minutes BETWEEN 1 AND {PLANNED_MINUTES_MAX}")])

    @property
    def votes_hidden(self) -> bool:
        """Hidden voting: while votes may be cast, nobody but the voter learns of a vote or a count."""
        return self.hidden_voting and self.phase in (COLLECTING, VOTING)


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
    # Told apart from others of the same name by join order: the second "Ann" is "Ann (2)" for the whole meeting.
    name_number = IntegerField(default=1, constraints=[SQL("DEFAULT 1"), Check("name_number >= 1")])
    # Said "I'm done voting" (cleared when voting opens again after collecting).
    done_voting = BooleanField(default=False, constraints=[SQL("DEFAULT FALSE")])

    class Meta:
        indexes = ((("meeting", "user"), True), (("meeting", "name", "name_number"), True))

    @property
    def label(self) -> str:
        """The name shown everywhere: "Ann", or "Ann (2)" for the second Ann to join."""
        return self.name if self.name_number == 1 else f"{self.name} ({self.name_number})"

    @property
    def facilitates(self) -> bool:
        """Whether this member facilitates the meeting (as long as they are in it)."""
        return self.role == FACILITATOR and self.is_active


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
    first_discussed_at = DateTimeField(null=True)
    discussion_started_at = DateTimeField(null=True)
    discussed_seconds = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    # Titles of the topics merged into this one, oldest first, as a JSON list (services/merging.py).
    merged_from = TextField(default="", constraints=[SQL("DEFAULT ''")])
    # Written while the meeting hid authors: nobody but the author ever learns who wrote it.
    anonymous = BooleanField(default=False, constraints=[SQL("DEFAULT FALSE")])
    # Written privately and not revealed yet: its author's alone, and only ever in To Discuss.
    unrevealed = BooleanField(default=False,
                              constraints=[SQL("DEFAULT FALSE"), Check("unrevealed = FALSE OR status = 'to_discuss'")])


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


class ThumbsVote(BaseModel):
    """A participant's thumb when a timebox ran out: one per person per round (unique index)."""

    id = AutoField()
    meeting = ForeignKeyField(Meeting, on_delete="CASCADE")
    topic = ForeignKeyField(Topic, backref="thumbs", on_delete="CASCADE")
    round = IntegerField()
    user = ForeignKeyField(User, on_delete="CASCADE")
    choice = CharField(max_length=8, constraints=[_one_of("choice", THUMBS_CHOICES)])

    class Meta:
        indexes = ((("topic", "round", "user"), True),)


class ThumbsRound(BaseModel):
    """The recorded outcome of one timebox: the thumbs counted and what the facilitator chose."""

    id = AutoField()
    meeting = ForeignKeyField(Meeting, on_delete="CASCADE")
    topic = ForeignKeyField(Topic, backref="rounds", on_delete="CASCADE")
    round = IntegerField()
    timebox_seconds = IntegerField()
    up = IntegerField(default=0)
    neutral = IntegerField(default=0)
    down = IntegerField(default=0)
    outcome = CharField(max_length=10, constraints=[_one_of("outcome", (CONTINUE, MOVE_ON))])
    decided_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("topic", "round"), True),)


class Note(BaseModel):
    """A takeaway or an action item (with an optional owner) captured on a topic."""

    id = AutoField()
    meeting = ForeignKeyField(Meeting, on_delete="CASCADE")
    topic = ForeignKeyField(Topic, backref="notes", on_delete="CASCADE")
    author = ForeignKeyField(User)
    kind = CharField(max_length=10, constraints=[_one_of("kind", (TAKEAWAY, ACTION))])
    text = TextField(constraints=[Check(f"length(text) BETWEEN 1 AND {NOTE_MAX}")])
    # An action's owner is a participant of a meeting listing the note (services/notes.py), or a name typed: never both.
    owner = CharField(max_length=NAME_MAX, default="")
    owner_participant = ForeignKeyField(
        Participant, null=True, constraints=[Check("owner_participant_id IS NULL OR owner = ''")]
    )
    created_at = DateTimeField(default=utcnow)
    # Only an action is ever done; it may be marked done after its meeting is completed, and in any meeting it was carried to.
    done = BooleanField(default=False, constraints=[SQL("DEFAULT FALSE"), Check("done = FALSE OR kind = 'action'")])
    done_at = DateTimeField(null=True)


class DeviceLink(BaseModel):
    """A one-time link that signs another browser in as this user: only its hash is kept; it works once, briefly."""

    id = AutoField()
    user = ForeignKeyField(User, on_delete="CASCADE")
    token_hash = CharField(max_length=64, unique=True, constraints=[Check("length(token_hash) = 64")])
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(constraints=[Check("expires_at > created_at")])
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "device_link"


class CarriedNote(BaseModel):
    """An open action that Run again carried into a later meeting of its series: the same note, shown there too."""

    id = AutoField()
    meeting = ForeignKeyField(Meeting, on_delete="CASCADE")
    note = ForeignKeyField(Note, backref="carried", on_delete="CASCADE")

    class Meta:
        indexes = ((("meeting", "note"), True),)


class ApiToken(BaseModel):
    """A personal, read-only API token: only its SHA-256 is kept; it works until revoked (services/tokens.py)."""

    id = AutoField()
    user = ForeignKeyField(User, backref="api_tokens", on_delete="CASCADE")
    name = CharField(max_length=TOKEN_NAME_MAX, constraints=[Check(f"length(name) BETWEEN 1 AND {TOKEN_NAME_MAX}")])
    # Hex SHA-256 of the token: a leaked database gives no token that works.
    token_hash = CharField(max_length=64, unique=True, constraints=[Check("length(token_hash) = 64")])
    created_at = DateTimeField(default=utcnow)
    revoked_at = DateTimeField(null=True)


ALL_MODELS = [User, Series, Meeting, Participant, Topic, Vote, ThumbsVote, ThumbsRound, Note, DeviceLink, CarriedNote, ApiToken]
