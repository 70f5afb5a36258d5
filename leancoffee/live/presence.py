"""Who is connected to which meeting right now, with a grace period so a reload does not flicker."""

from collections import Counter, defaultdict
from collections.abc import Callable

import gevent
from gevent.lock import Semaphore


class LocalPresence:
    """Presence for one process: present while a tab is open, away `grace` seconds after the last closes."""

    def __init__(self, grace_seconds: float, on_change: Callable[..., None]):
        self.grace_seconds = grace_seconds
        self.on_change = on_change
        self._sockets: Counter = Counter()
        self._present: dict[int, set[int]] = defaultdict(set)
        self._lock = Semaphore()

    def connected(self, meeting_id: int, user_id: int) -> bool:
        """Count a new socket; True when the user was away until now."""
        with self._lock:
            self._sockets[(meeting_id, user_id)] += 1
            arrived = user_id not in self._present[meeting_id]
            self._present[meeting_id].add(user_id)
        return arrived

    def disconnected(self, meeting_id: int, user_id: int) -> None:
        """Forget a socket; the user goes away only if no socket of theirs is back within the grace."""
        with self._lock:
            self._sockets[(meeting_id, user_id)] -= 1
            if self._sockets[(meeting_id, user_id)] > 0:
                return
        gevent.spawn_later(self.grace_seconds, self._expire, meeting_id, user_id)

    def _expire(self, meeting_id: int, user_id: int) -> None:
        """End of grace: mark the user away if they have not come back."""
        with self._lock:
            if self._sockets[(meeting_id, user_id)] > 0 or user_id not in self._present[meeting_id]:
                return
            del self._sockets[(meeting_id, user_id)]
            self._present[meeting_id].discard(user_id)
            if not self._present[meeting_id]:
                del self._present[meeting_id]
        self.on_change(meeting_id, user_id=user_id)

    def present_users(self, meeting_id: int) -> set[int]:
        """Users of a meeting shown as present."""
        with self._lock:
            return set(self._present.get(meeting_id, ()))

    def leave(self, meeting_id: int, user_id: int) -> None:
        """Someone who left the meeting stops counting as present at once."""
        with self._lock:
            self._present.get(meeting_id, set()).discard(user_id)


class ArrivalBatches:
    """Arrivals and departures within `window` seconds reach screens as one presence change, per meeting.

    So a crowd opening the board at once costs one fragment per batch rather than one per person per screen.
    """

    def __init__(self, window: float, send: Callable[[int, set[int]], None]):
        self.window = window
        self.send = send  # (meeting_id, user ids) once the window closes
        self._batches: dict[int, set[int]] = {}
        self._lock = Semaphore()

    def add(self, meeting_id: int, user_id: int, window: float | None = None) -> None:
        """Someone arrived or went away: into the meeting's open batch, or a new one sent after the window (`window`
        for this meeting, when it differs)."""
        with self._lock:
            batch = self._batches.get(meeting_id)
            if batch is not None:
                batch.add(user_id)
                return
            self._batches[meeting_id] = {user_id}
        gevent.spawn_later(self.window if window is None else window, self._send, meeting_id)

    def _send(self, meeting_id: int) -> None:
        with self._lock:
            users = self._batches.pop(meeting_id, set())
        if users:
            self.send(meeting_id, users)
