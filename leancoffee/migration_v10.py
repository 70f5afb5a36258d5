"""Schema version 10, webhooks and their queued deliveries (a step of migrations.py, kept whole here)."""

from peewee import SQL, AutoField, BooleanField, CharField, Check, DateTimeField, ForeignKeyField, IntegerField, Model, TextField

from leancoffee.db import db
from leancoffee.models import utcnow


def _one_of(column: str, values) -> Check:
    return Check(f"{column} IN ({', '.join(repr(v) for v in values)})")


def webhooks() -> None:
    """Version 10: a meeting's or a series' webhooks (exactly one of the two), and deliveries queued in the database."""

    class Base(Model):
        id = AutoField()

        class Meta:
            database = db

    class User(Base):
        class Meta:
            table_name = "user"

    class Meeting(Base):
        class Meta:
            table_name = "meeting"

    class Series(Base):
        class Meta:
            table_name = "series"

    class Webhook(Base):
        meeting = ForeignKeyField(Meeting, null=True, on_delete="CASCADE")
        series = ForeignKeyField(Series, null=True, on_delete="CASCADE",
                                 constraints=[Check("(meeting_id IS NULL) <> (series_id IS NULL)")])
        url = CharField(max_length=2000, constraints=[Check("length(url) BETWEEN 1 AND 2000")])
        format = CharField(max_length=16, constraints=[_one_of("format", ("json", "slack", "mattermost", "teams"))])
        secret = CharField(max_length=64, constraints=[Check("length(secret) >= 32")])
        on_finished = BooleanField(default=True)
        on_topic = BooleanField(default=False, constraints=[Check("on_finished OR on_topic")])
        enabled = BooleanField(default=True, constraints=[SQL("DEFAULT TRUE")])
        consecutive_failures = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
        disabled_reason = CharField(max_length=200, default="", constraints=[SQL("DEFAULT ''")])
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField(default=utcnow)

        class Meta:
            table_name = "webhook"

    class WebhookDelivery(Base):
        webhook = ForeignKeyField(Webhook, on_delete="CASCADE")
        uid = CharField(max_length=36, unique=True)
        event = CharField(max_length=32, constraints=[_one_of("event", ("meeting.finished", "topic.discussed"))])
        body = TextField()
        status = CharField(max_length=10, default="pending", constraints=[_one_of("status", ("pending", "sending", "delivered"))])
        attempts = IntegerField(default=0, constraints=[Check("attempts >= 0")])
        next_attempt_at = DateTimeField(default=utcnow)
        lease_until = DateTimeField(null=True)
        response_code = IntegerField(null=True)
        last_error = CharField(max_length=200, default="")
        created_at = DateTimeField(default=utcnow)
        delivered_at = DateTimeField(null=True)

        class Meta:
            table_name = "webhook_delivery"
            indexes = ((("status", "next_attempt_at"), False), (("webhook", "id"), False))

    db.create_tables([Webhook, WebhookDelivery])
