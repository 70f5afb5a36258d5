"""Schema version 7, actions that last and meeting series: frozen, like every migration step (see migrations.py)."""

from peewee import SQL, AutoField, BooleanField, CharField, Check, DateTimeField, ForeignKeyField, Model, SqliteDatabase
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

from leancoffee.db import db
from leancoffee.models import utcnow


def actions_and_series() -> None:
    """Version 7: series of meetings, an action's owner picked among participants, done actions, carried actions."""

    class Base(Model):
        class Meta:
            database = db

    class Series(Base):
        id = AutoField()
        code = CharField(max_length=32, unique=True)
        created_at = DateTimeField(default=utcnow)

    class Meeting(Base):
        id = AutoField()

    class Participant(Base):
        id = AutoField()

    class Note(Base):
        id = AutoField()

    class CarriedNote(Base):
        id = AutoField()
        meeting = ForeignKeyField(Meeting, on_delete="CASCADE")
        note = ForeignKeyField(Note, on_delete="CASCADE")

        class Meta:
            table_name = "carriednote"
            indexes = ((("meeting", "note"), True),)

    db.create_tables([Series, CarriedNote])
    migrator = SqliteMigrator(db) if isinstance(db.obj, SqliteDatabase) else PostgresqlMigrator(db)
    migrate(
        migrator.add_column("meeting", "series_id", ForeignKeyField(Series, null=True, field=Series.id, on_delete="SET NULL")),
        migrator.add_column("note", "owner_participant_id", ForeignKeyField(
            Participant, null=True, field=Participant.id, constraints=[Check("owner_participant_id IS NULL OR owner = ''")])),
        # Existing notes are open; the default lives in the database, so a row written by another tool is valid too.
        migrator.add_column("note", "done", BooleanField(default=False, constraints=[
            SQL("DEFAULT FALSE"), Check("done = FALSE OR kind = 'action'")])),
        migrator.add_column("note", "done_at", DateTimeField(null=True)),
    )
