"""Schema version 8, the read API's personal tokens (a step of migrations.py, kept whole here)."""

from peewee import AutoField, CharField, Check, DateTimeField, ForeignKeyField, Model

from leancoffee.db import db
from leancoffee.models import utcnow


def api_tokens() -> None:
    """Version 8, the read API: personal tokens, each kept as the SHA-256 of its secret."""

    class User(Model):
        id = AutoField()

        class Meta:
            database = db
            table_name = "user"

    class ApiToken(Model):
        id = AutoField()
        user = ForeignKeyField(User, on_delete="CASCADE")
        name = CharField(max_length=60, constraints=[Check("length(name) BETWEEN 1 AND 60")])
        token_hash = CharField(max_length=64, unique=True, constraints=[Check("length(token_hash) = 64")])
        created_at = DateTimeField(default=utcnow)
        revoked_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "apitoken"

    db.create_tables([ApiToken])
