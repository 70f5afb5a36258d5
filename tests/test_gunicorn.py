"""`gunicorn -c gunicorn.conf.py` with several gevent workers on PostgreSQL and Redis, as an operator runs it."""

import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.backends import SHARED_REDIS_URL, drop_redis_prefix, need_postgres, need_redis, pg_rows, pg_url  # noqa: F401  (fixture)
from tests.helpers import ROOT, HttpPerson, close_code, free_port, receive_until

pytestmark = pytest.mark.server
WORKERS = 3


@pytest.fixture
def gunicorn(pg_url, tmp_path):  # noqa: F811
    """gunicorn with WORKERS gevent workers on a free port; yields (base URL, log path)."""
    need_postgres()
    need_redis()
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    prefix = f"lctest-{secrets.token_hex(4)}:"
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "DATABASE_URL": pg_url,
        "REDIS_URL": SHARED_REDIS_URL,
        "REDIS_PREFIX": prefix,
        "SECRET_KEY": "gunicorn-test-secret",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(WORKERS),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"],
        cwd=ROOT, env=env, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, log_path.read_text()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    # Every worker has booted when the log has one line per worker from the app.
    while log_path.read_text().count("event=backplane") < WORKERS and time.monotonic() < deadline:
        time.sleep(0.1)
    yield base, log_path, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    drop_redis_prefix(SHARED_REDIS_URL, prefix)


def test_several_gunicorn_workers_serve_one_meeting_as_one_app(gunicorn):
    base, log_path, proc = gunicorn
    assert requests.get(base + "/readyz").text == "database: ok\nredis: ok\n"
    fay = HttpPerson(base)
    code = fay.start_meeting(votes=3)
    people = [HttpPerson(base) for _ in range(8)]
    for i, person in enumerate(people):
        person.join(code, f"P{i}")
    tid = int(re.search(r'<li id="topic-(\d+)" class="card"',
                        fay.act(f"/m/{code}/topics", {"title": "Scale"}, live=False).text).group(1))
    sockets = []
    for person in people:  # no sticky sessions: the kernel hands each connection to any worker
        ws = person.socket(code)
        receive_until(ws, lambda f: 'id="columns"' in f)
        sockets.append(ws)
    for person in people:
        assert person.act(f"/m/{code}/topics/{tid}/vote").status_code == 200
    for ws in sockets:
        receive_until(ws, lambda f: f'id="votes-{tid}"' in f and "<strong>8</strong> vote" in f)
    # /metrics adds the workers up: eight sockets however they were spread.
    metrics = requests.get(base + "/metrics").text
    assert re.search(r"^leancoffee_open_sockets 8\.0$", metrics, re.M), metrics
    log = log_path.read_text()
    workers_that_served = set(re.findall(r"worker=(\S+) rid=\S+ event=request", log))
    assert len(workers_that_served) >= 2, "every request went to one worker: nothing crossed Redis"
    # SIGTERM: each worker closes its sockets with 1012, so browsers reconnect by themselves.
    proc.send_signal(signal.SIGTERM)
    for ws in sockets:
        assert close_code(ws, timeout=10) == 1012
    assert proc.wait(15) == 0


def test_the_write_limit_is_one_budget_across_workers(gunicorn, pg_url):  # noqa: F811
    base, log_path, _ = gunicorn
    fay = HttpPerson(base)
    code = fay.start_meeting()
    headers = {"HX-Request": "true", "X-CSRFToken": fay.token, "Connection": "close"}  # a new connection each: any worker

    def post(i):
        return requests.post(f"{base}/m/{code}/topics", data={"title": f"T{i}"}, headers=headers, cookies=fay.http.cookies)

    # Eight at a time: one after another, a single worker's accept loop may win every connection (it did, now and then).
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, range(100)))
    assert sorted(a.status_code for a in answers) == [200] * 40 + [429] * 60  # 40 per 10 seconds, whichever worker counted
    refused = [a for a in answers if a.status_code == 429]
    assert all(1 <= int(a.headers["Retry-After"]) <= 10 for a in refused), [a.headers["Retry-After"] for a in refused]
    assert all("going a bit fast" in a.text for a in refused)
    saved = pg_rows(pg_url, "SELECT count(*) FROM topic JOIN meeting ON meeting.id = topic.meeting_id WHERE meeting.code = %s",
                    (code,))
    assert saved == [(40,)]
    log = log_path.read_text()
    assert len(set(re.findall(r'worker=(\S+) rid=\S+ event=request method=POST route="/m/<meeting_code:code>/topics"', log))) >= 2
