"""Versioned schema migrations: each step runs once, in order, and is recorded in `schema_version`.

`python -m leancoffee.migrations` applies what is pending (the app also does so when it starts).
Each step is frozen: it describes the schema change of its version, never the models as they are
today, so a database of any earlier version can be brought up to date.
"""

import sys
from pathlib import Path

from peewee import (
    SQL,
    AutoField,
    BooleanField,
    CharField,
    Check,
    Database,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    SqliteDatabase,
    TextField,
)
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

from leancoffee.db import SCHEMA_LOCK_KEY, db, open_database
from leancoffee.migration_v6 import real_teams
from leancoffee.migration_v7 import actions_and_series
from leancoffee.migration_v8 import api_tokens
from leancoffee.migration_v9 import meeting_time
from leancoffee.migration_v10 import webhooks
from leancoffee.models import utcnow


class SchemaVersion(Model):
    """One applied migration."""

    version = IntegerField(primary_key=True)
    name = CharField(max_length=80)
    applied_at = DateTimeField(default=utcnow)

    class Meta:
        database = db
        table_name = "schema_version"


def _one_of(column, values):
    return Check(f"{column} IN ({', '.join(repr(v) for v in values)})")


def _v1_live_board() -> None:
    """Version 1, the live board: users, meetings, participants, topics and votes."""

    class Base(Model):
        class Meta:
            database = db

    class User(Base):
        id = AutoField()
        name = CharField(max_length=40)
        created_at = DateTimeField(default=utcnow)

    class Meeting(Base):
        id = AutoField()
        code = CharField(max_length=32, unique=True)
        title = CharField(max_length=120, constraints=[Check("length(title) BETWEEN 1 AND 120")])
        votes_per_person = IntegerField(default=3, constraints=[Check("votes_per_person BETWEEN 1 AND 10")])
        status = CharField(max_length=16, default="planned",
                           constraints=[_one_of("status", ("planned", "in_progress", "completed"))])
        facilitator = ForeignKeyField(User)
        created_at = DateTimeField(default=utcnow)
        started_at = DateTimeField(null=True)
        ended_at = DateTimeField(null=True)
        version = IntegerField(default=1)

    class Participant(Base):
        id = AutoField()
        meeting = ForeignKeyField(Meeting, on_delete="CASCADE")
        user = ForeignKeyField(User, on_delete="CASCADE")
        name = CharField(max_length=40, constraints=[Check("length(name) BETWEEN 1 AND 40")])
        role = CharField(max_length=16, default="participant", constraints=[_one_of("role", ("facilitator", "participant"))])
        is_active = BooleanField(default=True)
        joined_at = DateTimeField(default=utcnow)
        left_at = DateTimeField(null=True)

        class Meta:
            indexes = ((("meeting", "user"), True),)

    class Topic(Base):
        id = AutoField()
        meeting = ForeignKeyField(Meeting, on_delete="CASCADE")
        author = ForeignKeyField(User)
        title = CharField(max_length=120, constraints=[Check("length(title) BETWEEN 1 AND 120")])
        description = TextField(default="", constraints=[Check("length(description) <= 500")])
        status = CharField(max_length=16, default="to_discuss",
                           constraints=[_one_of("status", ("to_discuss", "discussing", "discussed"))])
        created_at = DateTimeField(default=utcnow)
        updated_at = DateTimeField(default=utcnow)
        moved_at = DateTimeField(default=utcnow)

    class Vote(Base):
        id = AutoField()
        meeting = ForeignKeyField(Meeting, on_delete="CASCADE")
        topic = ForeignKeyField(Topic, on_delete="CASCADE")
        user = ForeignKeyField(User, on_delete="CASCADE")
        created_at = DateTimeField(default=utcnow, constraints=[SQL("NOT NULL")])

        class Meta:
            indexes = ((("topic", "user"), True), (("meeting", "user"), False))

    db.create_tables([User, Meeting, Participant, Topic, Vote])


def _v2_facilitation() -> None:
    """Version 2, running the meeting: phases, hidden voting, the timer, thumbs rounds and notes."""
    migrator = SqliteMigrator(db) if isinstance(db.obj, SqliteDatabase) else PostgresqlMigrator(db)
    phases = ("collecting", "voting", "discussing", "done")
    new_columns = {
        ("meeting", "phase"): CharField(max_length=16, default="collecting",
                                        constraints=[SQL("DEFAULT 'collecting'"), _one_of("phase", phases)]),
        ("meeting", "hidden_voting"): BooleanField(default=False, constraints=[SQL("DEFAULT FALSE")]),
        ("meeting", "timebox_pattern"): CharField(max_length=80, default="8m 4m 2m", constraints=[SQL("DEFAULT '8m 4m 2m'")]),
        ("meeting", "timer_state"): CharField(max_length=8, default="idle", constraints=[
            SQL("DEFAULT 'idle'"), _one_of("timer_state", ("idle", "running", "paused"))]),
        ("meeting", "timer_ends_at"): DateTimeField(null=True),
        ("meeting", "timer_remaining"): FloatField(null=True),
        ("meeting", "timer_round"): IntegerField(default=0, constraints=[SQL("DEFAULT 0")]),
        ("topic", "first_discussed_at"): DateTimeField(null=True),
        ("topic", "discussion_started_at"): DateTimeField(null=True),
        # The defaults live in the database too, so a row written by hand or by another tool is valid.
        ("topic", "discussed_seconds"): IntegerField(default=0, constraints=[SQL("DEFAULT 0")]),
    }
    migrate(*(migrator.add_column(table, column, field) for (table, column), field in new_columns.items()))
    # Existing meetings: the phase their status implies.
    db.execute_sql("UPDATE meeting SET phase = 'done' WHERE status = 'completed'")
    from leancoffee.models import Participant, ThumbsRound, ThumbsVote, Topic  # new in this version, unchanged since

    class Note(Model):
        """The note as version 2 made it (frozen here: version 7 gave the model owner and done columns)."""

        id = AutoField()
        meeting = ForeignKeyField(Participant.meeting.rel_model, on_delete="CASCADE")
        topic = ForeignKeyField(Topic, on_delete="CASCADE")
        author = ForeignKeyField(Participant.user.rel_model)
        kind = CharField(max_length=10, constraints=[_one_of("kind", ("takeaway", "action"))])
        text = TextField(constraints=[Check("length(text) BETWEEN 1 AND 500")])
        owner = CharField(max_length=40, default="")
        created_at = DateTimeField(default=utcnow)

        class Meta:
            database = db
            table_name = "note"

    db.create_tables([ThumbsVote, ThumbsRound, Note])


def _v3_sign_out_everywhere() -> None:
    """Version 3, sign-out everywhere: a per-user generation that login cookies must match."""
    migrator = SqliteMigrator(db) if isinstance(db.obj, SqliteDatabase) else PostgresqlMigrator(db)
    generation = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    migrate(migrator.add_column("user", "session_generation", generation))


def _v4_room_link() -> None:
    """Version 4, the room link: each meeting's own secret for the projector (existing meetings get one here)."""
    import secrets

    class Meeting(Model):
        id = AutoField()
        room_secret = CharField(max_length=64, null=True)

        class Meta:
            database = db
            table_name = "meeting"

    migrator = SqliteMigrator(db) if isinstance(db.obj, SqliteDatabase) else PostgresqlMigrator(db)
    migrate(migrator.add_column("meeting", "room_secret", CharField(max_length=64, null=True)))
    for meeting_id in [row.id for row in Meeting.select(Meeting.id)]:
        Meeting.update(room_secret=secrets.token_urlsafe(24)).where(Meeting.id == meeting_id).execute()
    migrate(migrator.add_not_null("meeting", "room_secret"), migrator.add_index("meeting", ("room_secret",), True))


def _v5_merge_trace() -> None:
    """Version 5, the merge trace: a topic names the topics merged into it (a JSON list of titles)."""
    migrator = SqliteMigrator(db) if isinstance(db.obj, SqliteDatabase) else PostgresqlMigrator(db)
    merged_from = TextField(default="", constraints=[SQL("DEFAULT ''")])
    migrate(migrator.add_column("topic", "merged_from", merged_from))


MIGRATIONS = [
    (1, "live board", _v1_live_board),
    (2, "facilitation", _v2_facilitation),
    (3, "sign out everywhere", _v3_sign_out_everywhere),
    (4, "room link", _v4_room_link),
    (5, "merge trace", _v5_merge_trace),
    (6, "real teams", real_teams),
    (7, "actions and series", actions_and_series),
    (8, "api tokens", api_tokens),
    (9, "meeting time", meeting_time),
    (10, "webhooks", webhooks),
]
LATEST = MIGRATIONS[-1][0]


def current_version() -> int:
    """The schema version of the connected database (0 when empty)."""
    if SchemaVersion.table_exists():
        return SchemaVersion.select(SchemaVersion.version).order_by(SchemaVersion.version.desc()).scalar() or 0
    if not db.table_exists("meeting"):
        return 0
    # Made by create_tables from today's models (as before migrations existed): recognised by its newest columns.
    if db.table_exists("webhook_delivery"):
        return 10
    if "planned_minutes" in {c.name for c in db.get_columns("meeting")}:
        return 9
    return _version_before_migrations()


def _version_before_migrations() -> int:
    """The version of a database made before migrations existed, recognised by its columns."""
    if db.table_exists("apitoken"):
        return 8
    columns = {c.name for c in db.get_columns("meeting")}
    if "series_id" in columns:
        return 7
    if "phase" not in columns:
        return 1
    topic_columns = {c.name for c in db.get_columns("topic")}
    if "merged_from" in topic_columns:
        return 6 if "unrevealed" in topic_columns else 5
    if "room_secret" in columns:
        return 4
    return 3 if "session_generation" in {c.name for c in db.get_columns("user")} else 2


def upgrade(target: int = LATEST) -> list[int]:
    """Apply every pending migration up to `target`, each in its own transaction; returns those applied."""
    with db.connection_context():
        if isinstance(db.obj, SqliteDatabase):
            return _upgrade_locked(target)
        # Several workers start at once: one of them migrates, the others then find nothing to do.
        with db.atomic():
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
            return _upgrade_locked(target)


def _upgrade_locked(target: int) -> list[int]:
    found = current_version()
    db.create_tables([SchemaVersion], safe=True)
    for version, name, _ in MIGRATIONS:  # record what an older, unversioned database already has
        if version <= found:
            SchemaVersion.get_or_create(version=version, defaults={"name": name})
    applied = []
    sqlite = isinstance(db.obj, SqliteDatabase)
    for version, name, step in MIGRATIONS:
        if found < version <= target:
            if sqlite:
                # SQLite changes a column by rebuilding its table; with foreign keys enforced, dropping
                # the old meeting table would cascade-delete every topic and vote. (A no-op in a transaction.)
                db.execute_sql("PRAGMA foreign_keys = OFF")
            try:
                with db.atomic():
                    step()
                    SchemaVersion.create(version=version, name=name)
            finally:
                if sqlite:
                    db.execute_sql("PRAGMA foreign_keys = ON")
            applied.append(version)
    return applied


def init_db(url: str, pool_size: int = 20, busy_timeout_ms: int = 5000) -> Database:
    """Point the proxy at the database named by url, bring its schema up to date, and return the database."""
    database = open_database(url, pool_size, busy_timeout_ms)
    if isinstance(database, SqliteDatabase) and database.database != ":memory:":
        Path(database.database).parent.mkdir(parents=True, exist_ok=True)
    db.initialize(database)
    upgrade()
    return database


def main() -> None:
    """Apply pending migrations to the database named by DATABASE_URL and say what was done."""
    from leancoffee.config import load_config

    url = load_config()["DATABASE_URL"]
    db.initialize(open_database(url))
    applied = upgrade()
    with db.connection_context():
        print(f"schema version {current_version()} ({'applied ' + ', '.join(map(str, applied)) if applied else 'up to date'})")


if __name__ == "__main__":
    sys.exit(main())
