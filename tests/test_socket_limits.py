"""One socket or one person can't hurt the others: floods are closed, sockets per person capped (issue 15)."""

import threading
import time

import pytest
import requests
import websocket

from tests.helpers import AppServer, HttpPerson, receive_until

pytestmark = pytest.mark.server

FLOODS = {
    "pings": (websocket.ABNF.OPCODE_PING, b"x" * 100),
    "unasked pongs": (websocket.ABNF.OPCODE_PONG, b""),
    "text messages": (websocket.ABNF.OPCODE_TEXT, b"y" * 4000),
    "binary messages": (websocket.ABNF.OPCODE_BINARY, b"\x00" * 1000),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("limits")
    srv = AppServer(f"sqlite:///{tmp / 'limits.db'}", MAX_SOCKETS_PER_PERSON="5").start(tmp / "server.log")
    yield srv
    srv.stop()


def close_code_of(ws, within: float) -> int | None:
    """Read (pongs and all) until the server's close frame; its code, or None if none came in time."""
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            ws.settimeout(max(0.05, deadline - time.monotonic()))
            opcode, data = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return int.from_bytes(data[:2], "big")
    except (websocket.WebSocketTimeoutException, OSError, websocket.WebSocketConnectionClosedException):
        return None
    return None


@pytest.mark.parametrize("kind", FLOODS)
def test_a_flooding_socket_is_closed_and_the_worker_keeps_serving_everyone_else(server, kind):
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting()
    ann.join(code, "Ann")
    watcher, flood = fay.socket(code), ann.socket(code)
    for ws in (watcher, flood):
        receive_until(ws, lambda f: 'id="columns"' in f)
    opcode, payload = FLOODS[kind]
    stop = threading.Event()

    def send_forever():
        try:
            while not stop.is_set():
                flood.send(payload, opcode)
        except Exception:  # the server closed it: that is the point
            pass

    sender = threading.Thread(target=send_forever, daemon=True)
    started = time.monotonic()
    sender.start()
    try:
        slowest = 0.0
        for _ in range(10):  # /healthz throughout the flood
            t0 = time.monotonic()
            assert requests.get(server.base + "/healthz", timeout=2).status_code == 200
            slowest = max(slowest, time.monotonic() - t0)
            time.sleep(0.05)
        assert close_code_of(flood, 2.0) == 1008, kind
        assert time.monotonic() - started < 3.0
        assert slowest < 2.0
        # Everyone else's board still follows the meeting.
        assert fay.act(f"/m/{code}/topics", {"title": f"After the {kind}"}).status_code == 200
        assert f"After the {kind}" in receive_until(watcher, lambda f: f"After the {kind}" in f)
    finally:
        stop.set()
        sender.join(5)
        for ws in (watcher, flood):
            ws.close()
    metrics = requests.get(server.base + "/metrics").text
    assert "leancoffee_sockets_flooding_total" in metrics


def test_a_page_that_only_answers_pings_is_never_closed(server):
    fay = HttpPerson(server.base)
    code = fay.start_meeting()
    ws = fay.socket(code)
    receive_until(ws, lambda f: 'id="columns"' in f)
    for _ in range(30):  # more than a browser sends in a window, spread as a browser would not need to
        ws.pong(b"")
    assert close_code_of(ws, 1.0) is None
    assert fay.act(f"/m/{code}/topics", {"title": "Still here"}).status_code == 200
    assert "Still here" in receive_until(ws, lambda f: "Still here" in f)
    ws.close()


def test_one_person_holds_at_most_the_cap_of_sockets_and_others_are_not_locked_out(server):
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting()
    ann.join(code, "Ann")
    mine = [fay.socket(code) for _ in range(5)]
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        fay.socket(code)
    assert refused.value.status_code == 429
    ann_ws = ann.socket(code)  # someone else still gets in
    receive_until(ann_ws, lambda f: 'id="columns"' in f)
    mine.pop().close()  # one of hers closes: she may open one again
    deadline = time.monotonic() + 5
    while True:
        try:
            mine.append(fay.socket(code))
            break
        except websocket.WebSocketBadStatusException:
            assert time.monotonic() < deadline, "a closed socket never made room"
            time.sleep(0.1)
    for ws in [*mine, ann_ws]:
        ws.close()
