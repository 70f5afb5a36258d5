"""Issue 18 over a real server and real WebSocket clients: a 1,003-person meeting (20 topics, 40 notes, in the middle of
its discussion, like bench/storm.py's) sends each member's screen a first frame under 32 KB, counts instead of rows, and
presence as counts; its people page lists everyone to members only."""

import re

import pytest

from tests.crowd_helpers import db_file, seed_people
from tests.helpers import AppServer, HttpPerson, receive_until

TOPIC_RE = re.compile(r'<li id="topic-(\d+)" class="card"')
COUNT_RE = re.compile(r'id="participants-count" class="people-count"><span class="count">(\d+)</span> '
                      r'<span class="here-count">(\d+) here')


def mid_discussion(fay: HttpPerson, code: str, topics: int = 20, notes: int = 40) -> None:
    """Topics, half of them discussed with the notes on them (half actions owned by people of the crowd), one being
    discussed: the board bench/storm.py measures."""
    ids = []
    for i in range(topics):
        answer = fay.act(f"/m/{code}/topics", {"title": f"Topic {i}: what we should try next"}, live=False)
        ids.append(int(TOPIC_RE.search(answer.text).group(1)))
    for now, phase in (("collecting", "voting"), ("voting", "discussing")):
        assert fay.act(f"/m/{code}/phase", {"phase": phase, "expected": now}).status_code == 200
    discussed = ids[: topics // 2]
    for i in range(notes):
        kind = "action" if i % 2 else "takeaway"
        form = {"kind": kind, "text": f"Note {i}: something the group agreed on", "owner": f"Crowd {i:04d}" if i % 2 else ""}
        assert fay.act(f"/m/{code}/topics/{discussed[i % len(discussed)]}/notes", form).status_code == 200
    for topic_id in discussed:
        assert fay.act(f"/m/{code}/topics/{topic_id}/move", {"status": "discussed", "expected": "to_discuss"}).status_code == 200
    assert fay.act(f"/m/{code}/topics/{ids[len(discussed)]}/move", {"status": "discussing", "expected": "to_discuss"}).ok


@pytest.fixture(scope="module")
def crowd(tmp_path_factory):
    """A server of its own with Fay's meeting: Ann, Bob and 1,000 more people."""
    tmp = tmp_path_factory.mktemp("crowd")
    server = AppServer(f"sqlite:///{tmp / 'crowd.db'}", RATE_LIMIT_WRITES="off").start(tmp / "server.log")
    try:
        fay, ann, bob = (HttpPerson(server.base) for _ in range(3))
        code = fay.start_meeting("A thousand screens", "Fay")
        ann.join(code, "Ann")
        bob.join(code, "Bob")
        seed_people(db_file(server.database_url), code, 1000)
        mid_discussion(fay, code)
        yield server, code, fay, ann, bob
    finally:
        server.stop()


def test_a_members_first_frame_at_a_thousand_people_is_under_32_kb_and_counts_them(crowd):
    server, code, fay, ann, bob = crowd
    ws = ann.socket(code)
    try:
        first = ws.recv()
    finally:
        ws.close()
    size = len(first.encode())
    assert size <= 32 * 1024, size
    assert COUNT_RE.search(first).group(1) == "1003"
    assert 'id="participants-list"' not in first and "Crowd 0500" not in first and "See everyone" in first
    assert first.count('id="person-') == 1  # Fay, the facilitator, named
    assert first.count('id="topic-body-') == 20 and first.count('class="note note-') == 40


def test_presence_reaches_a_crowds_screens_as_counts_not_rows(crowd):
    server, code, fay, ann, bob = crowd
    ws = ann.socket(code)
    try:
        here = int(COUNT_RE.search(ws.recv()).group(2))
        bobs = bob.socket(code)
        came = receive_until(ws, lambda f: 'id="participants-count"' in f and f'>{here + 1} here' in f, timeout=10)
        assert 'id="person-' not in came and "Bob" not in came and len(came) < 500, came
        bobs.close()  # away after the grace (1 s here) and the crowd's batch (1 s)
        went = receive_until(ws, lambda f: 'id="participants-count"' in f and f'>{here} here' in f, timeout=10)
        assert 'id="person-' not in went and "Bob" not in went
    finally:
        ws.close()


def test_the_people_page_lists_all_to_a_member_and_refuses_a_stranger(crowd):
    server, code, fay, ann, bob = crowd
    page = ann.get(f"/m/{code}/people")
    assert page.status_code == 200 and len(re.findall(r'id="everyone-\d+"', page.text)) == 1003
    assert "Crowd 0999" in page.text and "Bob" in page.text
    stranger = HttpPerson(server.base)
    refused = stranger.get(f"/m/{code}/people")
    assert refused.status_code == 403 and "Only the people in this meeting see who is in it" in refused.text
    assert "Crowd 0001" not in refused.text
    board = ann.get(f"/m/{code}").text
    assert "Crowd 0999" not in board and board.count("<option value=") == 2  # owner suggestions: Fay and Ann
