"""Presence shared by every worker through Redis, with a heartbeat so a killed worker's people go away.

Keys (PREFIX is REDIS_PREFIX; braces keep a meeting's keys on one Redis Cluster slot):
- PREFIX{m<id>}:presence  hash  "<user>:<worker>" -> that worker's open sockets of that user (0: in grace)
- PREFIX workers          set   workers that registered
- PREFIX worker:<w>:alive string, expires after WORKER_TTL_SECONDS unless the worker's heartbeat renews it
- PREFIX worker:<w>:meetings set of meetings where the worker has (had) sockets, for reaping
"""

import logging
import time
from collections import Counter
from collections.abc import Callable

import gevent
from gevent.lock import Semaphore
from redis import RedisError

from leancoffee import metrics
from leancoffee.logs import event

log = logging.getLogger(__name__)

# Drop our field only if it still says 0 (no socket came back in the grace); return who is left.
_EXPIRE_SCRIPT = """
if redis.call('HGET', KEYS[1], ARGV[1]) == '0' then redis.call('HDEL', KEYS[1], ARGV[1]) end
return redis.call('HKEYS', KEYS[1])
"""


class RedisPresence:
    """The LocalPresence interface (connected/disconnected/present_users/leave), kept in Redis."""

    def __init__(self, client, prefix: str, worker_id: str, grace_seconds: float, heartbeat_seconds: float,
                 ttl_seconds: float, on_change: Callable[..., None]):
        self.redis = client
        self.prefix = prefix
        self.worker_id = worker_id
        self.grace_seconds = grace_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.ttl_ms = int(ttl_seconds * 1000)
        self.on_change = on_change
        self._counts: Counter = Counter()
        self._lock = Semaphore()
        self._registered = False
        self._running = True
        self._expire = client.register_script(_EXPIRE_SCRIPT)

    # --- keys ------------------------------------------------------------------------------

    def _hash(self, meeting_id: int) -> str:
        return f"{self.prefix}{{m{meeting_id}}}:presence"

    def _field(self, user_id: int) -> str:
        return f"{user_id}:{self.worker_id}"

    def _alive_key(self, worker_id: str) -> str:
        return f"{self.prefix}worker:{worker_id}:alive"

    def _meetings_key(self, worker_id: str) -> str:
        return f"{self.prefix}worker:{worker_id}:meetings"

    @staticmethod
    def _users(fields) -> set[int]:
        return {int((f.decode() if isinstance(f, bytes) else f).split(":", 1)[0]) for f in fields}

    def _redis_failed(self, what: str, error: Exception) -> None:
        metrics.ERRORS.labels("redis").inc()
        event(log, "presence_redis_error", logging.WARNING, op=what, error=error, fallback="this worker's own sockets")

    # --- the LocalPresence interface --------------------------------------------------------

    def connected(self, meeting_id: int, user_id: int) -> bool:
        """Count a new socket; True when the user was away on every worker until now."""
        with self._lock:
            self._counts[(meeting_id, user_id)] += 1
            count = self._counts[(meeting_id, user_id)]
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.hkeys(self._hash(meeting_id))
            pipe.hset(self._hash(meeting_id), self._field(user_id), count)
            pipe.sadd(self._meetings_key(self.worker_id), meeting_id)
            before = pipe.execute()[0]
            return user_id not in self._users(before)
        except RedisError as error:
            self._redis_failed("connected", error)
            return count == 1

    def disconnected(self, meeting_id: int, user_id: int) -> None:
        """Forget a socket; the user goes away only if no socket of theirs, anywhere, is back within the grace."""
        with self._lock:
            count = max(self._counts[(meeting_id, user_id)] - 1, 0)
            self._counts[(meeting_id, user_id)] = count
        try:
            self.redis.hset(self._hash(meeting_id), self._field(user_id), count)
        except RedisError as error:
            self._redis_failed("disconnected", error)
        if count == 0:
            gevent.spawn_later(self.grace_seconds, self._grace_over, meeting_id, user_id)

    def _grace_over(self, meeting_id: int, user_id: int) -> None:
        with self._lock:
            if self._counts.get((meeting_id, user_id), 0) > 0:
                return
            self._counts.pop((meeting_id, user_id), None)
            still_here = any(m == meeting_id for m, _ in self._counts)
        try:
            remaining = self._expire(keys=[self._hash(meeting_id)], args=[self._field(user_id)])
            if not still_here:
                self.redis.srem(self._meetings_key(self.worker_id), meeting_id)
            gone = user_id not in self._users(remaining)
        except RedisError as error:
            self._redis_failed("grace_over", error)
            gone = True
        if gone:
            self.on_change(meeting_id, user_id=user_id)

    def present_users(self, meeting_id: int) -> set[int]:
        """Users of a meeting with a socket (or in grace) on any live worker."""
        try:
            return self._users(self.redis.hkeys(self._hash(meeting_id)))
        except RedisError as error:
            self._redis_failed("present_users", error)
            with self._lock:
                return {u for (m, u) in self._counts if m == meeting_id}

    def leave(self, meeting_id: int, user_id: int) -> None:
        """Someone who left the meeting stops counting as present at once (each worker drops its own field)."""
        try:
            self.redis.hdel(self._hash(meeting_id), self._field(user_id))
        except RedisError as error:
            self._redis_failed("leave", error)

    # --- heartbeat and reaping ----------------------------------------------------------------

    def start(self) -> "RedisPresence":
        gevent.spawn(self._beat_forever)
        return self

    def stop(self) -> None:
        """Shutting down: stop beating, and let our entries be reaped once the grace is over."""
        # Not at once: this worker's browsers reconnect elsewhere within the grace, so nobody flickers away.
        self._running = False
        try:
            self.redis.set(self._alive_key(self.worker_id), int(time.time()), px=max(int(self.grace_seconds * 1000), 1))
        except RedisError as error:
            self._redis_failed("stop", error)

    def _beat_forever(self) -> None:
        while self._running:
            try:
                self.heartbeat()
            except RedisError as error:
                self._redis_failed("heartbeat", error)
            gevent.sleep(self.heartbeat_seconds)

    def heartbeat(self) -> None:
        """Renew this worker's liveness; re-register after a Redis restart; reap workers that went silent."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(self._alive_key(self.worker_id), int(time.time()), px=self.ttl_ms)
        pipe.sadd(f"{self.prefix}workers", self.worker_id)
        added = pipe.execute()[1]
        if added and self._registered:
            # Redis lost our entries (restarted empty, or we were reaped after a stall): write them back.
            self.reregister()
        self._registered = True
        self.reap()

    def reregister(self) -> None:
        """Write this worker's sockets to Redis again and tell its meetings."""
        with self._lock:
            counts = dict(self._counts)
        pipe = self.redis.pipeline(transaction=False)
        for (meeting_id, user_id), count in counts.items():
            pipe.hset(self._hash(meeting_id), self._field(user_id), count)
            pipe.sadd(self._meetings_key(self.worker_id), meeting_id)
        pipe.set(self._alive_key(self.worker_id), int(time.time()), px=self.ttl_ms)
        pipe.sadd(f"{self.prefix}workers", self.worker_id)
        pipe.execute()
        meetings = {m for m, _ in counts}
        event(log, "presence_reregistered", worker=self.worker_id, meetings=len(meetings), entries=len(counts))
        for meeting_id in meetings:
            self.on_change(meeting_id)

    def reap(self) -> None:
        """Remove the entries of workers whose liveness key expired; one worker wins each reap."""
        workers = [w.decode() if isinstance(w, bytes) else w for w in self.redis.smembers(f"{self.prefix}workers")]
        others = [w for w in workers if w != self.worker_id]
        if not others:
            return
        alive = self.redis.mget([self._alive_key(w) for w in others])
        for worker_id, beat in zip(others, alive, strict=True):
            if beat is None and self.redis.srem(f"{self.prefix}workers", worker_id):
                self._reap(worker_id)

    def _reap(self, dead: str) -> None:
        meetings = [int(m) for m in self.redis.smembers(self._meetings_key(dead))]
        suffix = f":{dead}"
        for meeting_id in meetings:
            fields = [f.decode() if isinstance(f, bytes) else f for f in self.redis.hkeys(self._hash(meeting_id))]
            theirs = [f for f in fields if f.endswith(suffix)]
            if theirs:
                self.redis.hdel(self._hash(meeting_id), *theirs)
        self.redis.delete(self._meetings_key(dead))
        event(log, "worker_reaped", logging.WARNING, dead_worker=dead, meetings=len(meetings))
        for meeting_id in meetings:
            self.on_change(meeting_id)
