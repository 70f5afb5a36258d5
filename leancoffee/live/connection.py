"""One browser's WebSocket: frames written straight through, or a bounded backlog drained by exactly one sender."""

import logging
import socket
import time
from collections import deque

import gevent
from wsproto import ConnectionType
from wsproto.connection import Connection as Protocol
from wsproto.connection import ConnectionState
from wsproto.events import CloseConnection, Message, Ping, Pong
from wsproto.utilities import LocalProtocolError

from leancoffee import metrics
from leancoffee.live.wire import PING, SerialSocket
from leancoffee.logs import event
from leancoffee.services.viewing import Viewer

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
INTERNAL_ERROR = 1011
SERVICE_RESTART = 1012
TRY_AGAIN_LATER = 1013
# What one page may send in a window: a browser sends a pong per heartbeat and nothing else, so a socket
# sending more (a flood of pings, or of messages) is closed with 1008 before it costs the others anything.
READ_WINDOW_SECONDS = 10
MAX_FRAMES_PER_WINDOW = 50
MAX_BYTES_PER_WINDOW = 64 * 1024
# A sender that finds several frames waiting writes them in one go, up to about this many bytes.
BATCH_BYTES = 64 * 1024
# What offer() did with a frame: written to the kernel now (the caller counts it), left to the
# sender (or dropped: the socket is closing), or refused because the client is too far behind.
SENT, LEFT_TO_SENDER, BEHIND = "sent", "left to sender", "behind"


def count_sent(frames: int, size: int) -> None:
    """Count frames written to browsers (by the fan-out straight to the kernel, or by a socket's sender)."""
    if frames:
        metrics.MESSAGES_PUSHED.inc(frames)
        metrics.BYTES_PUSHED.inc(size)


class SendTracker:
    """Counts what is still being written of one change (the fan-out itself counts as one); calls on_last when nothing is."""

    __slots__ = ("pending", "on_last")

    def __init__(self, on_last):
        self.pending = 1
        self.on_last = on_last

    def add(self) -> None:
        """A frame of the change was left to a socket's sender."""
        self.pending += 1

    def done(self) -> None:
        """The fan-out ended, or a sender wrote (or gave up on) its frame."""
        self.pending -= 1
        if self.pending == 0:
            self.on_last()


class ReadBudget:
    """What one socket has sent in the current window, and the size of the message it is sending."""

    __slots__ = ("started", "frames", "bytes", "message_size")

    def __init__(self):
        self.started = time.monotonic()
        self.frames = self.bytes = self.message_size = 0

    def spend(self, frames: int, size: int) -> bool:
        """Count frames and bytes just read; True when the window's budget is exceeded."""
        now = time.monotonic()
        if now - self.started > READ_WINDOW_SECONDS:
            self.started, self.frames, self.bytes = now, 0, 0
        self.frames += frames
        self.bytes += size
        return self.frames > MAX_FRAMES_PER_WINDOW or self.bytes > MAX_BYTES_PER_WINDOW


class Connection:
    """A live board page: who is looking, the frames waiting to be sent to it, and the reader of its socket.

    A frame goes straight to the kernel when nothing is waiting before it and the socket takes it
    whole (nearly always); otherwise it waits in a bounded backlog that one sender greenlet, started
    only then, writes out in order. So an idle page holds no sender and a fast one no context switch.
    """

    __slots__ = ("sock", "protocol", "meeting_id", "viewer", "queue_limit", "backlog", "closed", "pong_due", "_sender")

    def __init__(self, sock, meeting_id: int, viewer: Viewer, queue_limit: int):
        """sock: a socket whose WebSocket handshake is done, without extensions (StripWebSocketCompression)."""
        self.sock = SerialSocket(sock)
        self.protocol = Protocol(ConnectionType.SERVER)
        self.meeting_id = meeting_id
        self.viewer = viewer
        self.queue_limit = queue_limit
        # Frames waiting for the sender; there is a backlog only while there is a sender.
        self.backlog: deque | None = None
        self.closed = False
        self.pong_due = False
        self._sender = None

    def read(self, max_message_size: int, on_end) -> None:
        """Read the browser's side until the socket closes, then call on_end(self).

        Answers the browser's pings and close, notes its pongs (the Heartbeat pings), and closes the
        socket on a message bigger than max_message_size bytes (1009) or on more frames or bytes in a
        window than a page ever sends (1008). Messages are otherwise ignored: the page talks to us
        over HTTP. One read per turn: a socket with a full buffer never keeps the worker from the others.
        """
        budget = ReadBudget()
        try:
            while data := self.sock.recv(4096):
                self.protocol.receive_data(data)
                code = self._handle_events(max_message_size, budget, len(data))
                if code == 0:
                    return
                if code is not None:
                    self._send_close(code)
                    self._linger()
                    return
                gevent.sleep(0)
        except (OSError, LocalProtocolError):
            return  # the peer vanished or spoke nonsense: the socket just closes
        finally:
            self.closed = True
            self.sock.close()
            on_end(self)

    def _handle_events(self, max_message_size: int, budget: "ReadBudget", size: int) -> int | None:
        """Act on what the browser sent; a close code to end with, 0 when it closed, None to read on."""
        frames = 0
        for received in self.protocol.events():
            frames += 1
            if isinstance(received, Pong):
                self.pong_due = False
            elif isinstance(received, Ping):
                self.sock.send(self.protocol.send(received.response()))
            elif isinstance(received, CloseConnection):
                if self.protocol.state is ConnectionState.REMOTE_CLOSING:
                    self.sock.send(self.protocol.send(received.response()))
                return 0
            elif isinstance(received, Message):
                budget.message_size += len(received.data.encode() if isinstance(received.data, str) else received.data)
                if budget.message_size > max_message_size:
                    return MESSAGE_TOO_BIG
                if received.message_finished:
                    budget.message_size = 0
        if budget.spend(frames, size):
            metrics.SOCKETS_FLOODING.inc()
            event(log, "socket_flooding", logging.WARNING, meeting=self.meeting_id, action="close 1008")
            return POLICY_VIOLATION
        return None

    def ping(self) -> bool:
        """Ping the browser; False (and no ping) if it has not answered the last one."""
        if self.closed:
            return True
        if self.pong_due:
            return False
        self.pong_due = True
        return self.offer(PING) is not BEHIND

    def offer(self, data: bytes, tracker: SendTracker | None = None) -> str:
        """Write or queue a frame's wire bytes without waiting: SENT, LEFT_TO_SENDER or BEHIND.

        The tracker hears of the frame only if it is left to the sender; one written now is done.
        """
        if self.closed:
            return LEFT_TO_SENDER
        if self._sender is None:
            try:
                sent = self.sock.send_now(data)
            except OSError:  # the peer vanished; the reader notices and detaches us
                self.closed = True
                return LEFT_TO_SENDER
            if sent == len(data):
                return SENT
            # True: the rest of a frame already begun, which must be written before anything else.
            self.backlog = deque([(data[sent:], tracker, True) if sent else (data, tracker, False)])
            self._sender = gevent.spawn(self._drain)
        elif len(self.backlog) >= self.queue_limit:
            return BEHIND
        else:  # frames are waiting (or being written): this one goes after them
            self.backlog.append((data, tracker, False))
        if tracker is not None:
            tracker.add()
        return LEFT_TO_SENDER

    @staticmethod
    def _sent(frames: int, size: int, *trackers) -> None:
        for tracker in trackers:
            if tracker is not None:
                tracker.done()
        count_sent(frames, size)

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
                else:
                    self.sock.send(data)
            except OSError as error:  # the peer vanished; the reader notices and detaches us
                log.info("send failed on meeting %s; closing: %r", self.meeting_id, error)
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
        # A client that stopped reading has full buffers: the close frame may never fit, so give it
        # a moment and then end the TCP connection regardless. shutdown() ends it for both sides
        # (close() of one of its file descriptors would not) and wakes the reader, which closes it.
        with gevent.Timeout(0.5, False):
            self._send_close(code)
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send_close(self, code: int) -> None:
        """Send the close frame with this code, unless one was sent or the socket is gone."""
        try:
            if self.protocol.state is ConnectionState.OPEN:
                self.sock.send(self.protocol.send(CloseConnection(code)))
        except (OSError, LocalProtocolError):
            pass

    def _linger(self) -> None:
        """After our close frame, read what the browser still sends for a moment before closing.

        Closing a socket with unread bytes resets the connection, and the browser may then never
        see the close frame (nor its code).
        """
        try:
            self.sock.shutdown(socket.SHUT_WR)
            with gevent.Timeout(1, False):
                while self.sock.recv(65536):
                    gevent.sleep(0)  # a flood still arriving is read a turn at a time
        except OSError:
            pass

    def stop(self) -> None:
        """The page went away: stop sending."""
        self.closed = True


def fan_out(push, conns: list[Connection], tracker: SendTracker | None = None) -> None:
    """Write (or leave to its sender) each socket's frame of a change (a Push), and count what the kernel took now."""
    # Runs once per socket per change: kept to a lookup, one call and a send.
    written = written_bytes = 0
    for conn in conns:
        frame = push.frame_for(conn.viewer)
        if not frame:
            continue  # nothing of this change is for this screen: not even an empty message
        data = frame.wire
        outcome = conn.offer(data, tracker)
        if outcome is SENT:
            written += 1
            written_bytes += len(data)
        elif outcome is BEHIND:
            # A client too far behind is closed; it reconnects and gets the whole board.
            metrics.SEND_QUEUE_DROPS.inc()
            event(log, "client_behind", logging.WARNING, meeting=push.meeting_id, action="close 1013 to resync")
            conn.close(TRY_AGAIN_LATER)
    count_sent(written, written_bytes)
