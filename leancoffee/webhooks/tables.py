"""The webhook tables: a meeting's or a series' webhooks, and their deliveries queued in the database."""

from peewee import SQL, AutoField, BooleanField, CharField, Check, DateTimeField, ForeignKeyField, IntegerField, TextField

from leancoffee.models import ALL_MODELS, BaseModel, Meeting, Series, User, utcnow

URL_MAX = 2000
FORMATS = ("json", "slack", "mattermost", "teams")
MEETING_FINISHED, TOPIC_DISCUSSED = "meeting.finished", "topic.discussed"
EVENTS = (MEETING_FINISHED, TOPIC_DISCUSSED)
PENDING, SENDING, DELIVERED = "pending", "sending", "delivered"
DELIVERY_STATUSES = (PENDING, SENDING, DELIVERED)
ERROR_MAX = 200


def _one_of(column: str, values) -> Check:
    return Check(f"{column} IN ({', '.join(repr(v) for v in values)})")


class Webhook(BaseModel):
    """Where a meeting's (or every meeting of a series') events are sent, signed with its own secret."""

    id = AutoField()
    # Exactly one of the two: a meeting's webhook, or a series' (every meeting of it, the next ones too).
    meeting = ForeignKeyField(Meeting, null=True, on_delete="CASCADE")
    series = ForeignKeyField(Series, null=True, on_delete="CASCADE",
                             constraints=[Check("(meeting_id IS NULL) <> (series_id IS NULL)")])
    url = CharField(max_length=URL_MAX, constraints=[Check(f"length(url) BETWEEN 1 AND {URL_MAX}")])
    format = CharField(max_length=16, constraints=[_one_of("format", FORMATS)])
    # Signs every delivery (HMAC-SHA256); kept as it is, since signing needs it, and shown once, at creation.
    secret = CharField(max_length=64, constraints=[Check("length(secret) >= 32")])
    on_finished = BooleanField(default=True)
    on_topic = BooleanField(default=False, constraints=[Check("on_finished OR on_topic")])
    enabled = BooleanField(default=True, constraints=[SQL("DEFAULT TRUE")])
    consecutive_failures = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    # Why the sender turned it off (the last error), empty when a facilitator did or it is on.
    disabled_reason = CharField(max_length=ERROR_MAX, default="", constraints=[SQL("DEFAULT ''")])
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


class WebhookDelivery(BaseModel):
    """One event for one webhook: written in the transaction of the change that caused it, sent by the sender."""

    id = AutoField()
    webhook = ForeignKeyField(Webhook, backref="deliveries", on_delete="CASCADE")
    # The receiver's idempotency key (X-LeanCoffee-Delivery): the same on every attempt and on a resend.
    uid = CharField(max_length=36, unique=True)
    event = CharField(max_length=32, constraints=[_one_of("event", EVENTS)])
    body = TextField()
    status = CharField(max_length=10, default=PENDING, constraints=[_one_of("status", DELIVERY_STATUSES)])
    attempts = IntegerField(default=0, constraints=[Check("attempts >= 0")])
    next_attempt_at = DateTimeField(default=utcnow)
    # A claimed delivery belongs to its sender until then; after it (a sender that died), any sender may take it.
    lease_until = DateTimeField(null=True)
    response_code = IntegerField(null=True)
    last_error = CharField(max_length=ERROR_MAX, default="")
    created_at = DateTimeField(default=utcnow)
    delivered_at = DateTimeField(null=True)

    class Meta:
        table_name = "webhook_delivery"
        indexes = ((("status", "next_attempt_at"), False), (("webhook", "id"), False))


EVERY_MODEL = [*ALL_MODELS, Webhook, WebhookDelivery]
