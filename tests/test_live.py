"""Live updates over real WebSockets against the real server (`python app.py` in a subprocess)."""

import re
import signal

import pytest
import websocket

from tests.helpers import AppServer, HttpPerson, close_code, receive_until

pytestmark = pytest.mark.server


@pytest.fixture
def room(server):
    """Fay's meeting with Ann and Bob joined, each a separate HTTP session."""
    fay, ann, bob = HttpPerson(server.base), HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting(votes=2)
    ann.join(code, "Ann")
    bob.join(code, "Bob")
    return code, fay, ann, bob


def topic_id(response) -> int:
    return int(re.search(r'<li id="topic-(\d+)" class="card"', response.text).group(1))


def test_first_frame_is_the_whole_board_and_deflate_is_not_used(room):
    code, fay, ann, _ = room
    ann.act(f"/m/{code}/topics", {"title": "Before connecting"}, live=False)
    ws = ann.socket(code)
    assert "sec-websocket-extensions" not in {k.lower() for k in ws.getheaders()}
    first = ws.recv()
    for region in ('id="meeting-status"', 'id="participants"', 'id="my-dots"', 'id="columns"'):
        assert region in first
    assert "Before connecting" in first
    ws.close()


def test_a_vote_by_ann_reaches_bob_and_her_own_state_only_her(room):
    code, fay, ann, bob = room
    tid = topic_id(fay.act(f"/m/{code}/topics", {"title": "Hiring"}, live=False))
    ann_ws, bob_ws = ann.socket(code), bob.socket(code)
    receive_until(ann_ws, lambda f: 'id="columns"' in f)
    receive_until(bob_ws, lambda f: 'id="columns"' in f)
    assert ann.act(f"/m/{code}/topics/{tid}/vote").status_code == 200
    bob_frame = receive_until(bob_ws, lambda f: f'id="votes-{tid}"' in f)
    assert "<strong>1</strong> vote " in bob_frame and 'id="my-dots"' not in bob_frame
    ann_frame = receive_until(ann_ws, lambda f: f'id="votes-{tid}"' in f)
    assert "Remove vote" in ann_frame and 'data-left="1"' in ann_frame
    ann_ws.close()
    bob_ws.close()


def test_new_topic_reaches_others_with_their_own_controls(room):
    code, fay, ann, bob = room
    fay_ws, bob_ws = fay.socket(code), bob.socket(code)
    for ws in (fay_ws, bob_ws):
        receive_until(ws, lambda f: 'id="columns"' in f)
    ann.act(f"/m/{code}/topics", {"title": "Ann's idea"})
    fay_frame = receive_until(fay_ws, lambda f: "Ann&#39;s idea" in f)
    bob_frame = receive_until(bob_ws, lambda f: "Ann&#39;s idea" in f)
    assert "Move to Discussing" in fay_frame and "Delete" in fay_frame
    assert "Move to Discussing" not in bob_frame and "Delete" not in bob_frame and ">Vote<" in bob_frame
    fay_ws.close()
    bob_ws.close()


def test_every_kind_of_change_reaches_other_screens(room):
    code, fay, ann, bob = room
    bob_ws = bob.socket(code)
    receive_until(bob_ws, lambda f: 'id="columns"' in f)
    tid = topic_id(ann.act(f"/m/{code}/topics", {"title": "First title"}, live=False))
    receive_until(bob_ws, lambda f: f'<li id="topic-{tid}" class="card"' in f)  # TopicAdded
    ann.act(f"/m/{code}/topics/{tid}/edit", {"title": "Better title"})
    receive_until(bob_ws, lambda f: f'id="topic-body-{tid}"' in f and "Better title" in f)  # TopicEdited
    ann.act(f"/m/{code}/topics/{tid}/vote")
    receive_until(bob_ws, lambda f: f'id="votes-{tid}"' in f and "<strong>1</strong>" in f)  # VoteCast
    ann.act(f"/m/{code}/topics/{tid}/unvote")
    receive_until(bob_ws, lambda f: f'id="votes-{tid}"' in f and "<strong>0</strong>" in f)  # VoteRemoved
    fay.press(code, f"topics/{tid}/move", {"status": "discussed"})
    receive_until(bob_ws, lambda f: '<ol id="list-discussed"' in f and f'id="topic-{tid}"' in f)  # TopicStatusChanged
    fay.act(f"/m/{code}/status", {"status": "in_progress", "expected": "planned"})  # no button posts it: opening voting does
    receive_until(bob_ws, lambda f: 'data-status="in_progress"' in f)  # SessionStatusChanged
    eve = HttpPerson(fay.base)
    eve.join(code, "Eve")
    joined = receive_until(bob_ws, lambda f: 'beforeend:#participants-list' in f and "Eve" in f)  # ParticipantJoined
    eve_row = re.search(r'<li class="person away" id="(person-\d+)">', joined)[1]
    eve.http.post(f"{fay.base}/m/{code}/leave", data={"csrf_token": eve.token, "confirmed": "1"}, allow_redirects=False)
    receive_until(bob_ws, lambda f: f'<div id="{eve_row}" hx-swap-oob="delete">' in f and "Eve" not in f)  # ParticipantLeft
    fay.act(f"/m/{code}/topics/{tid}/delete", {"confirmed": "1"})
    receive_until(bob_ws, lambda f: f'id="topic-{tid}" hx-swap-oob="delete"' in f)  # TopicDeleted
    bob_ws.close()


def test_reconnecting_gets_what_was_missed(room):
    code, fay, ann, bob = room
    bob_ws = bob.socket(code)
    receive_until(bob_ws, lambda f: 'id="columns"' in f)
    bob_ws.close()
    ann.act(f"/m/{code}/topics", {"title": "Added while Bob was offline"})
    bob_ws = bob.socket(code)
    first = bob_ws.recv()
    assert 'id="columns"' in first and "Added while Bob was offline" in first
    bob_ws.close()


def presence_of(frame: str, name: str) -> str | None:
    """'present' or 'away' for a name in a pushed participant list (None if not in this frame)."""
    match = re.search(r'<li class="person (present|away)"[^>]*>\s*<span class="presence-dot"[^>]*></span>\s*'
                      r'<span class="person-name"><bdi>' + re.escape(name) + "<", frame)
    return match.group(1) if match else None


def test_presence_counts_tabs_once_and_survives_a_reload(room):
    code, fay, ann, bob = room
    bob_ws = bob.socket(code)
    receive_until(bob_ws, lambda f: 'id="columns"' in f)
    tab1, tab2 = ann.socket(code), ann.socket(code)
    receive_until(bob_ws, lambda f: presence_of(f, "Ann") == "present")
    tab1.close()  # one of two tabs closed, then the other reloaded within the grace: no flicker
    tab2.close()
    tab3 = ann.socket(code)
    receive_until(tab3, lambda f: 'id="columns"' in f)
    with pytest.raises(AssertionError, match="no matching frame"):
        receive_until(bob_ws, lambda f: presence_of(f, "Ann") == "away", timeout=2.0)
    tab3.close()  # the last tab gone: away once the grace period (1 s in tests) is over
    receive_until(bob_ws, lambda f: presence_of(f, "Ann") == "away", timeout=5)
    back = ann.socket(code)
    receive_until(bob_ws, lambda f: presence_of(f, "Ann") == "present", timeout=5)
    back.close()
    bob_ws.close()


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1.evil.example"])
def test_handshake_from_another_origin_is_refused(room, origin):
    code, _, ann, _ = room
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        ann.socket(code, origin=origin)
    assert refused.value.status_code == 403


def test_handshake_needs_a_logged_in_participant(room, server):
    code, *_ = room
    stranger = HttpPerson(server.base)
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        stranger.socket(code)
    assert refused.value.status_code == 401
    stranger.start_meeting("Elsewhere", "Eve")  # logged in, but not in this meeting
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        stranger.socket(code)
    assert refused.value.status_code == 403


def test_graceful_shutdown_closes_sockets_with_1012(tmp_path):
    srv = AppServer(f"sqlite:///{tmp_path / 'restart.db'}").start(tmp_path / "server.log")
    try:
        fay = HttpPerson(srv.base)
        code = fay.start_meeting()
        ws = fay.socket(code)
        receive_until(ws, lambda f: 'id="columns"' in f)
        srv.stop(signal.SIGTERM)
        assert close_code(ws) == 1012  # after any frames queued before the shutdown
    finally:
        srv.stop()


def test_time_up_reaches_every_screen_and_a_reconnect_gets_the_same_end_time(server):
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting()
    ann.join(code, "Ann")
    fay.act(f"/m/{code}/settings", {"timebox_pattern": "2s 1s"})
    ann.act(f"/m/{code}/topics", {"title": "Short one"})
    ann_ws = ann.socket(code)
    receive_until(ann_ws, lambda f: 'id="columns"' in f)
    fay.press(code, "phase", {"phase": "voting"})
    fay.press(code, "discuss-next")
    running = receive_until(ann_ws, lambda f: 'data-state="running"' in f)
    ends_at = re.search(r'data-ends-at="(\d+)"', running).group(1)
    again = fay.socket(code)  # a screen that joins in the middle sees the same end time
    assert f'data-ends-at="{ends_at}"' in receive_until(again, lambda f: 'id="timer"' in f)
    up = receive_until(ann_ws, lambda f: "Time is up" in f, timeout=6)
    assert "👍 Yes" in up and "timer-expired" in up
    ann.act(f"/m/{code}/thumbs", {"choice": "up"})
    counts = receive_until(again, lambda f: 'id="thumbs-counts"' in f and "<strong>1</strong> continue" in f)
    assert 'aria-pressed="true"' not in counts  # Ann's own choice shows on her screens only
    ann_ws.close()
    again.close()


def test_the_room_screen_follows_the_meeting_live(room):
    code, fay, ann, bob = room
    screen = websocket.create_connection(
        f"ws://{fay.base.split('://', 1)[1]}/m/{code}/ws?screen=room", cookie=fay.cookie_header(), origin=fay.base, timeout=10)
    first = screen.recv()
    assert 'id="room-board"' in first and 'id="columns"' not in first  # the room has its own regions
    ann.act(f"/m/{code}/topics", {"title": "On the big screen"})
    receive_until(screen, lambda f: 'id="room-board"' in f and "On the big screen" in f)
    fay.press(code, "phase", {"phase": "voting"})
    fay.press(code, "discuss-next")
    now = receive_until(screen, lambda f: 'class="room-topic"' in f)
    assert '<h2 class="room-topic">On the big screen</h2>' in now and 'data-state="running"' in now
    assert "<form" not in now  # read-only
    screen.close()
