"""Tell a meeting's screens the moment its timebox runs out.

Expiry is derived from the stored end time, so nothing is written: each worker just wakes up
at the end time and re-renders the timer for its own sockets (several workers may do so at
once without harm).
"""

from collections.abc import Callable

import gevent
from gevent.lock import Semaphore

from leancoffee.services.board import BoardState


class TimeUpAlarms:
    """One pending wake-up per meeting, moved whenever the meeting's timer changes."""

    def __init__(self, on_time_up: Callable[[int], None]):
        self.on_time_up = on_time_up
        self._alarms: dict[int, tuple[object, gevent.Greenlet]] = {}
        self._lock = Semaphore()

    def watch(self, state: BoardState) -> None:
        """(Re)arm the alarm for a meeting from its current timer."""
        meeting_id = state.meeting.id
        timer = state.timer
        due = timer.ends_at if timer.state == "running" and timer.remaining > 0 else None
        with self._lock:
            previous = self._alarms.get(meeting_id)
            if previous is not None and previous[0] == due:
                return  # most changes (votes, notes) leave the timer alone
            if previous is not None:
                previous[1].kill(block=False)
                del self._alarms[meeting_id]
            if due is not None:
                # A little after the end, so the fresh read that follows sees the time as up.
                self._alarms[meeting_id] = (due, gevent.spawn_later(timer.remaining + 0.05, self._fire, meeting_id))

    def _fire(self, meeting_id: int) -> None:
        with self._lock:
            self._alarms.pop(meeting_id, None)
        self.on_time_up(meeting_id)
