"""Issue 19 over a real server: unrevealed topics reach their author's tabs alone, anonymous ones name nobody."""

import re

import pytest
import websocket

from tests.helpers import HttpPerson, receive_until
from tests.test_sessions_and_hidden_live import board_version, nothing_arrives

pytestmark = pytest.mark.server


def test_private_anonymous_topics_reach_only_their_author_until_revealed_and_never_name_them(server):
    fay, ann, bob = HttpPerson(server.base), HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting("Quiet ideas", "Fay")
    ann.join(code, "Ann")
    bob.join(code, "Bob")
    settings = {"hidden_voting": "0", "timebox_pattern": "8m", "show_authors": "0", "private_writing": ["0", "1"]}
    assert fay.act(f"/m/{code}/settings", settings).status_code == 200
    ann_tab, ann_other, bob_ws, fay_ws = ann.socket(code), ann.socket(code), bob.socket(code), fay.socket(code)
    room_ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/m/{code}/ws?screen=room",
                                          cookie=fay.cookie_header(), origin=server.base, timeout=10)
    for ws in (ann_tab, ann_other, bob_ws, fay_ws, room_ws):
        receive_until(ws, lambda f: 'id="meeting-status"' in f or 'id="room-board"' in f)
    for ws in (ann_tab, ann_other, bob_ws, fay_ws, room_ws):
        nothing_arrives(ws, 0.6)  # presence settles first
    before = board_version(bob, code)

    assert ann.act(f"/m/{code}/topics", {"title": "Four-day week"}).status_code == 200
    own = receive_until(ann_other, lambda f: "Four-day week" in f)
    assert "Only you see this until the topics are revealed." in own and "yours · anonymous to others" in own
    told = receive_until(bob_ws, lambda f: 'id="writing"' in f)
    assert "1 other person has written topics." in told and "Four-day week" not in told and "topic-" not in told
    assert "Reveal all topics" in receive_until(fay_ws, lambda f: 'id="writing"' in f)
    assert nothing_arrives(room_ws, 0.5) == []

    # A second topic by the same person: no frame at all reaches anyone else, and no version moves.
    ann.act(f"/m/{code}/topics", {"title": "Quieter office"})
    assert "Quieter office" in receive_until(ann_other, lambda f: "Quieter office" in f)
    for ws in (bob_ws, fay_ws, room_ws):
        assert nothing_arrives(ws, 0.8) == []
    assert board_version(bob, code) == before
    assert "Four-day week" not in bob.get(f"/m/{code}").text + bob.get(f"/m/{code}/summary").text
    assert "Four-day week" not in bob.get(f"/m/{code}/summary.md").text + fay.get(f"/m/{code}/summary.csv").text
    assert "Four-day week" not in fay.get(f"/m/{code}/room").text
    metrics = fay.get("/metrics")  # loopback: the operators' view, which counts requests by route, never by topic
    assert metrics.status_code == 200 and "Four-day week" not in metrics.text and "leancoffee_" in metrics.text

    # The reveal: every screen gets every topic at once, and still nobody but Ann learns whose they are.
    assert fay.act(f"/m/{code}/reveal").status_code == 200
    for ws in (bob_ws, fay_ws):
        shown = receive_until(ws, lambda f: "Four-day week" in f and "Quieter office" in f)
        cards = re.findall(r'<li id="topic-\d+" class="card">.*?<p class="byline">([^<]*)</p>', shown, re.S)
        assert cards == ["anonymous", "anonymous"] and "Only you see this" not in shown
    assert "Four-day week" in receive_until(room_ws, lambda f: "Four-day week" in f)
    assert "yours · anonymous to others" in receive_until(ann_other, lambda f: "Four-day week" in f)
    summary = bob.get(f"/m/{code}/summary").text
    assert "proposed by <bdi>anonymous</bdi>" in summary and "Ann" not in summary.split("Attendees")[-1].split("Four-day")[-1]
    markdown = fay.get(f"/m/{code}/summary.md").text
    assert "proposed by anonymous" in markdown and "proposed by Ann" not in markdown
    # The log lines of her writes name no person (they carry the route and the meeting, never a user).
    lines = [line for line in server.log_path.read_text().splitlines() if "endpoint=actions.add_topic" in line]
    assert lines and not any("Ann" in line or "user" in line for line in lines)
