"""How changes cross workers: nowhere (one process), or Redis pub/sub with one channel per meeting.

A message carries the Change (plus who sent it, when, and the request id) and, for a vote, the
fragments its worker rendered; a receiver writes those as they are only when the vote is its very
next version (Hub.shipped), and otherwise renders the change from its own fresh read.

Every message is signed (leancoffee.live.sealed): whatever anyone else publishes on our channels is
dropped and counted, never written to a board.
"""

import logging
import time
from collections import deque

import gevent
from gevent.lock import Semaphore
from redis import RedisError

from leancoffee import metrics
from leancoffee.live.push import Push
from leancoffee.live.sealed import seal, signing_key, unseal
from leancoffee.logs import event, request_id, worker_id
from leancoffee.services.changes import Change

log = logging.getLogger(__name__)


class LocalBackplane:
    """One process: every socket is in this hub already, nothing to carry."""

    worker_id = "local"

    def room_opened(self, meeting_id: int) -> None:
        """This worker has its first socket in a meeting."""

    def room_closed(self, meeting_id: int) -> None:
        """This worker's last socket in a meeting closed."""

    def publish(self, change: Change, committed_at: float | None = None, rendered: Push | None = None) -> bool:
        """Tell the other workers (there are none): always delivered."""
        return True

    def ready(self) -> tuple[bool, str]:
        return True, "in-process"

    def stop(self) -> None:
        """Nothing runs in the background."""


class RedisBackplane:
    """Publishes this worker's changes and renders the other workers' ones for its own sockets."""

    # One greenlet owns the subscriber connection (redis-py's PubSub must not be shared), taking
    # subscribe and unsubscribe requests from a queue. Every subscription confirmation compares the
    # meeting's version in the database with what our sockets have, so a change published before the
    # subscription took effect, or while Redis was away, is repaired by a resync.

    def __init__(self, app, hub, client):
        self.app = app
        self.hub = hub
        self.redis = client
        self.prefix = app.config["REDIS_PREFIX"]
        self.gap_seconds = app.config["BACKPLANE_GAP_SECONDS"]
        self._key = signing_key(app.config["SECRET_KEY"])
        self.worker_id = worker_id()
        self.up = False
        self.on_reconnect = None  # set by Live: re-register presence when Redis comes back
        self._ever_up = False
        # Meetings whose subscription to change (the hub's LiveMeetings say which are wanted), and
        # meetings whose changes could not be published; per-meeting state lives on each LiveMeeting.
        self._requests: deque = deque()
        self._unsent: set[int] = set()
        self._lock = Semaphore()
        self._pubsub = None
        self._running = True
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> "RedisBackplane":
        self._greenlet = gevent.spawn(self._listen)
        return self

    def stop(self) -> None:
        self._running = False

    def channel(self, meeting_id: int) -> str:
        """The meeting's channel; the braces keep a meeting's keys on one Redis Cluster slot."""
        return f"{self.prefix}{{m{meeting_id}}}:changes"

    def room_opened(self, meeting_id: int) -> None:
        """The hub made the meeting's LiveMeeting: subscribe to its channel."""
        with self._lock:
            self._requests.append(meeting_id)

    def room_closed(self, meeting_id: int) -> None:
        """The hub dropped the meeting's LiveMeeting (and what was noted on it): unsubscribe."""
        with self._lock:
            self._requests.append(meeting_id)

    def publish(self, change: Change, committed_at: float | None = None, rendered: Push | None = None) -> bool:
        """Send a committed change to the meeting's channel; False (and a resync later) if Redis is away.

        `rendered`: the change as rendered here; its fragments travel along (Push.portable) and the
        other workers may write them as they are (Hub.shipped).
        """
        self._note(change.meeting_id, change.version)
        message = {"w": self.worker_id, "t": committed_at or time.time(), "rid": request_id.get(), "c": change.to_dict()}
        fragments = rendered.portable() if rendered is not None else None
        if fragments is not None:
            message["f"] = fragments
        if not self.up:
            self._mark_unsent(change.meeting_id)
            return False
        try:
            channel = self.channel(change.meeting_id)
            self.redis.publish(channel, seal(self._key, channel, message))
            metrics.BACKPLANE_MESSAGES.labels("published").inc()
            return True
        except RedisError as error:  # Redis went away mid-request: the action stands, its broadcast waits
            metrics.ERRORS.labels("redis").inc()
            event(log, "publish_failed", logging.WARNING, meeting=change.meeting_id, version=change.version, error=error)
            self._mark_unsent(change.meeting_id)
            return False

    def ready(self) -> tuple[bool, str]:
        try:
            self.redis.ping()
            return True, "ok"
        except RedisError as error:
            return False, f"unreachable: {error}"

    def _mark_unsent(self, meeting_id: int) -> None:
        metrics.BACKPLANE_MESSAGES.labels("unsent").inc()
        with self._lock:
            self._unsent.add(meeting_id)

    # --- the listener greenlet -------------------------------------------------------------

    def _listen(self) -> None:
        backoff = 0.2
        while self._running:
            try:
                if self._pubsub is None:
                    self._connect()
                    backoff = 0.2
                self._apply_requests()
                message = self._pubsub.get_message(timeout=0.05)  # short: new rooms wait for this loop
                if message is not None:
                    self._handle(message)
                self._flush_unsent()
                self._check_gaps()
            except Exception as error:  # Redis away (RedisError), or a bug in handling a message: both are logged
                if not isinstance(error, RedisError):
                    event(log, "backplane_error", logging.ERROR, exc_info=error, effect="resubscribing; screens resync")
                self._disconnected(error)
                gevent.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _connect(self) -> None:
        pubsub = self.redis.pubsub()
        with self._lock:
            self._requests.clear()
        wanted = self.hub.meeting_ids()
        # A channel of our own keeps the connection subscribed (and health-checked) when we have no rooms.
        pubsub.subscribe(f"{self.prefix}worker:{self.worker_id}", *(self.channel(m) for m in wanted))
        self._pubsub = pubsub
        was_down, self.up = not self.up, True
        metrics.redis_up().set(1)
        if was_down:
            event(log, "redis_up", meetings=len(wanted))
            # The first connection with no page open has nothing to restore (and a presence refresh
            # then would only re-render boards that open meanwhile).
            if self.on_reconnect is not None and (self._ever_up or wanted):
                self.on_reconnect()
            self._ever_up = True

    def _disconnected(self, error: Exception) -> None:
        if self.up:
            metrics.ERRORS.labels("redis").inc()
            event(log, "redis_down", logging.ERROR, error=error,
                  effect="actions still commit; other workers' changes wait; screens resync when Redis is back")
        self.up = False
        metrics.redis_up().set(0)
        if self._pubsub is not None:
            try:
                self._pubsub.close()
            except (RedisError, OSError):  # closing a connection that already broke: nothing left to do
                pass
        self._pubsub = None

    def _apply_requests(self) -> None:
        while True:
            with self._lock:
                if not self._requests:
                    return
                meeting_id = self._requests.popleft()
            wanted = meeting_id in self.hub.meetings
            name = self.channel(meeting_id)
            subscribed = name.encode() in self._pubsub.channels or name in self._pubsub.channels
            if wanted and not subscribed:
                self._pubsub.subscribe(name)
            elif not wanted and subscribed:
                self._pubsub.unsubscribe(name)

    def _meeting_of(self, channel) -> int | None:
        name = channel.decode() if isinstance(channel, bytes) else channel
        if not name.startswith(f"{self.prefix}{{m"):
            return None
        return int(name[len(self.prefix) + 2:].split("}", 1)[0])

    def _handle(self, message: dict) -> None:
        meeting_id = self._meeting_of(message["channel"])
        if meeting_id is None:
            return
        if message["type"] == "subscribe":
            self._subscribed(meeting_id)
        elif message["type"] == "message":
            data = unseal(self._key, message["channel"], message["data"])
            if data is None:
                metrics.BACKPLANE_MESSAGES.labels("forged").inc()
                event(log, "backplane_message_dropped", logging.WARNING, meeting=meeting_id, reason="bad signature")
                return
            self._received(meeting_id, data)

    def _subscribed(self, meeting_id: int) -> None:
        """A subscription took effect: repair anything published before it (or while disconnected)."""
        live = self.hub.meetings.get(meeting_id)
        if live is None:
            return  # its last socket closed meanwhile (the unsubscribe is queued)
        again, live.subscribed = live.subscribed, True
        with self.app.app_context():
            if again:
                self.hub.resync(meeting_id, "redis_reconnected")
            else:
                self._note(meeting_id, self.hub.catch_up(meeting_id))

    def _received(self, meeting_id: int, data: dict) -> None:
        if data.get("w") == self.worker_id:
            return  # our own change: already rendered here before it was published
        if not self.hub.connections_of(meeting_id):
            return  # our last socket there closed while the message was on its way
        metrics.BACKPLANE_MESSAGES.labels("received").inc()
        token = request_id.set(data.get("rid"))
        try:
            with self.app.app_context():
                if data.get("resync"):
                    self.hub.resync(meeting_id, "peer_reconnected")
                    return
                change = Change.from_dict(data["c"])
                self._note(meeting_id, change.version)
                self.hub.dispatch(change, sent_at=data.get("t"), origin="remote", fragments=data.get("f"))
                event(log, "remote_change", meeting=meeting_id, version=change.version, kind=change.kind,
                      sender=data.get("w"), sockets=len(self.hub.connections_of(meeting_id)))
        finally:
            request_id.reset(token)

    def _note(self, meeting_id: int, version: int | None) -> None:
        """Track the versions seen for a meeting; a skipped one is awaited briefly, then resynced."""
        live = self.hub.meetings.get(meeting_id)
        if version is None or live is None:
            return
        with self._lock:
            high, missing = live.highest_seen, live.awaited
            missing.pop(version, None)
            if high is not None and version > high + 1:
                deadline = time.monotonic() + self.gap_seconds
                # Changes of two workers may arrive out of order: wait a moment before calling it lost.
                for skipped in range(max(high + 1, version - 1000), version):
                    missing.setdefault(skipped, deadline)
            if high is None or version > high:
                live.highest_seen = version

    def _check_gaps(self) -> None:
        now = time.monotonic()
        with self._lock:
            lost = [live for live in list(self.hub.meetings.values()) if any(d <= now for d in live.awaited.values())]
            for live in lost:
                live.awaited = {}
        for live in lost:
            event(log, "version_gap", logging.WARNING, meeting=live.id, action="resync")
            with self.app.app_context():
                self.hub.resync(live.id, "version_gap")

    def _flush_unsent(self) -> None:
        """Changes this worker could not publish: ask the other workers to resync those meetings."""
        with self._lock:
            if not self._unsent:
                return
            meetings, self._unsent = self._unsent, set()
        pending = list(meetings)
        try:
            while pending:
                message = {"w": self.worker_id, "t": time.time(), "rid": None, "resync": True}
                channel = self.channel(pending[-1])
                self.redis.publish(channel, seal(self._key, channel, message))
                pending.pop()
        finally:
            with self._lock:
                self._unsent.update(pending)
        event(log, "unsent_resync_requested", meetings=len(meetings))
