"""The pings that tell a live page from a vanished one."""

import logging

import gevent

from leancoffee.live.connection import TRY_AGAIN_LATER

log = logging.getLogger(__name__)


class Heartbeat:
    """Pings every socket once per interval, a slice of them each second, and closes those that never answered.

    One greenlet and one timer for all sockets: an idle socket then waits on nothing but its own
    reads, and the pings of a second go out together.
    """

    def __init__(self, connections, interval: float):
        self.connections = connections  # () -> the open Connections
        self.interval = interval
        self._greenlet = None

    def start(self) -> None:
        """Start beating, unless already started."""
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._beat)

    def _beat(self) -> None:
        tick = min(1.0, self.interval)
        slices = max(1, round(self.interval / tick))
        beat = 0
        while True:
            gevent.sleep(tick)
            beat = (beat + 1) % slices
            for conn in self.connections():
                try:
                    if hash(conn) % slices == beat and not conn.ping():
                        conn.close(TRY_AGAIN_LATER)  # gone without a word: a live page comes back and resyncs
                except Exception:  # one broken socket must not stop the pings of all the others
                    log.exception("ping failed on meeting %s", conn.meeting_id)
