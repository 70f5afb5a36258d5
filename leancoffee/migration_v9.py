"""Schema version 9, time for the whole meeting and voting progress (a step of migrations.py, kept whole here)."""

from peewee import SQL, BooleanField, Check, IntegerField, SqliteDatabase
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

from leancoffee.db import db


def meeting_time() -> None:
    """Version 10: optional timeboxes for collecting and voting, a planned length, and "I'm done voting" per participant."""
    migrator = SqliteMigrator(db) if isinstance(db.obj, SqliteDatabase) else PostgresqlMigrator(db)
    migrate(
        migrator.add_column("meeting", "collecting_seconds", IntegerField(
            null=True, constraints=[Check("collecting_seconds BETWEEN 1 AND 7200")])),
        migrator.add_column("meeting", "voting_seconds", IntegerField(
            null=True, constraints=[Check("voting_seconds BETWEEN 1 AND 7200")])),
        migrator.add_column("meeting", "planned_minutes", IntegerField(
            null=True, constraints=[Check("planned_minutes BETWEEN 1 AND 600")])),
        migrator.add_column("participant", "done_voting", BooleanField(default=False, constraints=[SQL("DEFAULT FALSE")])),
    )
