"""Tell a meeting's screens the moment its timebox runs out; send hidden voting's progress at most every few seconds.

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


class Throttle:
    """At most one call per meeting every `seconds`: the first at once, any more within the window folded into one
    at its end. (Hidden voting's progress: a burst of "I'm done voting" reaches the facilitators as one frame.)"""

    def __init__(self, seconds: float, send: Callable[[int], None]):
        self.seconds = seconds
        self.send = send
        # Meetings inside a window: True when a call waits for its end.
        self._windows: dict[int, bool] = {}
        self._lock = Semaphore()

    def poke(self, meeting_id: int) -> None:
        """Something changed: send now if the meeting's last send is a window ago, else once when the window ends."""
        with self._lock:
            if meeting_id in self._windows:
                self._windows[meeting_id] = True
                return
            self._windows[meeting_id] = False
        # Spawned, never called here: the caller holds the meeting's lock and is still sending its own change.
        gevent.spawn(self.send, meeting_id)
        gevent.spawn_later(self.seconds, self._window_ended, meeting_id)

    def _window_ended(self, meeting_id: int) -> None:
        with self._lock:
            waiting = self._windows.pop(meeting_id, False)
        if waiting:
            self.poke(meeting_id)
