"""A per-user token bucket for write requests: people are never limited, runaway clients are."""

import math
import threading
import time


class RateLimiter:
    """Token buckets by key: `burst` writes at once, refilled at `per_second`."""

    MAX_KEYS = 50_000

    def __init__(self, burst: int, per_second: float, clock=time.monotonic):
        self.burst = burst
        self.per_second = per_second
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """Spend one token: 0 when allowed, else the whole seconds to wait."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.per_second)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return max(1, math.ceil((1 - tokens) / self.per_second))
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > self.MAX_KEYS:
                self._forget_full(now)
        return 0

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they carry no information."""
        full_after = self.burst / self.per_second
        for key, (_, last) in list(self._buckets.items()):
            if now - last >= full_after:
                del self._buckets[key]
