"""One browser's WebSocket: frames written straight through, or a bounded backlog drained by exactly one sender."""

import logging
import socket
import threading
from collections import deque

import gevent

from leancoffee import metrics
from leancoffee.live.push import text_frame
from leancoffee.services.board import Viewer

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
SERVICE_RESTART = 1012
# A sender that finds several frames waiting writes them in one go, up to about this many bytes.
BATCH_BYTES = 64 * 1024
# What offer() did with a frame: written to the kernel now (the caller counts it), left to the
# sender (or dropped: the socket is closing), or refused because the client is too far behind.
SENT, LEFT_TO_SENDER, BEHIND = "sent", "left to sender", "behind"


def _wire(frame) -> bytes:
    """The frame's bytes on the wire: shared when the hub encoded it (push.Frame), else encoded here."""
    wire = getattr(frame, "wire", None)
    return wire if wire is not None else text_frame(frame)


class ReaderGreenlet:
    """simple-websocket's reader loop (pings, close, incoming frames) in a plain greenlet.

    Lighter than the Thread simple-websocket would start, and shallow: waking it for each ping and
    pong costs little (measured with 5,000 idle sockets: 2.3 % of a core, against 7.6 % when the
    deep request greenlet ran the loop itself). The request greenlet waits in join() until it ends.
    """

    name = "simple-websocket reader"

    def __init__(self, target):
        self.target = target
        self.greenlet = None

    def start(self) -> None:
        self.greenlet = gevent.spawn(self.target)

    def join(self) -> None:
        self.greenlet.join()


class Ignored(list):
    """Where simple-websocket keeps messages from the browser: we ignore them, so none is kept."""

    def append(self, message) -> None:
        pass


class SerialSocket:
    """A socket whose writes never interleave: simple-websocket's pings and our frames share it.

    simple-websocket writes with `socket.send`, which may write only part of a frame; `sendall`
    under one lock writes each frame whole.
    """

    __slots__ = ("_sock", "_lock", "_os_sock")

    def __init__(self, sock):
        self._sock = sock
        self._lock = threading.Lock()
        # gevent's socket wraps a non-blocking OS socket: writing to that never waits.
        self._os_sock = getattr(sock, "_sock", None)

    def send(self, data) -> int:
        with self._lock:
            # One plain send nearly always takes the whole frame; sendall only for the rest
            # (gevent's sendall asks the kernel for the buffer size on every call).
            sent = self._sock.send(data)
            if sent < len(data):
                self._sock.sendall(memoryview(data)[sent:])
        return len(data)

    def send_now(self, data) -> int:
        """Write what the kernel takes right now, without waiting; 0 when the socket is busy or full.

        A frame written only in part keeps the socket reserved: finish() must write the rest before
        anything else (a ping) may go out.
        """
        if self._os_sock is None or not self._lock.acquire(blocking=False):
            return 0
        try:
            sent = self._os_sock.send(data)
        except BlockingIOError:
            sent = 0
        except BaseException:
            self._lock.release()
            raise
        if not 0 < sent < len(data):
            self._lock.release()
        return sent

    def finish(self, rest) -> None:
        """Write the rest of a frame that send_now began, then let other writers in."""
        try:
            self._sock.sendall(rest)
        finally:
            self._lock.release()

    def __getattr__(self, name):
        return getattr(self._sock, name)


class SendTracker:
    """Counts down the sockets a change was queued on; calls on_last when the last one is written."""

    __slots__ = ("pending", "on_last")

    def __init__(self, pending: int, on_last):
        self.pending = pending
        self.on_last = on_last

    def done(self) -> None:
        """One socket was written (or given up on)."""
        self.pending -= 1
        if self.pending == 0:
            self.on_last()


class Connection:
    """A live board page: who is looking, and the frames waiting to be sent to it.

    A frame goes straight to the kernel when nothing is waiting before it and the socket takes it
    whole (nearly always); otherwise it waits in a bounded backlog that one sender greenlet, started
    only then, writes out in order. So an idle page holds no sender and a fast one no context switch.
    """

    __slots__ = ("ws", "sock", "meeting_id", "viewer", "queue_limit", "backlog", "closed", "_sender")

    def __init__(self, ws, meeting_id: int, viewer: Viewer, queue_limit: int):
        self.ws = ws
        self.sock = ws.sock = SerialSocket(ws.sock)
        ws.input_buffer = Ignored()
        self.meeting_id = meeting_id
        self.viewer = viewer
        self.queue_limit = queue_limit
        # Frames waiting for the sender; there is a backlog only while there is a sender.
        self.backlog: deque | None = None
        self.closed = False
        self._sender = None

    def offer(self, frame: str, tracker: SendTracker | None = None) -> str:
        """Write or queue a frame without waiting: SENT, LEFT_TO_SENDER, or BEHIND (too far behind)."""
        if self.closed:
            if tracker is not None:
                tracker.done()
            return LEFT_TO_SENDER
        data = _wire(frame)
        if self._sender is not None:  # frames are waiting (or being written): this one goes after them
            if len(self.backlog) >= self.queue_limit:
                return BEHIND
            self.backlog.append((data, tracker, False))
            return LEFT_TO_SENDER
        try:
            sent = self.sock.send_now(data)
        except OSError:  # the peer vanished; the reader notices and detaches us
            sent = len(data)
            self.closed = True
        if sent == len(data):
            if tracker is not None:
                tracker.done()
            return SENT
        # True: the rest of a frame already begun, which must be written before anything else.
        self.backlog = deque([(data[sent:], tracker, True) if sent else (data, tracker, False)])
        self._sender = gevent.spawn(self._drain)
        return LEFT_TO_SENDER

    @staticmethod
    def _sent(frames: int, size: int, *trackers) -> None:
        for tracker in trackers:
            if tracker is not None:
                tracker.done()
        metrics.MESSAGES_PUSHED.inc(frames)
        metrics.BYTES_PUSHED.inc(size)

    def _drain(self) -> None:
        # Writes the backlog in order, up to BATCH_BYTES per write, and ends when it is empty (the next
        # frame that has to wait starts a new sender). A begun frame is finished even after close.
        backlog = self.backlog
        while backlog and (not self.closed or backlog[0][2]):
            batch = [backlog.popleft()]
            size = len(batch[0][0])
            while backlog and size < BATCH_BYTES and not self.closed:
                batch.append(backlog.popleft())
                size += len(batch[-1][0])
            data = batch[0][0] if len(batch) == 1 else b"".join(item[0] for item in batch)
            try:
                if batch[0][2]:
                    self.sock.finish(data)
                elif not self.ws.connected:
                    raise ConnectionError("closed")
                else:
                    self.sock.send(data)
            except Exception:  # the peer vanished; the reader notices and detaches us
                log.info("send failed on meeting %s; closing", self.meeting_id)
                self.closed = True
            self._sent(len(batch), size, *(item[1] for item in batch))
        while backlog:  # closed: the rest is never written
            self._sent(0, 0, backlog.popleft()[1])
        self._sender = self.backlog = None

    def close(self, code: int) -> None:
        """Stop sending and close the socket with a code that tells hx-ws whether to come back."""
        if self.closed:
            return
        self.closed = True  # a sender still writing stops after its current write
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
        """The page went away: stop sending."""
        self.closed = True
