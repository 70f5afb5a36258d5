"""Issue 21 over real servers and sockets: a phase's time-up reaches every screen (after a restart too), and voting
progress reaches the facilitators only; under hidden voting at most one frame per 5 seconds, and nothing per vote."""

import re
import time

import pytest
import websocket

from tests.helpers import AppServer, HttpPerson, receive_until
from tests.test_sessions_and_hidden_live import nothing_arrives

pytestmark = pytest.mark.server

PROGRESS = 'id="voting-progress"'


def room_socket(base: str, person: HttpPerson, code: str):
    return websocket.create_connection(f"ws://{base.split('://', 1)[1]}/m/{code}/ws?screen=room",
                                       cookie=person.cookie_header(), origin=base, timeout=10)


def settled(*sockets):
    """Read each socket's whole board, then let presence frames pass."""
    for ws in sockets:
        receive_until(ws, lambda f: 'id="meeting-status"' in f or 'id="room-board"' in f)
    for ws in sockets:
        nothing_arrives(ws, 0.4)


def test_the_collecting_timebox_runs_out_on_every_screen_and_the_meeting_stays_collecting(server):
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting()
    ann.join(code, "Ann")
    fay.act(f"/m/{code}/settings", {"timebox_pattern": "8m", "collecting_timebox": "2s"})
    fay_ws, ann_ws, room_ws = fay.socket(code), ann.socket(code), room_socket(server.base, fay, code)
    settled(fay_ws, ann_ws, room_ws)
    assert fay.press(code, "timer", {"action": "start"}).status_code == 200
    running = receive_until(ann_ws, lambda f: 'data-state="running"' in f and "data-phase-timer" in f)
    assert "Collecting topics" in running and "2 s timebox" in running
    up = receive_until(ann_ws, lambda f: "Time is up for collecting topics." in f, timeout=6)
    assert "the facilitator moves on when the room is ready" in up and 'data-phase="collecting"' in up
    told = receive_until(fay_ws, lambda f: "open voting when the room is ready" in f, timeout=6)
    assert "+1 minute" in told and "Open voting" in told
    assert "Time is up for collecting topics." in receive_until(room_ws, lambda f: "Time is up" in f, timeout=6)
    nothing_arrives(ann_ws, 1.0)
    assert 'data-phase="collecting"' in ann.get(f"/m/{code}").text  # nothing moved on by itself
    for ws in (fay_ws, ann_ws, room_ws):
        ws.close()


def test_a_running_voting_timebox_survives_a_restart_and_still_runs_out(tmp_path):
    database = f"sqlite:///{tmp_path / 'restart.db'}"
    key = {"SECRET_KEY": "r" * 40}
    first = AppServer(database, **key).start(tmp_path / "first.log")
    try:
        fay = HttpPerson(first.base)
        code = fay.start_meeting()
        fay.act(f"/m/{code}/settings", {"timebox_pattern": "8m", "voting_timebox": "10s"})
        fay.press(code, "phase", {"phase": "voting"})  # opening voting starts its timebox
        ends_at = re.search(r'data-ends-at="(\d+)"', fay.get(f"/m/{code}").text)[1]
    finally:
        first.stop()
    second = AppServer(database, **key).start(tmp_path / "second.log")
    try:
        fay.base = second.base
        ws = fay.socket(code)
        board = receive_until(ws, lambda f: 'id="timer"' in f)
        assert f'data-ends-at="{ends_at}"' in board and "data-phase-timer" in board  # the end time was in the database
        assert "timer-expired" not in board  # still running: the time-up below is this new process's own alarm
        up = receive_until(ws, lambda f: "Time is up for voting." in f, timeout=12)
        assert "close voting when the room is ready" in up
        ws.close()
    finally:
        second.stop()


def voting_meeting(base: str, hidden: bool):
    """Fay's 2-dot meeting (hidden voting or not) joined by Ann and Bob, one topic, voting open."""
    fay, ann, bob = HttpPerson(base), HttpPerson(base), HttpPerson(base)
    code = fay.start_meeting(votes=2)
    ann.join(code, "Ann")
    bob.join(code, "Bob")
    fay.act(f"/m/{code}/settings", {"timebox_pattern": "8m", "hidden_voting": "1" if hidden else "0"})
    tid = int(re.search(r'id="topic-(\d+)"', ann.act(f"/m/{code}/topics", {"title": "Pay"}, live=False).text)[1])
    fay.press(code, "phase", {"phase": "voting"})
    return code, tid, fay, ann, bob


def test_public_voting_progress_reaches_the_facilitator_at_once_and_nobody_else(server):
    code, tid, fay, ann, bob = voting_meeting(server.base, hidden=False)
    fay_ws, bob_ws, room_ws = fay.socket(code), bob.socket(code), room_socket(server.base, fay, code)
    settled(fay_ws, bob_ws, room_ws)
    assert ann.act(f"/m/{code}/topics/{tid}/vote").status_code == 200
    frame = receive_until(fay_ws, lambda f: PROGRESS in f)
    assert "Some: <strong>1</strong>" in frame and "<strong>0</strong> of 3 people done voting" in frame
    assert ann.act(f"/m/{code}/done-voting", {"done": "1"}).status_code == 200
    assert "<strong>1</strong> of 3 people done voting" in receive_until(fay_ws, lambda f: PROGRESS in f)
    assert [f for f in nothing_arrives(bob_ws) if PROGRESS in f or "done-voting" in f] == []
    assert [f for f in nothing_arrives(room_ws) if "done voting" in f] == []
    for ws in (fay_ws, bob_ws, room_ws):
        ws.close()


def test_hidden_voting_sends_the_done_count_at_most_every_5_seconds_and_nothing_per_vote(server):
    code, tid, fay, ann, bob = voting_meeting(server.base, hidden=True)
    fay_ws, bob_ws, room_ws = fay.socket(code), bob.socket(code), room_socket(server.base, fay, code)
    ann_tab = ann.socket(code)
    settled(fay_ws, bob_ws, room_ws, ann_tab)

    assert ann.act(f"/m/{code}/topics/{tid}/vote").status_code == 200  # dots placed: hidden, not even an empty frame
    assert 'data-left="1"' in receive_until(ann_tab, lambda f: 'id="my-dots"' in f)
    for ws in (fay_ws, bob_ws, room_ws):
        assert nothing_arrives(ws, 1.0) == []

    started = time.monotonic()
    for who, done in ((ann, "1"), (bob, "1"), (ann, "0"), (ann, "1")):  # a burst of four
        assert who.act(f"/m/{code}/done-voting", {"done": done}).status_code == 200
    assert "✓ Done voting" in receive_until(ann_tab, lambda f: 'id="done-voting"' in f)
    seen = []
    while time.monotonic() - started < 7.5:
        for frame in nothing_arrives(fay_ws, 0.2):
            seen.append((time.monotonic(), frame))
    progress = [(at, frame) for at, frame in seen if PROGRESS in frame]
    assert len(progress) == 2 and len(seen) == 2, [f[:120] for _, f in seen]  # the first at once, the rest as one
    assert progress[1][0] - progress[0][0] >= 4.5
    last = progress[1][1]
    assert "<strong>2</strong> of 3 people done voting" in last and "All dots placed" not in last and "Some:" not in last
    assert [f for f in nothing_arrives(bob_ws, 0.5) if PROGRESS in f] == []
    assert nothing_arrives(room_ws, 0.5) == []  # the room screen never hears of it
    for ws in (fay_ws, bob_ws, room_ws, ann_tab):
        ws.close()
