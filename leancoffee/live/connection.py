"""One browser's WebSocket: a bounded outgoing queue drained by exactly one sender."""

import logging
import socket
import threading

import gevent
from gevent.queue import Empty, Full, Queue

from leancoffee import metrics
from leancoffee.live.push import text_frame
from leancoffee.services.board import Viewer

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
SERVICE_RESTART = 1012
# A sender that finds several frames waiting writes them in one go, up to about this many bytes.
BATCH_BYTES = 64 * 1024


def _wire(frame) -> bytes:
    """The frame's bytes on the wire: shared when the hub encoded it (push.Frame), else encoded here."""
    wire = getattr(frame, "wire", None)
    return wire if wire is not None else text_frame(frame)


class SerialSocket:
    """A socket whose writes never interleave: simple-websocket's pings and our frames share it.

    simple-websocket writes with `socket.send`, which may write only part of a frame; `sendall`
    under one lock writes each frame whole.
    """

    def __init__(self, sock):
        self._sock = sock
        self._lock = threading.Lock()

    def send(self, data) -> int:
        with self._lock:
            # One plain send nearly always takes the whole frame; sendall only for the rest
            # (gevent's sendall asks the kernel for the buffer size on every call).
            sent = self._sock.send(data)
            if sent < len(data):
                self._sock.sendall(memoryview(data)[sent:])
        return len(data)

    def __getattr__(self, name):
        return getattr(self._sock, name)


class SendTracker:
    """Counts down the sockets a change was queued on; calls on_last when the last one is written."""

    def __init__(self, pending: int, on_last):
        self.pending = pending
        self.on_last = on_last

    def done(self) -> None:
        """One socket was written (or given up on)."""
        self.pending -= 1
        if self.pending == 0:
            self.on_last()


class Connection:
    """A live board page: who is looking, and the frames waiting to be sent to it."""

    def __init__(self, ws, meeting_id: int, viewer: Viewer, queue_limit: int):
        self.ws = ws
        ws.sock = SerialSocket(ws.sock)
        self.meeting_id = meeting_id
        self.viewer = viewer
        self.queue: Queue = Queue(maxsize=queue_limit)
        self.closed = False
        self._sender = None

    def start(self) -> None:
        """Start the one greenlet that writes to this socket."""
        self._sender = gevent.spawn(self._drain)

    def offer(self, frame: str, tracker: SendTracker | None = None) -> bool:
        """Queue a frame without waiting; False when the client is too far behind."""
        if self.closed:
            if tracker is not None:
                tracker.done()
            return True
        try:
            self.queue.put_nowait((frame, tracker))
        except Full:
            return False
        return True

    def _drain(self) -> None:
        # Frames from the hub are encoded once for everyone who gets them (push.Frame.wire): this
        # sender only writes those bytes, without simple-websocket's per-call encoding, and
        # SerialSocket keeps them whole beside simple-websocket's own pings and close frame.
        for item in self.queue:
            batch = [item]
            data = [_wire(item[0])]
            size = len(data[0])
            while size < BATCH_BYTES:
                try:
                    more = self.queue.get_nowait()
                except Empty:
                    break
                batch.append(more)
                data.append(_wire(more[0]))
                size += len(data[-1])
            try:
                if not self.ws.connected:
                    raise ConnectionError("closed")
                self.ws.sock.send(data[0] if len(data) == 1 else b"".join(data))
            except Exception:  # the peer vanished; the receive loop notices and detaches us
                log.info("send failed on meeting %s; closing", self.meeting_id)
                self.closed = True
                return
            finally:
                for _, tracker in batch:
                    if tracker is not None:
                        tracker.done()
            metrics.MESSAGES_PUSHED.inc(len(batch))
            metrics.BYTES_PUSHED.inc(size)

    def close(self, code: int) -> None:
        """Stop sending and close the socket with a code that tells hx-ws whether to come back."""
        if self.closed:
            return
        self.closed = True
        if self._sender is not None:
            self._sender.kill(block=False)
        gevent.spawn(self._close_socket, code)

    def _close_socket(self, code: int) -> None:
        # A client that stopped reading has full buffers: the close frame may never fit, so
        # give it a moment and then end the TCP connection regardless. shutdown() (unlike
        # close() of simple-websocket's dup of the socket) really ends it, for both sides.
        with gevent.Timeout(0.5, False):
            try:
                self.ws.close(reason=code)
            except Exception:
                pass
        for end in (lambda s: s.shutdown(socket.SHUT_RDWR), lambda s: s.close()):
            try:
                end(self.ws.sock)
            except Exception:
                pass

    def stop(self) -> None:
        """The page went away: let the sender finish."""
        self.closed = True
        if self._sender is not None:
            self._sender.kill(block=False)
