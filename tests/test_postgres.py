"""The same rules on a real PostgreSQL: every service, action and race test again, plus several app processes at once.

The service, HTTP-action and concurrency tests are imported from their modules and run here a second
time with `app` on a fresh PostgreSQL database per test (created, then dropped with FORCE).
"""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from peewee import IntegrityError

from leancoffee.db import db
from leancoffee.factory import create_app
from leancoffee.models import Vote
from leancoffee.services import meetings, topics, votes
from tests.backends import fresh_postgres_database, need_postgres, pg_rows
from tests.helpers import AppServer, HttpPerson
from tests.test_actions import *  # noqa: F403  (collected again, on PostgreSQL)
from tests.test_concurrency import (  # noqa: F401  (collected again, on PostgreSQL)
    WORKERS,
    ballot,
    test_interleaved_vote_and_unvote_keep_counts_equal_to_stored_votes,
    test_many_identical_votes_at_once_store_exactly_one,
    test_more_simultaneous_votes_than_the_budget_store_exactly_the_budget,
    test_separate_processes_cannot_exceed_the_budget,
)
from tests.test_meeting_time import (  # noqa: F401  (collected again, on PostgreSQL)
    test_opening_voting_ends_collecting_and_starts_the_voting_timebox,
    test_settings_store_the_clock_and_a_form_without_its_fields_leaves_it,
    test_starting_the_collecting_timebox_starts_the_meeting_and_time_up_moves_nothing,
    timed,
)
from tests.test_services import *  # noqa: F403  (collected again, on PostgreSQL)
from tests.test_voting_progress import (  # noqa: F401  (collected again, on PostgreSQL)
    test_done_voting_under_hidden_voting_leaves_the_version_alone,
    test_progress_counts_done_and_all_some_or_none_of_the_dots,
    test_under_hidden_voting_no_dot_count_is_even_read,
    voting,
)


def topic_id_in(html: str) -> int:
    """The id of the (one) new card in an add-topic response."""
    return int(re.search(r'<li id="topic-(\d+)" class="card"', html).group(1))


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    need_postgres()
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def app(pg_url, monkeypatch):
    """The app on its own PostgreSQL database (overrides conftest's SQLite app)."""
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    monkeypatch.delenv("REDIS_URL", raising=False)
    # More pooled connections than racing threads, so every thread holds one at the barrier.
    application = create_app({"TESTING": True, "DATABASE_URL": pg_url, "PRESENCE_GRACE_SECONDS": 0.2, "DB_POOL_SIZE": 40})
    yield application
    db.close()
    db.obj.close_all()


def test_the_schema_holds_the_one_vote_rule_even_without_the_service(app):
    with app.app_context():
        fay = meetings.create_user("Fay")
        m = meetings.create_meeting(fay, "Direct", 3)
        tid = topics.add_topic(fay, m.code, "T").topic_id
        votes.cast_vote(fay, m.code, tid)
        with pytest.raises(IntegrityError), db.atomic():
            Vote.create(meeting=m.id, topic=tid, user=fay.id)
    assert pg_rows(app.config["DATABASE_URL"], "SELECT count(*) FROM vote WHERE topic_id = %s", (tid,)) == [(1,)]


@pytest.mark.server
def test_two_app_processes_on_one_database_keep_one_vote_per_topic_and_the_budget(pg_url, tmp_path):
    servers = [AppServer(pg_url, SECRET_KEY="scale-test-secret").start(tmp_path / f"server{i}.log") for i in range(2)]
    try:
        fay = HttpPerson(servers[0].base)
        code = fay.start_meeting(votes=2)
        tids = []
        for i in range(4):
            response = fay.act(f"/m/{code}/topics", {"title": f"Topic {i}"}, live=False)
            tids.append(topic_id_in(response.text))
        ann = HttpPerson(servers[0].base)
        ann.join(code, "Ann")
        barrier = threading.Barrier(WORKERS)

        def click(i):
            # The same browser (cookies) double-clicking in tabs served by both processes.
            path = f"{servers[i % 2].base}/m/{code}/topics/{tids[i % 4]}/vote"
            headers = {"HX-Request": "true", "X-CSRFToken": ann.token, "X-Live-Socket": "1"}
            barrier.wait()
            return ann.http.post(path, headers=headers).status_code

        with ThreadPoolExecutor(WORKERS) as pool:
            statuses = list(pool.map(click, range(WORKERS)))
        assert statuses.count(200) == 2 and statuses.count(409) == WORKERS - 2
        rows = pg_rows(
            pg_url,
            "SELECT v.topic_id, count(*) FROM vote v JOIN meeting m ON m.id = v.meeting_id WHERE m.code = %s GROUP BY v.topic_id",
            (code,),
        )
        assert sum(n for _, n in rows) == 2 and all(n == 1 for _, n in rows)
        # The board either process serves shows the same two votes.
        for srv in servers:
            page = ann.http.get(f"{srv.base}/m/{code}").text
            assert len(re.findall(r"<strong>1</strong> vote\b(?!s)", page)) == 2
    finally:
        for srv in servers:
            srv.stop()


@pytest.mark.server
def test_facilitator_rules_hold_across_processes(pg_url, tmp_path):
    servers = [AppServer(pg_url, SECRET_KEY="scale-test-secret").start(tmp_path / f"server{i}.log") for i in range(2)]
    try:
        fay, ann = HttpPerson(servers[0].base), HttpPerson(servers[1].base)
        code = fay.start_meeting()
        ann.join(code, "Ann")
        response = ann.act(f"/m/{code}/topics", {"title": "Ann's"}, live=False)
        tid = topic_id_in(response.text)
        refused = ann.act(f"/m/{code}/topics/{tid}/move", {"status": "discussed"})
        assert refused.status_code == 403 and "Only a facilitator" in refused.text
        finished = fay.act(f"/m/{code}/status", {"status": "completed", "expected": "planned", "confirmed": "1"})
        assert finished.status_code == 200
        closed = ann.act(f"/m/{code}/topics", {"title": "Too late"})
        assert closed.status_code == 409 and "read-only" in closed.text
        assert pg_rows(pg_url, "SELECT status FROM topic WHERE id = %s", (tid,)) == [("to_discuss",)]
        assert pg_rows(pg_url, "SELECT count(*) FROM topic t JOIN meeting m ON m.id = t.meeting_id WHERE m.code = %s",
                       (code,)) == [(1,)]
    finally:
        for srv in servers:
            srv.stop()
