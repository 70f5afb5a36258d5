"""Deliveries queued in the transaction of the change that causes them (a topic discussed, a meeting finished).

Listening to services/outbox.py: when a change commits, its deliveries exist; when it rolls back, they never did.
Each webhook's log keeps its last 100 deliveries.
"""

import uuid

from leancoffee.models import Meeting
from leancoffee.services import outbox
from leancoffee.webhooks import payloads
from leancoffee.webhooks.tables import MEETING_FINISHED, TOPIC_DISCUSSED, Webhook, WebhookDelivery

LOG_SIZE = 100


def subscribed(meeting: Meeting, event: str) -> list[Webhook]:
    """The webhooks on, of the meeting or of its series, that send `event`."""
    wants = Webhook.on_finished if event == MEETING_FINISHED else Webhook.on_topic
    owner = Webhook.meeting == meeting.id
    if meeting.series_id:
        owner |= Webhook.series == meeting.series_id
    return list(Webhook.select().where(owner & Webhook.enabled & wants).order_by(Webhook.id))


def enqueue(event: str, meeting: Meeting, topic_id: int | None = None) -> list[WebhookDelivery]:
    """Inside the change's transaction: one delivery per subscribed webhook, its body rendered for its format now."""
    hooks = subscribed(meeting, event)
    if not hooks:
        return []
    doc = payloads.document(event, meeting, topic_id)
    bodies: dict[str, str] = {}
    made = []
    for hook in hooks:
        body = bodies.get(hook.format) or bodies.setdefault(hook.format, payloads.render(hook.format, doc))
        made.append(WebhookDelivery.create(webhook=hook.id, uid=str(uuid.uuid4()), event=event, body=body))
        prune(hook.id)
    return made


def prune(webhook_id: int) -> None:
    """Keep the webhook's last LOG_SIZE deliveries."""
    oldest_kept = (WebhookDelivery.select(WebhookDelivery.id).where(WebhookDelivery.webhook == webhook_id)
                   .order_by(WebhookDelivery.id.desc()).offset(LOG_SIZE - 1).limit(1).scalar())
    if oldest_kept is not None:
        WebhookDelivery.delete().where((WebhookDelivery.webhook == webhook_id) & (WebhookDelivery.id < oldest_kept)).execute()


def _topic_discussed(meeting: Meeting, topic_id: int | None) -> None:
    enqueue(TOPIC_DISCUSSED, meeting, topic_id)


def _meeting_finished(meeting: Meeting, topic_id: int | None) -> None:
    enqueue(MEETING_FINISHED, meeting)


def install() -> None:
    """Queue deliveries from now on (create_app calls it)."""
    outbox.listen(outbox.TOPIC_DISCUSSED, _topic_discussed)
    outbox.listen(outbox.MEETING_FINISHED, _meeting_finished)
