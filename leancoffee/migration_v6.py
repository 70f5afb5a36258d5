"""Schema version 6, real teams: the facilitator role on each membership row, namesakes' numbers, meeting settings for
authors and private writing, anonymous and unrevealed topics, device links (a step of migrations.py, kept whole here)."""

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
    SqliteDatabase,
)
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

from leancoffee.db import db
from leancoffee.models import utcnow


def real_teams() -> None:
    """Version 6, real teams: several facilitators, names told apart, anonymous and private topics, device links."""
    migrator = SqliteMigrator(db) if isinstance(db.obj, SqliteDatabase) else PostgresqlMigrator(db)
    false, true = SQL("DEFAULT FALSE"), SQL("DEFAULT TRUE")
    migrate(
        migrator.add_column("meeting", "show_authors", BooleanField(default=True, constraints=[true])),
        migrator.add_column("meeting", "private_writing", BooleanField(default=False, constraints=[false])),
        migrator.add_column("topic", "anonymous", BooleanField(default=False, constraints=[false])),
        migrator.add_column("topic", "unrevealed", BooleanField(default=False, constraints=[
            false, Check("unrevealed = FALSE OR status = 'to_discuss'")])),
        migrator.add_column("participant", "name_number", IntegerField(default=1, constraints=[
            SQL("DEFAULT 1"), Check("name_number >= 1")])),
    )
    # The role column becomes the truth: the meeting's creator facilitates, everyone else takes part.
    db.execute_sql("UPDATE participant SET role = CASE WHEN user_id = (SELECT facilitator_id FROM meeting "
                   "WHERE meeting.id = participant.meeting_id) THEN 'facilitator' ELSE 'participant' END")
    # Namesakes already in a meeting are numbered by join order, as joins now do.
    rows = db.execute_sql("SELECT id, meeting_id, name FROM participant ORDER BY meeting_id, joined_at, id").fetchall()
    seen: dict = {}
    for row_id, meeting_id, name in rows:
        number = seen[(meeting_id, name)] = seen.get((meeting_id, name), 0) + 1
        if number > 1:
            db.execute_sql(f"UPDATE participant SET name_number = {int(number)} WHERE id = {int(row_id)}")
    migrate(migrator.add_index("participant", ("meeting_id", "name", "name_number"), True))
    db.create_tables([_device_link_table()])


def _device_link_table():
    """The device_link table as version 6 makes it (frozen here: the live model may change later)."""

    class User(Model):
        id = AutoField()

        class Meta:
            database = db
            table_name = "user"

    class DeviceLink(Model):
        id = AutoField()
        user = ForeignKeyField(User, on_delete="CASCADE")
        token_hash = CharField(max_length=64, unique=True, constraints=[Check("length(token_hash) = 64")])
        created_at = DateTimeField(default=utcnow)
        expires_at = DateTimeField(constraints=[Check("expires_at > created_at")])
        used_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "device_link"

    return DeviceLink
