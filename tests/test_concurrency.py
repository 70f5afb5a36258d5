"""Vote integrity under simultaneous requests: threads, processes and HTTP, released together."""

import multiprocessing
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from leancoffee.db import db
from leancoffee.migrations import init_db
from leancoffee.models import Topic, Vote
from leancoffee.services import meetings, topics, votes
from leancoffee.services.errors import ActionRefused, Conflict
from tests.helpers import HttpPerson

WORKERS = 24


@pytest.fixture
def ballot(app):
    """Ann in a 3-vote meeting with 6 topics."""
    with app.app_context():
        fay, ann = meetings.create_user("Fay"), meetings.create_user("Ann")
        m = meetings.create_meeting(fay, "Race", 3)
        meetings.join_meeting(ann, m.code, "Ann")
        tids = [topics.add_topic(fay, m.code, f"T{i}").topic_id for i in range(6)]
    return app, m.code, ann, tids


def outcomes_together(app, calls) -> list[str]:
    """Run calls on threads released at once by a barrier; "ok" or the refusal's class name for each."""
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def run(call):
        with app.app_context(), db.connection_context():
            barrier.wait()
            try:
                call()
                outcomes.append("ok")
            except ActionRefused as refusal:
                outcomes.append(type(refusal).__name__)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def run_together(app, calls):
    """Run calls at once; returns (successes, conflicts)."""
    outcomes = outcomes_together(app, calls)
    return outcomes.count("ok"), outcomes.count(Conflict.__name__)


def test_many_identical_votes_at_once_store_exactly_one(ballot):
    app, code, ann, tids = ballot
    ok, refused = run_together(app, [lambda: votes.cast_vote(ann, code, tids[0])] * WORKERS)
    assert (ok, refused) == (1, WORKERS - 1)
    assert Vote.select().where(Vote.topic == tids[0]).count() == 1


def test_more_simultaneous_votes_than_the_budget_store_exactly_the_budget(ballot):
    app, code, ann, tids = ballot
    calls = [lambda t=t: votes.cast_vote(ann, code, t) for t in tids for _ in range(4)]
    ok, refused = run_together(app, calls)
    assert ok == 3 and refused == len(calls) - 3
    assert Vote.select().where(Vote.user == ann.id).count() == 3


def test_interleaved_vote_and_unvote_keep_counts_equal_to_stored_votes(ballot):
    app, code, ann, tids = ballot
    calls = [lambda: votes.cast_vote(ann, code, tids[1]), lambda: votes.remove_vote(ann, code, tids[1])] * 10
    run_together(app, calls)
    stored = Vote.select().where(Vote.topic == tids[1]).count()
    assert stored in (0, 1)
    assert Topic.get_by_id(tids[1]).votes.count() == stored


def _vote_in_process(database_url, code, user_id, topic_id, barrier, results):
    """A separate process: its own connection to the same file, voting when the barrier lets it."""
    from leancoffee.models import User

    init_db(database_url)
    with db.connection_context():
        user = User.get_by_id(user_id)
        barrier.wait()
        try:
            votes.cast_vote(user, code, topic_id)
            results.put("ok")
        except Conflict:
            results.put("refused")


def test_separate_processes_cannot_exceed_the_budget(ballot):
    app, code, ann, tids = ballot
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(12), ctx.Queue()
    url = app.config["DATABASE_URL"]
    procs = [ctx.Process(target=_vote_in_process, args=(url, code, ann.id, tids[i % 6], barrier, results)) for i in range(12)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    outcomes = [results.get(timeout=5) for _ in procs]
    assert outcomes.count("ok") == 3
    assert Vote.select().where(Vote.user == ann.id).count() == 3


@pytest.mark.server
def test_double_clicks_and_tabs_over_http_store_one_vote_and_at_most_the_budget(server):
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting(votes=2)
    ann.join(code, "Ann")
    tids = []
    for i in range(4):
        response = fay.act(f"/m/{code}/topics", {"title": f"Topic {i}"}, live=False)
        tids.append(int(response.text.split(f'class="card-title">Topic {i}<')[0].rsplit('<li id="topic-', 1)[1].split('"')[0]))
    barrier = threading.Barrier(WORKERS)

    def click(topic_id):
        barrier.wait()
        return ann.act(f"/m/{code}/topics/{topic_id}/vote").status_code

    with ThreadPoolExecutor(WORKERS) as pool:
        statuses = list(pool.map(click, [tids[i % 4] for i in range(WORKERS)]))
    assert statuses.count(200) == 2 and statuses.count(409) == WORKERS - 2
    path = server.database_url[len("sqlite:///"):]
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT v.topic_id, COUNT(*) FROM vote v JOIN meeting m ON m.id = v.meeting_id WHERE m.code = ? GROUP BY v.topic_id",
            (code,),
        ).fetchall()
    assert sum(n for _, n in rows) == 2 and all(n == 1 for _, n in rows)


def test_concurrent_edits_and_deletes_leave_one_consistent_topic_or_none(ballot):
    app, code, ann, tids = ballot
    from leancoffee.models import Meeting, User

    fay = User.get_by_id(Meeting.get(Meeting.code == code).facilitator_id)
    target = tids[2]
    votes.cast_vote(ann, code, target)
    calls = [lambda i=i: topics.edit_topic(fay, code, target, f"Edit {i}") for i in range(10)]
    calls += [lambda: topics.delete_topic(fay, code, target)] * 3
    outcomes = outcomes_together(app, calls)
    # Once the delete has won, later edits and deletes find no topic: that is their refusal.
    assert set(outcomes) <= {"ok", "NotFound"} and outcomes.count("ok") >= 1
    assert Topic.get_or_none(Topic.id == target) is None  # a delete always ends up winning
    assert Vote.select().where(Vote.topic == target).count() == 0  # and took its votes with it
    assert Vote.select().where(Vote.user == ann.id).count() == 0
