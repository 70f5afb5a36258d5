"""The background sender: one greenlet per process claims due deliveries, sends them, and records how it went.

A claim is one UPDATE (PostgreSQL: of rows picked `FOR UPDATE SKIP LOCKED`, so several workers never take the
same one) that leases the delivery to this sender; a sender that dies leaves it to be claimed again when the
lease runs out. A failed attempt is retried after 10 s, doubling up to 1 h, from the database, so retries
survive a restart; 10 failures in a row turn the webhook off, with the reason shown to its facilitators.
"""

import logging
from datetime import timedelta

from peewee import PostgresqlDatabase

from leancoffee import metrics
from leancoffee.db import db
from leancoffee.logs import event
from leancoffee.models import utcnow
from leancoffee.webhooks.delivery import Attempt, Result, send
from leancoffee.webhooks.tables import DELIVERED, PENDING, SENDING, Webhook, WebhookDelivery

log = logging.getLogger("leancoffee.webhooks")
DISABLE_AFTER = 10
LEASE_SECONDS = 120
BATCH = 10


def _due(now):
    waiting = (WebhookDelivery.status == PENDING) & (WebhookDelivery.next_attempt_at <= now)
    abandoned = (WebhookDelivery.status == SENDING) & (WebhookDelivery.lease_until < now)
    enabled = Webhook.select(Webhook.id).where(Webhook.enabled)
    return (waiting | abandoned) & WebhookDelivery.webhook.in_(enabled)


def claim(limit: int = BATCH) -> list[Attempt]:
    """Lease up to `limit` due deliveries to this sender (each attempt counted now); what to send for each."""
    now = utcnow()
    picked = WebhookDelivery.select(WebhookDelivery.id).where(_due(now)).order_by(WebhookDelivery.next_attempt_at).limit(limit)
    if isinstance(db.obj, PostgresqlDatabase):
        picked = picked.for_update("FOR UPDATE SKIP LOCKED")
    with db.atomic():
        ids = [row.id for row in WebhookDelivery.update(
            status=SENDING, lease_until=now + timedelta(seconds=LEASE_SECONDS), attempts=WebhookDelivery.attempts + 1,
        ).where(WebhookDelivery.id.in_(picked)).returning(WebhookDelivery.id).execute()]
    if not ids:
        return []
    rows = (WebhookDelivery.select(WebhookDelivery, Webhook).join(Webhook).where(WebhookDelivery.id.in_(ids))
            .order_by(WebhookDelivery.id))
    return [Attempt(r.uid, r.event, r.attempts, r.body, r.webhook.url, r.webhook.secret) for r in rows]


def backoff(attempts: int, first: float, most: float) -> float:
    """Seconds before the next attempt after `attempts` failed ones: first, doubling, at most `most`."""
    return min(most, first * 2 ** min(max(attempts - 1, 0), 30))


def record(attempt: Attempt, result: Result, first: float = 10, most: float = 3600) -> None:
    """Store an attempt's outcome, if the delivery is still this sender's (a lease taken over is left to its new sender)."""
    now = utcnow()
    mine = ((WebhookDelivery.uid == attempt.uid) & (WebhookDelivery.status == SENDING)
            & (WebhookDelivery.attempts == attempt.attempt))
    with db.atomic():
        row = WebhookDelivery.select(WebhookDelivery.id, WebhookDelivery.webhook).where(mine).first()
        if row is None:
            return
        if result.delivered:
            WebhookDelivery.update(status=DELIVERED, response_code=result.code, delivered_at=now, lease_until=None,
                                   last_error="").where(WebhookDelivery.id == row.id).execute()
            Webhook.update(consecutive_failures=0).where(Webhook.id == row.webhook_id).execute()
        else:
            WebhookDelivery.update(
                status=PENDING, response_code=result.code, last_error=result.error[:200], lease_until=None,
                next_attempt_at=now + timedelta(seconds=backoff(attempt.attempt, first, most)),
            ).where(WebhookDelivery.id == row.id).execute()
            _count_failure(row.webhook_id, result.error)
    outcome = "delivered" if result.delivered else "refused" if result.refused else "failed"
    metrics.WEBHOOK_DELIVERIES.labels(outcome).inc()
    event(log, "webhook_delivery", logging.INFO if result.delivered else logging.WARNING, outcome=outcome,
          webhook=row.webhook_id, delivery=attempt.uid, attempt=attempt.attempt, code=result.code or "-")


def _count_failure(webhook_id: int, error: str) -> None:
    Webhook.update(consecutive_failures=Webhook.consecutive_failures + 1).where(Webhook.id == webhook_id).execute()
    Webhook.update(enabled=False, disabled_reason=error[:200] or "failed").where(
        (Webhook.id == webhook_id) & Webhook.enabled & (Webhook.consecutive_failures >= DISABLE_AFTER)).execute()


def run_once(config: dict, spawn=None) -> int:
    """Claim and send what is due now; how many were sent. `spawn` sends them side by side (gevent), else in turn."""
    attempts = claim()

    def one(attempt: Attempt) -> None:
        result = send(attempt, config["WEBHOOKS_ALLOW_NETWORKS"], config["WEBHOOKS_TIMEOUT_SECONDS"])
        with db.connection_context():
            record(attempt, result, config["WEBHOOKS_RETRY_SECONDS"], config["WEBHOOKS_RETRY_MAX_SECONDS"])

    if spawn is None:
        for attempt in attempts:
            one(attempt)
    else:
        spawn(one, attempts)
    return len(attempts)


class Sender:
    """This process's sender greenlet. `stop` lets the attempts under way finish and be recorded: a worker stopped for
    a deploy would otherwise leave them to be sent again once their lease ran out."""

    def __init__(self, app):
        import gevent.event

        self.app = app
        self.stopping = gevent.event.Event()
        self.greenlet = gevent.spawn(self._loop)

    def _loop(self) -> None:
        import gevent

        def side_by_side(fn, items):
            gevent.joinall([gevent.spawn(fn, item) for item in items])

        while not self.stopping.is_set():
            sent = 0
            try:
                with self.app.app_context(), db.connection_context():
                    sent = run_once(self.app.config, side_by_side)
            except Exception as error:  # the database away, say: the queue waits in it, try again later
                event(log, "webhook_sender_error", logging.ERROR, error=f"{type(error).__name__}: {error}")
                metrics.ERRORS.labels("webhook_sender").inc()
            if not sent:
                self.stopping.wait(self.app.config["WEBHOOKS_POLL_SECONDS"])

    def stop(self) -> None:
        """Claim nothing more; wait for the attempts under way (each is bounded by WEBHOOKS_TIMEOUT_SECONDS)."""
        self.stopping.set()
        self.greenlet.join(timeout=self.app.config["WEBHOOKS_TIMEOUT_SECONDS"] + 2)


def start(app) -> Sender | None:
    """Start this process's sender (app.py, wsgi.py), unless WEBHOOKS_SENDER=off; kept in app.extensions to be stopped."""
    if app.config.get("WEBHOOKS_SENDER", "on") == "off":
        return None
    running = app.extensions["webhook_sender"] = Sender(app)
    return running


def stop(app) -> None:
    """Stop this process's sender, if it has one (app.py's shutdown, gunicorn's worker stop)."""
    running = getattr(app, "extensions", {}).get("webhook_sender")
    if running is not None:
        running.stop()
