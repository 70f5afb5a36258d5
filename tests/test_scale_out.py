"""Several real app processes sharing PostgreSQL and Redis, watched through real WebSockets.

Each test starts its own `python app.py` processes on a fresh PostgreSQL database (per module) and a
random Redis key prefix (per test), with the heartbeat, TTL and grace shrunk so death and gaps show fast.
"""

import re
import secrets
import signal
import time

import pytest
import requests

from tests.backends import (
    SHARED_REDIS_URL,
    RedisServer,
    drop_redis_prefix,
    need_postgres,
    need_redis,
    need_redis_server_binary,
    pg_rows,
    pg_url,  # noqa: F401  (fixture)
)
from tests.helpers import AppServer, HttpPerson, receive_until
from tests.test_live import presence_of

pytestmark = pytest.mark.server

FAST = {
    "SECRET_KEY": "scale-out-secret",  # one key for every process: a browser's cookies work on all of them
    "PRESENCE_GRACE_SECONDS": "1",
    "WORKER_HEARTBEAT_SECONDS": "0.5",
    "WORKER_TTL_SECONDS": "2",
    "BACKPLANE_GAP_SECONDS": "0.5",
}


@pytest.fixture
def start_app(pg_url, tmp_path):  # noqa: F811
    """Start `python app.py` processes on the module's database and this test's Redis prefix."""
    need_postgres()
    prefix = f"lctest-{secrets.token_hex(4)}:"
    servers = []

    def start(redis_url=SHARED_REDIS_URL, **env) -> AppServer:
        if redis_url == SHARED_REDIS_URL:
            need_redis()
        srv = AppServer(pg_url, REDIS_URL=redis_url, REDIS_PREFIX=prefix, **FAST, **env)
        servers.append(srv.start(tmp_path / f"server{len(servers)}.log"))
        return srv

    yield start
    for srv in servers:
        srv.stop()
    drop_redis_prefix(SHARED_REDIS_URL, prefix)


def topic_id_in(html: str) -> int:
    return int(re.search(r'<li id="topic-(\d+)" class="card"', html).group(1))


def meeting_across(a: AppServer, b: AppServer):
    """Fay (on a) starts a 3-vote meeting with one topic; Ann joins through b, Bob through a."""
    fay = HttpPerson(a.base)
    code = fay.start_meeting(votes=3)
    ann, bob = HttpPerson(b.base), HttpPerson(a.base)
    ann.join(code, "Ann")
    bob.join(code, "Bob")
    tid = topic_id_in(fay.act(f"/m/{code}/topics", {"title": "Hiring"}, live=False).text)
    return code, tid, fay, ann, bob


def through(server: AppServer, person: HttpPerson) -> HttpPerson:
    """The same browser (cookies and CSRF token) with its requests served by another process."""
    same = HttpPerson(server.base)
    same.http.cookies.update(person.http.cookies)
    same.token = person.token
    return same


def opened(person: HttpPerson, code: str):
    ws = person.socket(code)
    receive_until(ws, lambda f: 'id="columns"' in f)
    return ws


def votes_shown(frame: str, tid: int, count: int) -> bool:
    return f'id="votes-{tid}"' in frame and f"<strong>{count}</strong> vote" in frame


def rendered_by_sender(server: AppServer) -> float:
    """How many changes this process wrote to its sockets as another process had rendered them."""
    metrics = requests.get(server.base + "/metrics").text
    found = re.search(r'^leancoffee_changes_dispatched_total\{rendered="by_sender"\} (\S+)$', metrics, re.M)
    return float(found.group(1)) if found else 0.0


def rendered_here(server: AppServer) -> float:
    """How many changes this process read and rendered itself."""
    metrics = requests.get(server.base + "/metrics").text
    found = re.search(r'^leancoffee_changes_dispatched_total\{rendered="here"\} (\S+)$', metrics, re.M)
    return float(found.group(1)) if found else 0.0


def test_a_process_with_no_screen_of_the_meeting_does_not_render_a_vote_just_to_ship_it(start_app):
    a, b = start_app(), start_app()
    code, tid, fay, ann, bob = meeting_across(a, b)
    fay_ws = opened(fay, code)  # the meeting's one screen is on a; b has none
    receive_until(fay_ws, lambda f: 'id="person-' in f and presence_of(f, "Fay") == "present")
    before_b, before_a = rendered_here(b), rendered_here(a)
    for count in (1, 0, 1):
        answer = ann.act(f"/m/{code}/topics/{tid}/{'vote' if count else 'unvote'}")
        assert answer.status_code == 200 and "votes-" not in answer.text  # a live page's answer carries no board
        receive_until(fay_ws, lambda f, count=count: votes_shown(f, tid, count))
    assert rendered_here(b) == before_b  # nothing asked b for the votes: b never rendered them
    assert rendered_here(a) >= before_a + 3 and rendered_by_sender(a) == 0  # a rendered each vote for its screen


def test_a_vote_cast_through_the_second_process_appears_live_on_the_first(start_app):
    a, b = start_app(), start_app()
    code, tid, fay, ann, bob = meeting_across(a, b)
    fay_ws, ann_ws = opened(fay, code), opened(ann, code)  # Fay's page is served by a, Ann's by b
    # Each arrival is sent as the arriving person's own row (Fay's from a, Ann's from b, then on to a), and
    # a reads the board to render it: let both rows reach Fay, so each vote below is the next version a reads.
    arrived: set[str] = set()
    receive_until(fay_ws, lambda f: arrived.update(
        n for n in ("Fay", "Ann") if presence_of(f, n) == "present" and f.count('class="person ') == 1)
        or arrived == {"Fay", "Ann"})
    response = ann.act(f"/m/{code}/topics/{tid}/vote")
    assert response.status_code == 200
    receive_until(fay_ws, lambda f: votes_shown(f, tid, 1))
    own = receive_until(ann_ws, lambda f: votes_shown(f, tid, 1))
    assert "Remove vote" in own and 'data-left="2"' in own
    # a writes the fragments b rendered, without reading and rendering the vote again (had it read the
    # board for something else after a vote was committed, it would have to render that vote afresh).
    for count in (0, 1):
        assert ann.act(f"/m/{code}/topics/{tid}/{'unvote' if count == 0 else 'vote'}").status_code == 200
        receive_until(fay_ws, lambda f, count=count: votes_shown(f, tid, count))
    assert rendered_by_sender(a) == 3 and rendered_by_sender(b) == 0
    # The request id of Ann's POST follows it into the other process's log of the broadcast.
    rid = response.headers["X-Request-ID"]
    deadline = time.monotonic() + 5
    while f"rid={rid} event=remote_change" not in a.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f"rid={rid} event=remote_change" in a.log_path.read_text()
    fay_ws.close()
    ann_ws.close()


def test_a_new_topic_reaches_the_other_process_with_each_viewers_own_controls(start_app):
    a, b = start_app(), start_app()
    code, _, fay, ann, bob = meeting_across(a, b)
    fay_on_b = through(b, fay)  # the facilitator's second tab, served by b
    fay_ws, bob_ws = opened(fay_on_b, code), opened(bob, code)
    assert ann.act(f"/m/{code}/topics", {"title": "Ann's idea"}).status_code == 200  # through b
    fay_frame = receive_until(fay_ws, lambda f: "Ann&#39;s idea" in f)
    bob_frame = receive_until(bob_ws, lambda f: "Ann&#39;s idea" in f)
    assert "Move to Discussing" in fay_frame and "Delete" in fay_frame
    assert "Move to Discussing" not in bob_frame and ">Vote<" in bob_frame
    fay_ws.close()
    bob_ws.close()


def test_presence_spans_both_processes_and_a_reload_onto_the_other_does_not_flicker(start_app):
    a, b = start_app(), start_app()
    code, _, fay, ann, bob = meeting_across(a, b)
    bob_ws = opened(bob, code)
    ann_ws = opened(ann, code)  # on b
    receive_until(bob_ws, lambda f: presence_of(f, "Ann") == "present")
    ann_ws.close()
    ann_on_a = through(a, ann)
    again = opened(ann_on_a, code)  # her reload lands on the other process, within the grace
    with pytest.raises(AssertionError, match="no matching frame"):
        receive_until(bob_ws, lambda f: presence_of(f, "Ann") == "away", timeout=2.5)
    again.close()
    receive_until(bob_ws, lambda f: presence_of(f, "Ann") == "away", timeout=6)
    bob_ws.close()


def test_killing_a_process_shows_its_participants_away_on_the_other(start_app):
    a, b = start_app(), start_app()
    code, _, fay, ann, bob = meeting_across(a, b)
    bob_ws = opened(bob, code)
    ann_ws = opened(ann, code)  # on b
    receive_until(bob_ws, lambda f: presence_of(f, "Ann") == "present")
    killed_at = time.monotonic()
    b.stop(signal.SIGKILL)
    # No goodbye from b: its liveness key expires (TTL 2 s here, 20 s by default) and a reaps it.
    receive_until(bob_ws, lambda f: presence_of(f, "Ann") == "away", timeout=10)
    assert time.monotonic() - killed_at < 2 + 0.5 + 3
    assert presence_of(bob.http.get(f"{a.base}/m/{code}").text, "Ann") == "away"
    assert presence_of(bob.http.get(f"{a.base}/m/{code}").text, "Bob") == "present"
    ann_ws.close()
    bob_ws.close()


def test_a_lost_message_is_noticed_by_its_version_gap_and_the_screen_resyncs(start_app, pg_url):  # noqa: F811
    import psycopg

    a, b = start_app(), start_app()
    code, _, fay, ann, bob = meeting_across(a, b)
    bob_ws = opened(bob, code)
    assert ann.act(f"/m/{code}/topics", {"title": "Warm-up"}).status_code == 200
    receive_until(bob_ws, lambda f: "Warm-up" in f)  # a is subscribed: messages from b reach it
    # A change whose message never reached Redis: written straight to the database, version bumped.
    with psycopg.connect(pg_url) as conn:
        meeting_id, author_id = conn.execute("SELECT id, facilitator_id FROM meeting WHERE code = %s", (code,)).fetchone()
        conn.execute("UPDATE meeting SET version = version + 1 WHERE id = %s", (meeting_id,))
        conn.execute("INSERT INTO topic (meeting_id, author_id, title, description, status, created_at, updated_at, moved_at) "
                     "VALUES (%s, %s, 'Slipped in', '', 'to_discuss', now(), now(), now())", (meeting_id, author_id))
    assert ann.act(f"/m/{code}/topics", {"title": "Next one"}).status_code == 200  # through b: one version later
    receive_until(bob_ws, lambda f: "Next one" in f)
    # Only a whole board carries the missed card's text: a resynced it after the gap.
    receive_until(bob_ws, lambda f: 'id="columns"' in f and "Slipped in" in f, timeout=5)
    deadline = time.monotonic() + 3  # the frames are written before the resync is logged
    while "reason=version_gap" not in a.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert re.search(r"event=resync meeting=\d+ reason=version_gap", a.log_path.read_text())
    bob_ws.close()


def test_redis_going_away_keeps_actions_working_and_screens_catch_up_when_it_returns(start_app, tmp_path):
    need_redis_server_binary()
    redis_server = RedisServer(tmp_path).start()
    try:
        a, b = start_app(redis_server.url), start_app(redis_server.url)
        code, tid, fay, ann, bob = meeting_across(a, b)
        bob_ws, ann_ws = opened(bob, code), opened(ann, code)  # Bob on a, Ann on b
        receive_until(bob_ws, lambda f: presence_of(f, "Ann") == "present")
        assert requests.get(a.base + "/readyz").status_code == 200

        redis_server.stop()
        time.sleep(0.5)
        ready = requests.get(a.base + "/readyz")
        assert ready.status_code == 503 and "redis: unreachable" in ready.text and "database: ok" in ready.text
        # Ann's live page is on b but her click reaches a (no sticky sessions): with Redis away the
        # change cannot travel to b, so a's answer carries it and she still sees her vote.
        ann_via_a = through(a, ann)
        voted = ann_via_a.act(f"/m/{code}/topics/{tid}/vote", live=True)
        assert voted.status_code == 200 and votes_shown(voted.text, tid, 1) and "Remove vote" in voted.text
        assert pg_rows(a.database_url, "SELECT count(*) FROM vote WHERE topic_id = %s", (tid,)) == [(1,)]

        redis_server.start()  # same port, empty: presence and subscriptions must be rebuilt
        receive_until(bob_ws, lambda f: 'id="columns"' in f and votes_shown(f, tid, 1), timeout=20)
        receive_until(bob_ws, lambda f: presence_of(f, "Ann") == "present", timeout=10)
        assert requests.get(a.base + "/readyz").status_code == 200
        # Live updates resume: the next change crosses processes as before.
        assert ann.act(f"/m/{code}/topics/{tid}/unvote").status_code == 200
        receive_until(bob_ws, lambda f: votes_shown(f, tid, 0), timeout=5)
        log = a.log_path.read_text()
        assert "event=redis_down" in log and "event=redis_up" in log
        bob_ws.close()
        ann_ws.close()
    finally:
        redis_server.stop()


def test_operator_endpoints_report_health_readiness_and_metrics(start_app):
    a, b = start_app(), start_app()
    assert requests.get(a.base + "/healthz").text == "ok\n"
    ready = requests.get(a.base + "/readyz")
    assert ready.status_code == 200 and ready.text == "database: ok\nredis: ok\n"
    code, tid, fay, ann, bob = meeting_across(a, b)
    bob_ws, ann_ws = opened(bob, code), opened(ann, code)  # Bob's page on a, Ann's on b
    # Ann's arrival reaches Bob once a listens to the meeting's channel: a vote before that would only
    # reach him by the resync that heals a late subscription, not as a change from the other process.
    receive_until(bob_ws, lambda f: presence_of(f, "Ann") == "present")
    assert ann.act(f"/m/{code}/topics/{tid}/vote").status_code == 200
    receive_until(bob_ws, lambda f: votes_shown(f, tid, 1))
    time.sleep(0.2)
    metrics = requests.get(a.base + "/metrics")
    assert metrics.headers["Content-Type"].startswith("text/plain")
    text = metrics.text
    assert re.search(r"^leancoffee_open_sockets 1\.0$", text, re.M)
    assert re.search(r"^leancoffee_live_meetings 1\.0$", text, re.M)
    assert re.search(r'^leancoffee_broadcast_latency_seconds_count\{origin="remote"\} [1-9]', text, re.M)
    add_topic = r'^leancoffee_request_duration_seconds_count\{endpoint="actions.add_topic",method="POST"\} 1\.0$'
    assert re.search(add_topic, text, re.M)
    assert re.search(r'^leancoffee_backplane_messages_total\{direction="received"\} [1-9]', text, re.M)
    assert re.search(r"^leancoffee_messages_pushed_total [1-9]", text, re.M)
    assert "leancoffee_send_queue_drops_total 0.0" in text
    bob_ws.close()
    ann_ws.close()


def test_under_hidden_voting_someone_joining_on_another_process_reaches_the_done_count_there(start_app):
    a, b = start_app(), start_app()
    fay = HttpPerson(a.base)
    code = fay.start_meeting(votes=2)
    ann = HttpPerson(b.base)
    ann.join(code, "Ann")
    fay.act(f"/m/{code}/settings", {"timebox_pattern": "8m", "hidden_voting": "1"})
    fay.act(f"/m/{code}/topics", {"title": "Pay"}, live=False)
    fay.press(code, "phase", {"phase": "voting"})
    fay_ws, ann_ws = fay.socket(code), opened(ann, code)  # a screen on each process: b ships its fragments to a
    assert "<strong>0</strong> of 2 people done voting" in receive_until(fay_ws, lambda f: 'id="columns"' in f)

    HttpPerson(b.base).join(code, "Carl")  # b renders the join; a must still count Carl among those voting
    assert "<strong>0</strong> of 3 people done voting" in receive_until(fay_ws, lambda f: "of 3 people" in f, timeout=8)
    for ws in (fay_ws, ann_ws):
        ws.close()
