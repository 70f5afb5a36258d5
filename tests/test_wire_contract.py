"""What leancoffee/live/wire.py relies on in its libraries: these fail on an upgrade that breaks any of it."""

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import simple_websocket
import websocket
from wsproto import ConnectionType
from wsproto.connection import Connection as Protocol
from wsproto.events import Ping, TextMessage

from leancoffee.live.wire import PING, HandshakeOnly, take_over, text_frame
from tests.helpers import ROOT, AppServer, HttpPerson, free_port, receive_until


def parsed_by_wsproto(data: bytes) -> list:
    """What a browser-side (client) WebSocket makes of bytes the server wrote."""
    client = Protocol(ConnectionType.CLIENT)
    client.receive_data(data)
    return list(client.events())


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 200_000])
def test_text_frames_are_what_wsproto_parses(size):
    text = ("é" * size)[:size] if size % 2 else "x" * size  # multi-byte text too: lengths count bytes
    events = parsed_by_wsproto(text_frame(text))
    assert len(events) == 1 and isinstance(events[0], TextMessage)
    assert events[0].data == text and events[0].message_finished


def test_the_ping_frame_is_a_ping_without_payload():
    events = parsed_by_wsproto(PING)
    assert len(events) == 1 and isinstance(events[0], Ping) and events[0].payload == b""


def handshake_environ(sock) -> dict:
    """A gunicorn-style WSGI environ of a browser's WebSocket handshake on `sock`."""
    return {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/m/code/ws", "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1", "HTTP_CONNECTION": "Upgrade", "HTTP_UPGRADE": "websocket",
        "HTTP_SEC_WEBSOCKET_VERSION": "13", "HTTP_SEC_WEBSOCKET_KEY": base64.b64encode(os.urandom(16)).decode(),
        "gunicorn.socket": sock,
    }


def test_simple_websocket_starts_its_reader_only_through_the_thread_class():
    made = []

    class Recorder:
        name = "recorder"

        def __init__(self, target):
            made.append(self)
            self.target, self.started = target, False

        def start(self):
            self.started = True

    server_side, browser = socket.socketpair()
    with server_side, browser:
        ws = simple_websocket.Server(handshake_environ(server_side), thread_class=Recorder)
        assert len(made) == 1 and made[0].started and callable(made[0].target)
        assert ws.sock is server_side and ws.mode == "gunicorn" and ws.connected
        assert browser.recv(4096).startswith(b"HTTP/1.1 101")


def test_a_taken_over_socket_is_ours_and_flask_socks_close_writes_nothing():
    server_side, browser = socket.socketpair()
    with server_side, browser:
        ws = simple_websocket.Server(handshake_environ(server_side), thread_class=HandshakeOnly)
        browser.recv(4096)  # the handshake's answer
        ours = take_over(ws)
        assert ours is not server_side and not ws.connected  # a duplicate outside gevent's own server
        with pytest.raises(simple_websocket.ConnectionClosed):
            ws.close()  # what flask-sock calls (and swallows) once the view returns: no close frame is written
        ours.sendall(text_frame("still ours"))
        browser.settimeout(2)
        assert [e.data for e in parsed_by_wsproto(browser.recv(4096))] == ["still ours"]
        ours.close()


def ping_and_close(base: str, code: str, person: HttpPerson) -> None:
    """A socket of the real server: first frame, a ping answered, a close answered with the same code."""
    ws = person.socket(code)
    receive_until(ws, lambda f: 'id="columns"' in f)
    ws.ping(b"contract")
    opcode, data = ws.recv_data(control_frame=True)
    while opcode != websocket.ABNF.OPCODE_PONG:
        opcode, data = ws.recv_data(control_frame=True)
    assert data == b"contract"
    ws.send_close(1000)
    opcode, data = ws.recv_data(control_frame=True)
    while opcode != websocket.ABNF.OPCODE_CLOSE:
        opcode, data = ws.recv_data(control_frame=True)
    assert int.from_bytes(data[:2], "big") == 1000
    # The connection was the socket's alone: the HTTP server did not read its frames as requests.
    assert person.http.get(f"{base}/healthz").status_code == 200


@pytest.mark.server
def test_a_socket_is_read_and_written_by_the_app_under_gevents_server(tmp_path):
    server = AppServer(f"sqlite:///{tmp_path / 'wire.db'}").start(tmp_path / "server.log")
    try:
        fay = HttpPerson(server.base)
        ping_and_close(server.base, fay.start_meeting(), fay)
        assert "Traceback" not in Path(server.log_path).read_text()
    finally:
        server.stop()


@pytest.mark.server
def test_a_socket_is_read_and_written_by_the_app_under_a_gunicorn_gevent_worker(tmp_path):
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}",
           "SECRET_KEY": "wire-contract-secret", "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"],
                            cwd=ROOT, env=env, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while "event=backplane" not in log_path.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log_path.read_text()
            time.sleep(0.1)
        fay = HttpPerson(base)
        ping_and_close(base, fay.start_meeting(), fay)
        assert "Traceback" not in log_path.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
