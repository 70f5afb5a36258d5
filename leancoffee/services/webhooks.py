"""A facilitator's webhooks, of a meeting or of a series: add (the secret shown once), list, turn off and on,
delete, and resend a delivery. Deliveries are queued by leancoffee/webhooks/queue.py and sent by its sender."""

import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext

from leancoffee.db import db
from leancoffee.models import Meeting, Series, User, utcnow
from leancoffee.services.access import find_meeting, membership, require_facilitator
from leancoffee.services.errors import Conflict, Invalid, NotFound
from leancoffee.services.series import NO_SUCH_SERIES, current_meeting, find_series
from leancoffee.services.validation import row_id
from leancoffee.webhooks.addresses import check_url
from leancoffee.webhooks.tables import (
    EVENTS,
    FORMATS,
    MEETING_FINISHED,
    PENDING,
    SENDING,
    TOPIC_DISCUSSED,
    Webhook,
    WebhookDelivery,
)

MAX_WEBHOOKS = 10
SECRET_PREFIX = "whsec_"


@dataclass(frozen=True)
class Place:
    """What the webhooks belong to: a meeting, or a series (every meeting of it); `meeting` is the series' current one."""

    meeting: Meeting
    series: Series | None = None

    @property
    def owns(self):
        """The condition selecting this place's webhooks."""
        return Webhook.series == self.series.id if self.series else Webhook.meeting == self.meeting.id


@dataclass(frozen=True)
class NewWebhook:
    """A webhook just added: `secret` is shown to the facilitator this once."""

    webhook: Webhook
    secret: str


def meeting_place(user: User | None, code) -> Place:
    """A meeting's webhooks, for its facilitators only (Forbidden for its other members and everyone else)."""
    meeting = find_meeting(code)
    require_facilitator(meeting, user)
    return Place(meeting)


def series_place(user: User | None, series_code) -> Place:
    """A series' webhooks, for the facilitators of its current meeting; a stranger learns nothing of the series."""
    series = find_series(series_code)
    meeting = current_meeting(series)
    if membership(meeting, user) is None:
        raise NotFound(NO_SUCH_SERIES)
    require_facilitator(meeting, user)
    return Place(meeting, series)


def parse_events(values) -> tuple[bool, bool]:
    """The events ticked: (meeting finished, each topic discussed); at least one, and only known ones."""
    chosen = {str(v) for v in values or ()}
    if chosen - set(EVENTS):
        raise Invalid(gettext("Unknown event: choose “meeting finished” and/or “each topic discussed”."))
    if not chosen:
        raise Invalid(gettext("Choose at least one event to send."))
    return MEETING_FINISHED in chosen, TOPIC_DISCUSSED in chosen


def add_webhook(user: User, place: Place, url, fmt, events) -> NewWebhook:
    """A new webhook of the place, checked (URL, format, events, where it leads) before anything is saved."""
    if fmt not in FORMATS:
        raise Invalid(gettext("Unknown format: choose JSON, Slack, Mattermost or Microsoft Teams."))
    on_finished, on_topic = parse_events(events)
    target_url = str(url).strip()
    check_url(target_url, current_app.config["WEBHOOKS_ALLOW_NETWORKS"])
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with db.atomic():
        place = _recheck(user, place)
        if Webhook.select().where(place.owns).count() >= MAX_WEBHOOKS:
            raise Conflict(gettext("There are already %(most)s webhooks here: delete one first.", most=MAX_WEBHOOKS))
        owner = {"series": place.series.id} if place.series else {"meeting": place.meeting.id}
        webhook = Webhook.create(**owner,
                                 url=target_url, format=fmt, secret=secret, on_finished=on_finished, on_topic=on_topic,
                                 created_by=user.id)
    return NewWebhook(webhook, secret)


def _recheck(user: User, place: Place) -> Place:
    """Inside the verb's transaction: the acting user still facilitates (the role may have been taken back meanwhile)."""
    return series_place(user, place.series.code) if place.series else meeting_place(user, place.meeting.code)


def _find(place: Place, webhook_id) -> Webhook:
    number = row_id(webhook_id)
    webhook = Webhook.select().where(place.owns & (Webhook.id == number)).first() if number else None
    if webhook is None:
        raise NotFound(gettext("That webhook does not exist here (it may have been deleted)."))
    return webhook


def webhooks_of(place: Place) -> list[Webhook]:
    """The place's webhooks, oldest first."""
    return list(Webhook.select().where(place.owns).order_by(Webhook.id))


def deliveries_of(webhooks: list[Webhook], most: int = 100) -> dict[int, list[WebhookDelivery]]:
    """Each webhook's log: its last `most` deliveries, newest first (without their bodies)."""
    fields = [f for f in WebhookDelivery._meta.sorted_fields if f.name != "body"]
    return {w.id: list(WebhookDelivery.select(*fields).where(WebhookDelivery.webhook == w.id)
                       .order_by(WebhookDelivery.id.desc()).limit(most)) for w in webhooks}


def delete_webhook(user: User, place: Place, webhook_id) -> Webhook:
    """Delete a webhook with its log and whatever it had queued."""
    with db.atomic():
        webhook = _find(_recheck(user, place), webhook_id)
        webhook.delete_instance(recursive=True)
    return webhook


def set_enabled(user: User, place: Place, webhook_id, enabled: bool) -> Webhook:
    """Turn a webhook off (nothing more is sent; its queue waits) or on again (its failures count from zero)."""
    with db.atomic():
        webhook = _find(_recheck(user, place), webhook_id)
        Webhook.update(enabled=bool(enabled), consecutive_failures=0, disabled_reason="").where(
            Webhook.id == webhook.id).execute()
    return webhook


def resend(user: User, place: Place, webhook_id, delivery_id) -> WebhookDelivery:
    """Send a delivery again, soon, with its delivery id (the receiver may know it already)."""
    number = row_id(delivery_id)
    with db.atomic():
        webhook = _find(_recheck(user, place), webhook_id)
        if not webhook.enabled:
            raise Conflict(gettext("This webhook is off: turn it on first."))
        delivery = (WebhookDelivery.select().where((WebhookDelivery.webhook == webhook.id) & (WebhookDelivery.id == number))
                    .first() if number else None)
        if delivery is None:
            raise NotFound(gettext("That delivery is no longer in the log."))
        # Not while a sender holds it: the check is in the UPDATE, so a claim committed since the read above counts too.
        queued = WebhookDelivery.update(status=PENDING, next_attempt_at=utcnow(), lease_until=None).where(
            (WebhookDelivery.id == delivery.id) & (WebhookDelivery.status != SENDING)).execute()
        if not queued:
            raise Conflict(gettext("That delivery is being sent right now."))
    return delivery

