"""Deliveries queued in the transaction of the change that causes them (a topic discussed, a meeting finished).

Listening to services/outbox.py: when a change commits, its deliveries exist; when it rolls back, they never did.
Each webhook's log keeps its last 100 deliveries.
"""

import logging
import uuid

from leancoffee import metrics
from leancoffee.db import db
from leancoffee.logs import event
from leancoffee.models import Meeting
from leancoffee.services import outbox
from leancoffee.webhooks import payloads
from leancoffee.webhooks.tables import DELIVERED, MEETING_FINISHED, TOPIC_DISCUSSED, Webhook, WebhookDelivery

LOG_SIZE = 100
log = logging.getLogger("leancoffee.webhooks")


def subscribed(meeting: Meeting, kind: str) -> list[Webhook]:
    """The webhooks on, of the meeting or of its series, that send events of this kind."""
    wants = Webhook.on_finished if kind == MEETING_FINISHED else Webhook.on_topic
    owner = Webhook.meeting == meeting.id
    if meeting.series_id:
        owner |= Webhook.series == meeting.series_id
    return list(Webhook.select().where(owner & Webhook.enabled & wants).order_by(Webhook.id))


def enqueue(kind: str, meeting: Meeting, topic_id: int | None = None) -> list[WebhookDelivery]:
    """Inside the change's transaction: one delivery per subscribed webhook, its body rendered for its format now.

    Never fails the change: whatever goes wrong here is rolled back to a savepoint, logged and counted, and the
    change commits without its deliveries.
    """
    hooks = subscribed(meeting, kind)
    if not hooks:
        return []
    try:
        with db.atomic():  # a savepoint
            return _write(kind, meeting, topic_id, hooks)
    except Exception as error:
        event(log, "webhook_enqueue_failed", logging.ERROR, meeting=meeting.id, kind=kind,
                  error=f"{type(error).__name__}: {error}")
        metrics.ERRORS.labels("webhook_enqueue").inc()
        return []


def _write(kind: str, meeting: Meeting, topic_id: int | None, hooks: list[Webhook]) -> list[WebhookDelivery]:
    doc = payloads.document(kind, meeting, topic_id)
    bodies: dict[str, str] = {}
    made = []
    for hook in hooks:
        body = bodies.get(hook.format) or bodies.setdefault(hook.format, payloads.render(hook.format, doc))
        made.append(WebhookDelivery.create(webhook=hook.id, uid=str(uuid.uuid4()), event=kind, body=body))
        prune(hook.id)
    return made


def prune(webhook_id: int) -> None:
    """Keep the webhook's last LOG_SIZE deliveries, and every one not delivered yet: a webhook that is off, or whose
    receiver is away, keeps its whole queue (turning it on sends what waited)."""
    oldest_kept = (WebhookDelivery.select(WebhookDelivery.id).where(WebhookDelivery.webhook == webhook_id)
                   .order_by(WebhookDelivery.id.desc()).offset(LOG_SIZE - 1).limit(1).scalar())
    if oldest_kept is not None:
        WebhookDelivery.delete().where((WebhookDelivery.webhook == webhook_id) & (WebhookDelivery.id < oldest_kept)
                                       & (WebhookDelivery.status == DELIVERED)).execute()


def _topic_discussed(meeting: Meeting, topic_id: int | None) -> None:
    enqueue(TOPIC_DISCUSSED, meeting, topic_id)


def _meeting_finished(meeting: Meeting, topic_id: int | None) -> None:
    enqueue(MEETING_FINISHED, meeting)


def install() -> None:
    """Queue deliveries from now on (create_app calls it)."""
    outbox.listen(outbox.TOPIC_DISCUSSED, _topic_discussed)
    outbox.listen(outbox.MEETING_FINISHED, _meeting_finished)
