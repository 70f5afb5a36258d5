"""Where the app reads and writes board sockets itself, and everything that relies on in its libraries.

After flask-sock's handshake the app owns the socket: a Connection reads it with wsproto in a greenlet
of its own and writes frames encoded once for every screen (the libraries' own API held 48 KiB per
idle socket against 17.5, and encoded each frame per socket: docs/performance.md). What that relies on,
at the pinned versions, each checked by tests/test_wire_contract.py:

- simple-websocket 1.1.0 (`Server`, which flask-sock 0.7.0 builds with `SOCK_SERVER_OPTIONS`): it calls
  `thread_class(target=...)` and `.start()` for its reader (HandshakeOnly starts nothing); its `ws.sock`
  is the connection's socket; `ws.mode` is "gevent" under gevent's own server; flask-sock closes `ws`
  after the view unless `ws.connected` is False.
- gevent 26.9.0: its pywsgi server hands an upgraded request's body as an `io.BufferedReader` in
  `wsgi.input`, and stops serving a connection whose reader is closed; its socket object keeps the
  non-blocking OS socket as `_sock` (SerialSocket.send_now writes to it without a greenlet switch).
- gunicorn 27.0.1's gevent worker: the socket flask-sock gives is the request's own, closed when the
  request ends, so it is duplicated (`sock.dup()`).
- RFC 6455 frames: text_frame's header is checked against wsproto's parser.
"""

import io
import struct

from flask import request
from gevent.lock import Semaphore

# A whole WebSocket ping frame, server to client, without payload.
PING = b"\x89\x00"


def text_frame(text: str) -> bytes:
    """A whole, unmasked WebSocket text frame (server to client, no extensions) carrying text."""
    payload = text.encode("utf-8")
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x81, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x81, 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 127, n)
    return head + payload


class HandshakeOnly:
    """simple-websocket's `thread_class`: it does the handshake and starts no reader of its own.

    The Connection reads the socket itself, in a greenlet of its own, so the request that opened
    the socket can end instead of waiting, parked, for as long as the page stays open.
    """

    name = "not started"

    def __init__(self, target):
        pass

    def start(self) -> None:
        pass


class SerialSocket:
    """A socket whose writes never interleave: pings, close frames and the board's frames share it.

    A plain `socket.send` may write only part of a frame; `sendall` under one lock writes each
    frame whole.
    """

    __slots__ = ("_sock", "_lock", "_os_sock")

    def __init__(self, sock):
        self._sock = sock
        self._lock = Semaphore()
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
        # Every greenlet of a worker runs on one OS thread and nothing here waits, so the lock found
        # free is still free below: it is taken only for a frame written in part (this runs once per
        # socket per change, and taking and releasing a gevent lock costs more than the check).
        if self._os_sock is None or self._lock.locked():
            return 0
        try:
            sent = self._os_sock.send(data)
        except BlockingIOError:
            return 0
        if 0 < sent < len(data):
            self._lock.acquire()
        return sent

    def finish(self, rest) -> None:
        """Write the rest of a frame that send_now began, then let other writers in."""
        try:
            self._sock.sendall(rest)
        finally:
            self._lock.release()

    def __getattr__(self, name):
        return getattr(self._sock, name)


def take_over(ws):
    """The socket under simple-websocket's `ws`, which flask-sock then finds closed and leaves alone."""
    sock = ws.sock
    if ws.mode != "gevent":  # only in gevent's server is it a duplicate that outlives the request's own
        sock = sock.dup()
    ws.connected = False  # flask-sock's ws.close() after this view writes nothing
    return sock


def end_http_reading() -> None:
    """Close the HTTP server's reader of this connection: the socket is the Connection's now.

    gevent's pywsgi, once this request ends, then stops serving the connection (only its own file
    descriptor closes), where it would otherwise read the browser's WebSocket frames as the next request.
    """
    if not request.environ.get("SERVER_SOFTWARE", "").startswith("gevent"):
        return
    reader = request.environ.get("wsgi.input")  # for an Upgrade request, pywsgi's own buffered reader
    if isinstance(reader, io.BufferedReader):
        reader.close()
