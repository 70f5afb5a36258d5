"""A minimal asyncio HTTP/1.1 and WebSocket client: cheap enough that thousands fit on one core."""

import asyncio
import base64
import os
import re
import struct
import time
import zlib
from urllib.parse import urlencode

DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"
_STATUS = re.compile(rb"HTTP/1\.[01] (\d{3})")


class Http:
    """One keep-alive HTTP/1.1 connection with a cookie jar, like one browser tab's fetches."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        self._reader = self._writer = None

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    async def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        """Send one request; returns (status, headers, body) and keeps the cookies it sets."""
        body = urlencode(form).encode() if form is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if self.cookies:
            lines.append("Cookie: " + self.cookie_header())
        if form is not None:
            lines.append("Content-Type: application/x-www-form-urlencoded")
        if method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        for attempt in (0, 1):
            if self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            try:
                self._writer.write(raw)
                return await self._response()
            except (ConnectionError, asyncio.IncompleteReadError):
                # The server may close an idle keep-alive connection: reconnect once.
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _response(self):
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(_STATUS.match(head).group(1))
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            if ":" not in line:
                continue
            name, value = line.split(":", 1)
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                self.cookies[key.strip()] = val
            headers[name] = value
        if "content-length" in headers:
            body = await self._reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self._reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        else:
            body = await self._reader.read()
            self.close()
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def _mask(payload: bytes) -> bytes:
    key = os.urandom(4)
    n = len(payload)
    # XOR with the repeated key through one big-integer operation: fast enough for pongs.
    repeated = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big") if n else b""
    return key + masked


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked, final client frame."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + _mask(payload)


class WsClient(asyncio.Protocol):
    """One WebSocket: parses server frames as they arrive and hands each text message to on_message."""

    def __init__(self, on_message, socketio: bool = False):
        self.on_message = on_message  # on_message(client, payload: bytes, arrival: float)
        self.socketio = socketio
        self.transport = None
        self.buf = bytearray()
        self.handshaken = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.close_code = None
        self.inflater = None
        self.extensions = ""
        self.frames = 0
        self.tag = None  # whatever the harness wants to know about this client

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        now = time.perf_counter()
        self.buf += data
        if not self.handshaken.done():
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).decode("latin-1")
            del self.buf[: end + 4]
            if not head.startswith("HTTP/1.1 101"):
                self.handshaken.set_exception(ConnectionError(head.split("\r\n", 1)[0]))
                self.transport.close()
                return
            for line in head.split("\r\n"):
                if line.lower().startswith("sec-websocket-extensions:"):
                    self.extensions = line.split(":", 1)[1].strip()
            if "permessage-deflate" in self.extensions:
                self.inflater = zlib.decompressobj(-15)
            self.handshaken.set_result(True)
        self._parse(now)

    def _parse(self, now: float) -> None:
        buf = self.buf
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n = b1 & 0x7F
            start = pos + 2
            if n == 126:
                if size - pos < 4:
                    break
                n = (buf[pos + 2] << 8) | buf[pos + 3]
                start = pos + 4
            elif n == 127:
                if size - pos < 10:
                    break
                n = struct.unpack_from("!Q", buf, pos + 2)[0]
                start = pos + 10
            if size - start < n:
                break
            payload = bytes(buf[start : start + n])
            pos = start + n
            self._frame(b0, payload, now)
        if pos:
            del buf[:pos]

    def _frame(self, b0: int, payload: bytes, now: float) -> None:
        opcode = b0 & 0x0F
        if opcode in (1, 2, 0):
            if b0 & 0x40 and self.inflater is not None:
                payload = self.inflater.decompress(payload + b"\x00\x00\xff\xff")
            self.frames += 1
            if self.socketio and payload[:1] == b"2":
                self.send_text(b"3")  # Engine.IO ping: answer or be dropped
                return
            self.on_message(self, payload, now)
        elif opcode == 9:
            self.transport.write(client_frame(10, payload))
        elif opcode == 8:
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            self.transport.close()

    def send_text(self, data: bytes) -> None:
        self.transport.write(client_frame(1, data))

    def connection_lost(self, exc):
        if not self.handshaken.done():
            self.handshaken.set_exception(ConnectionError("closed during handshake"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)


async def open_ws(host: str, port: int, path: str, on_message, cookie: str = "", origin: str = "",
                  socketio: bool = False) -> WsClient:
    """Open a WebSocket like a browser does: cookie, Origin, and a permessage-deflate offer."""
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: WsClient(on_message, socketio), host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13", f"Sec-WebSocket-Extensions: {DEFLATE_OFFER}",
        f"Origin: {origin or f'http://{host}:{port}'}",
    ]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    client.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await asyncio.wait_for(client.handshaken, 60)
    return client
