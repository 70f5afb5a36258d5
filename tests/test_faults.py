"""Faults that must heal by themselves: restarts, slow readers, a busy database, signing out."""

import base64
import os
import signal
import socket
import sqlite3
import statistics
import threading
import time
from contextlib import contextmanager

import pytest
import websocket

from leancoffee.factory import create_app
from leancoffee.models import Vote
from tests.helpers import AppServer, HttpPerson, close_code, receive_until
from tests.test_live import presence_of

PING_FRAME = b"\x89\x00"  # a server's ping without payload

pytestmark = pytest.mark.server


def test_a_restart_closes_with_1012_and_the_reconnect_brings_the_current_board(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'restart.db'}"
    first = AppServer(db_url).start(tmp_path / "first.log")
    try:
        fay, ann = HttpPerson(first.base), HttpPerson(first.base)
        code = fay.start_meeting()
        ann.join(code, "Ann")
        ws = ann.socket(code)
        receive_until(ws, lambda f: 'id="columns"' in f)
        first.stop(signal.SIGTERM)
        assert close_code(ws) == 1012  # "service restart": hx-ws reconnects by itself
    finally:
        first.stop()
    second = AppServer(db_url)
    second.port, second.base = first.port, first.base  # same address, as after a real restart
    second.start(tmp_path / "second.log")
    try:
        fay.act(f"/m/{code}/topics", {"title": "Added after the restart"}, live=False)
        again = ann.socket(code)  # the same cookies still work: nothing lost
        board = again.recv()
        assert 'id="columns"' in board and "Added after the restart" in board
        again.close()
    finally:
        second.stop()


def raw_socket_that_never_reads(base: str, code: str, cookie: str) -> socket.socket:
    """A WebSocket client that completes the handshake and then stops reading (a frozen tab)."""
    return raw_socket(base, code, cookie, receive_buffer=4096)


def raw_socket(base: str, code: str, cookie: str, receive_buffer: int | None = None) -> socket.socket:
    """A WebSocket client that completes the handshake and then does only what the test does with it."""
    host, port = base.split("://", 1)[1].split(":")
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET /m/{code}/ws HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13", f"Origin: {base}", f"Cookie: {cookie}", "", ""]
    sock.sendall("\r\n".join(lines).encode())
    assert b"101" in sock.recv(200)
    return sock


@contextmanager
def fay_on_her_board_and_ann_joined(tmp_path, **env):
    """A server started with env; Fay's meeting, which Ann joined; Fay's board socket open."""
    srv = AppServer(f"sqlite:///{tmp_path / 'faults.db'}", **env).start(tmp_path / "faults.log")
    try:
        fay, ann = HttpPerson(srv.base), HttpPerson(srv.base)
        code = fay.start_meeting()
        ann.join(code, "Ann")
        fay_ws = fay.socket(code)  # websocket-client answers each ping as it reads
        receive_until(fay_ws, lambda f: 'id="columns"' in f)
        yield srv, code, fay, ann, fay_ws
    finally:
        srv.stop()


def test_a_page_that_stops_answering_pings_is_closed_and_the_others_stay(tmp_path):
    with fay_on_her_board_and_ann_joined(tmp_path, SOCKET_PING_SECONDS="0.5") as (srv, code, fay, ann, fay_ws):
        silent = raw_socket(srv.base, code, ann.cookie_header())  # reads everything, answers nothing
        silent.settimeout(10)
        received, started = [], time.monotonic()

        def read_to_the_end():
            while chunk := silent.recv(65536):
                received.append(chunk)
            received.append(time.monotonic() - started)

        reader = threading.Thread(target=read_to_the_end)
        reader.start()
        receive_until(fay_ws, lambda f: presence_of(f, "Ann") == "present")
        receive_until(fay_ws, lambda f: presence_of(f, "Ann") == "away", timeout=6)  # Fay's reads answer her pings
        reader.join(timeout=5)
        *chunks, closed_after = received
        # Pinged, unanswered, pinged again: closed with 1013 (come back and resync) about a second in.
        assert PING_FRAME in b"".join(chunks) and b"".join(chunks).endswith(b"\x88\x02" + (1013).to_bytes(2, "big"))
        assert closed_after < 5
        # Fay answers: four more pings later her socket still carries the board's changes.
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            with pytest.raises(AssertionError, match="no matching frame"):
                receive_until(fay_ws, lambda f: False, timeout=0.5)
        assert fay.act(f"/m/{code}/topics", {"title": "Still here"}).status_code == 200
        receive_until(fay_ws, lambda f: "Still here" in f)
        assert presence_of(fay.http.get(f"{srv.base}/m/{code}").text, "Fay") == "present"


def test_a_full_worker_refuses_new_sockets_with_503_until_one_closes(tmp_path):
    with fay_on_her_board_and_ann_joined(tmp_path, MAX_LIVE_SOCKETS="1") as (srv, code, fay, ann, fay_ws):
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            ann.socket(code)
        assert refused.value.status_code == 503  # refused before the upgrade: nothing half-open
        fay_ws.close()
        deadline = time.monotonic() + 5
        while True:  # the closed socket is detached as soon as its reader sees the close
            try:
                ann_ws = ann.socket(code)
                break
            except websocket.WebSocketBadStatusException:
                assert time.monotonic() < deadline, "the worker never took a socket again"
                time.sleep(0.1)
        assert 'id="columns"' in receive_until(ann_ws, lambda f: 'id="columns"' in f)
        ann_ws.close()


def flood(facilitator: HttpPerson, code: str, watcher, rounds: int) -> list[float]:
    """Toggle hidden voting `rounds` times (each resends every board whole, ~40 KB a frame).

    Returns the watcher's latency (ms) for each change to arrive.
    """
    latencies = []
    for i in range(rounds):
        hidden = i % 2 == 0
        started = time.perf_counter()
        data = {"timebox_pattern": "8m 4m 2m", **({"hidden_voting": "1"} if hidden else {})}
        assert facilitator.act(f"/m/{code}/settings", data).status_code == 200
        receive_until(watcher, lambda f, h=hidden: 'id="columns"' in f and ("Hidden voting:</strong>" in f) == h)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def test_a_reader_that_stops_is_cut_off_and_does_not_slow_the_others(tmp_path, capsys):
    srv = AppServer(f"sqlite:///{tmp_path / 'slow.db'}", SEND_QUEUE_LIMIT="8",
                    RATE_LIMIT_WRITES="off").start(tmp_path / "server.log")
    try:
        fay, ann, bob = HttpPerson(srv.base), HttpPerson(srv.base), HttpPerson(srv.base)
        code = fay.start_meeting()
        ann.join(code, "Ann")
        bob.join(code, "Bob")
        filler = "long description " * 29  # big boards fill the frozen client's buffers sooner
        for i in range(20):
            fay.act(f"/m/{code}/topics", {"title": f"Topic {i}", "description": filler}, live=False)
        watcher = ann.socket(code)
        receive_until(watcher, lambda f: 'id="columns"' in f)
        alone = flood(fay, code, watcher, 40)
        frozen = raw_socket_that_never_reads(srv.base, code, bob.cookie_header())
        with_frozen = flood(fay, code, watcher, 200)
        log = (tmp_path / "server.log").read_text()
        assert "client_behind" in log  # the frozen client was cut off once its queue filled
        frozen.settimeout(5)
        drained = 0
        try:
            while chunk := frozen.recv(65536):  # what was already in flight, then the end
                drained += len(chunk)
        except ConnectionResetError:
            pass
        assert drained > 0  # it was sent frames until its buffers filled; then the server hung up
        with capsys.disabled():
            print(f"\n[slow reader] watcher latency ms: alone p50={statistics.median(alone):.1f} "
                  f"max={max(alone):.1f}; with a frozen client p50={statistics.median(with_frozen):.1f} "
                  f"max={max(with_frozen):.1f} (n={len(alone)}/{len(with_frozen)})")
        watcher.close()
    finally:
        srv.stop()


def test_a_locked_database_fails_cleanly_with_a_retryable_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    path = tmp_path / "busy.db"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}", "SQLITE_BUSY_TIMEOUT_MS": 200})
    from tests.conftest import Person

    fay = Person(app)
    code = fay.post("/meetings", {"title": "T", "votes_per_person": "3", "name": "Fay"}, htmx=False).headers["Location"][3:]
    fay.post(f"/m/{code}/topics", {"title": "Busy topic"})
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        response = fay.post(f"/m/{code}/topics/1/vote")
        assert response.status_code == 503 and response.headers["Retry-After"] == "1"
        assert "busy right now" in response.text and "nothing was changed" in response.text
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert Vote.select().count() == 0  # no half-written vote
    assert fay.post(f"/m/{code}/topics/1/vote").status_code == 200  # and a retry works
    assert Vote.select().count() == 1


def test_signing_out_closes_that_users_open_sockets(server):
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting()
    ann.join(code, "Ann")
    tabs = [ann.socket(code), ann.socket(code)]
    others = fay.socket(code)
    for ws in (*tabs, others):
        receive_until(ws, lambda f: 'id="columns"' in f)
    assert ann.http.post(f"{server.base}/logout", data={"csrf_token": ann.token}, allow_redirects=False).status_code == 303
    assert [close_code(ws) for ws in tabs] == [1008, 1008]
    others.ping()  # Fay's socket is untouched
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        ann.socket(code)  # and the signed-out browser cannot open a new one
    assert refused.value.status_code == 401
    others.close()
