"""Live updates: the hub of this worker's sockets and the publishing of committed changes.

Concurrency, said once: a server process is patched by gevent before anything else (app.py, and
gunicorn's gevent worker), and the live layer uses gevent's own primitives (greenlets, gevent.lock,
gevent.spawn_later) rather than threading that would only work through that patching.
"""

import logging
import time

import gevent
from flask import g, has_request_context

from leancoffee import metrics
from leancoffee.live.connection import SERVICE_RESTART
from leancoffee.live.fanout import VOTE_KINDS
from leancoffee.live.hub import Hub
from leancoffee.live.push import Deferred, Push
from leancoffee.logs import event
from leancoffee.services.changes import Change

log = logging.getLogger(__name__)


class Live:
    """The app's entry point to live updates (kept in app.extensions['live'])."""

    def __init__(self, app=None):
        self.hub: Hub | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app) -> None:
        self.hub = Hub(app)
        if app.config.get("REDIS_URL"):
            self._use_redis(app)
        app.extensions["live"] = self

    def _use_redis(self, app) -> None:
        """Several workers: changes cross them on Redis pub/sub, presence lives in Redis."""
        from redis import RedisError

        from leancoffee.live.backplane import RedisBackplane
        from leancoffee.live.redis_presence import RedisPresence

        client = redis_client(app.config["REDIS_URL"])
        hub = self.hub
        backplane = RedisBackplane(app, hub, client)
        presence = RedisPresence(
            client, app.config["REDIS_PREFIX"], backplane.worker_id, app.config["PRESENCE_GRACE_SECONDS"],
            app.config["WORKER_HEARTBEAT_SECONDS"], app.config["WORKER_TTL_SECONDS"], hub._presence_changed,
        )
        hub.backplane, hub.presence = backplane, presence

        def after_reconnect():
            # Presence may have been lost with Redis: write ours back now, and once every other worker
            # has had a heartbeat to do the same, show each local meeting who is here.
            def settle():
                try:
                    presence.heartbeat()
                except RedisError as error:
                    event(log, "presence_redis_error", logging.WARNING, op="heartbeat", error=error)
                gevent.sleep(presence.heartbeat_seconds * 1.5)
                for meeting_id in hub.meeting_ids():
                    hub._presence_changed(meeting_id, everywhere=False)

            gevent.spawn(settle)

        backplane.on_reconnect = after_reconnect
        backplane.start()
        presence.start()
        event(log, "backplane", kind="redis", url=app.config["REDIS_URL"].split("@")[-1])

    def relayed(self) -> bool:
        """Whether this request's change reached every worker (False while Redis is away)."""
        # Without sticky sessions the actor's own page may be on another worker: when the change could
        # not travel, the HTTP response must carry its fragments.
        return g.get("live_relayed", True)

    def shutdown(self) -> None:
        """Close every socket with 1012 (browsers come back, maybe to another worker) and retire from Redis."""
        self.hub.close_all()
        stop_presence = getattr(self.hub.presence, "stop", None)  # RedisPresence has background work
        if stop_presence is not None:
            stop_presence()
        self.hub.backplane.stop()

    def publish(self, change: Change) -> Push | None:
        """Send a committed change to every open page of its meeting, here and on every other worker.

        None when it could not be rendered here: the change is saved, so the error is logged and
        counted, and this worker's screens of the meeting get the whole board again instead.
        """
        committed_at = time.time()
        try:
            push = self.hub.dispatch(change, sent_at=committed_at,
                                     on_failure=lambda error: self._log_publish_failure(change, error))
        except Exception as error:  # a bug in rendering must not turn a saved action into a 500
            self._log_publish_failure(change, error)
            push = None
        # A vote's fragments travel with it, so other workers need not read and render it again; but only when
        # rendered for this worker's screens: rendering just to ship would cost every vote of a meeting with no
        # screen here, while the workers that have its screens render it once each anyway.
        rendered_here = not isinstance(push, Deferred) or push.asked
        shipped = push if change.kind in VOTE_KINDS and rendered_here else None
        relayed = self.hub.backplane.publish(change, committed_at, shipped)
        if has_request_context():
            g.live_relayed = relayed
        event(log, "broadcast", meeting=change.meeting_id, version=change.version, kind=change.kind,
              sockets=len(self.hub.connections_of(change.meeting_id)))
        return push

    def _log_publish_failure(self, change: Change, error: Exception) -> None:
        """A saved change failed to render here: told (log, metrics), and this worker's screens of it get the whole board."""
        metrics.ERRORS.labels("publish").inc()
        event(log, "publish_failed", logging.ERROR, exc_info=error, meeting=change.meeting_id,
              version=change.version, kind=change.kind, effect="saved; its screens get the whole board again")
        self._resync_after_failure(change.meeting_id)

    def _resync_after_failure(self, meeting_id: int) -> None:
        """Bring this worker's screens of a meeting up to date after a change failed to render."""
        try:
            self.hub.resync(meeting_id, "publish_failed")
        except Exception as error:  # the board itself fails to render: its screens catch up when they reconnect
            event(log, "resync_failed", logging.ERROR, exc_info=error, meeting=meeting_id, effect="its sockets are closed (1012)")
            for conn in self.hub.connections_of(meeting_id):
                conn.close(SERVICE_RESTART)


def redis_client(url: str):
    """A Redis client that fails fast: a request never waits long on a Redis that is away."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url, socket_connect_timeout=1, socket_timeout=2, health_check_interval=10, retry=Retry(NoBackoff(), 1)
    )


live = Live()
