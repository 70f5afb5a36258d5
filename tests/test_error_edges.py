"""Error edges say what happened: busy (retry soon), unavailable (the operator is told), or saved despite a broken broadcast."""

import re
import threading

import psycopg
import pytest
from peewee import OperationalError

from leancoffee.db import db
from leancoffee.factory import create_app, is_busy
from leancoffee.models import Topic, Vote
from tests.backends import PG_ADMIN_URL, fresh_postgres_database, need_postgres
from tests.conftest import Person


def errors_counted(client, kind: str) -> float:
    """leancoffee_errors_total{kind=...} as /metrics shows it (0 before the first)."""
    text = client.get("/metrics").text
    found = re.search(rf'^leancoffee_errors_total{{kind="{kind}"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def started(app) -> tuple[Person, str]:
    fay = Person(app)
    code = fay.post("/meetings", {"title": "T", "votes_per_person": "3", "name": "Fay"}, htmx=False).headers["Location"][3:]
    fay.post(f"/m/{code}/topics", {"title": "First"})
    fay.post(f"/m/{code}/phase", {"phase": "voting", "expected": "collecting"})
    return fay, code


def test_a_missing_table_is_unavailable_not_busy_and_is_logged_and_counted(app, capsys):
    fay, code = started(app)
    before = errors_counted(fay.client, "database_unavailable")
    db.execute_sql("DROP TABLE vote")
    for response in (fay.post(f"/m/{code}/topics/1/vote"), fay.post(f"/m/{code}/topics/1/vote", htmx=False),
                     fay.get(f"/m/{code}")):
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        assert "unavailable right now" in response.text and "busy" not in response.text
    assert errors_counted(fay.client, "database_unavailable") == before + 3
    logged = capsys.readouterr().err
    assert logged.count("level=error") >= 3 and "event=database_unavailable" in logged and "no such table: vote" in logged


def test_a_pool_with_no_free_connection_is_busy(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'pool.db'}?max_connections=1&timeout=0.2"})
    fay, code = started(app)
    holding, release = threading.Event(), threading.Event()

    def hold_the_only_connection():
        with db.connection_context():
            holding.set()
            release.wait(5)

    holder = threading.Thread(target=hold_the_only_connection)
    holder.start()
    holding.wait(5)
    try:
        response = fay.post(f"/m/{code}/topics/1/vote")
        assert response.status_code == 503 and response.headers["Retry-After"] == "1" and "busy right now" in response.text
    finally:
        release.set()
        holder.join()
    assert fay.post(f"/m/{code}/topics/1/vote").status_code == 200 and Vote.select().count() == 1  # a retry works


def test_a_postgresql_that_refuses_connections_is_unavailable_and_a_retry_works_once_it_is_back(monkeypatch, capsys):
    need_postgres()
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    with fresh_postgres_database() as url:
        name = url.rsplit("/", 1)[-1]
        app = create_app({"TESTING": True, "DATABASE_URL": url})
        fay, code = started(app)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        try:
            for _ in range(2):  # the pool's dead connection, then a new one refused
                response = fay.post(f"/m/{code}/topics/1/vote")
                assert response.status_code == 503 and "unavailable right now" in response.text
        finally:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        assert "event=database_unavailable" in capsys.readouterr().err
        assert fay.post(f"/m/{code}/topics/1/vote").status_code == 200
        assert Vote.select().count() == 1
        db.close_all()


def deadlock_on_postgresql() -> Exception:
    """A real deadlock: two transactions update two topics in opposite orders; PostgreSQL aborts one of them."""
    barrier, failures = threading.Barrier(2, timeout=10), []

    def update(first: int, second: int) -> None:
        try:
            with db.atomic():
                Topic.update(title="a").where(Topic.id == first).execute()
                barrier.wait()
                Topic.update(title="b").where(Topic.id == second).execute()
        except OperationalError as error:  # the one PostgreSQL chose to abort
            failures.append(error)
        finally:
            db.close()

    pair = [threading.Thread(target=update, args=args) for args in ((1, 2), (2, 1))]
    for thread in pair:
        thread.start()
    for thread in pair:
        thread.join()
    assert len(failures) == 1, failures
    return failures[0]


def test_a_postgresql_deadlock_is_busy_and_the_retry_is_saved(monkeypatch):
    need_postgres()
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    with fresh_postgres_database() as url:
        app = create_app({"TESTING": True, "DATABASE_URL": url})
        fay, code = started(app)
        fay.post(f"/m/{code}/topics", {"title": "Second"})
        deadlock = deadlock_on_postgresql()
        assert "deadlock detected" in str(deadlock)
        assert is_busy(deadlock)
        real_vote = Vote.create

        def deadlocked(*args, **kwargs):
            raise deadlock

        monkeypatch.setattr(Vote, "create", deadlocked)
        response = fay.post(f"/m/{code}/topics/1/vote")
        assert response.status_code == 503 and response.headers["Retry-After"] == "1" and "busy right now" in response.text
        assert Vote.select().count() == 0  # rolled back, nothing half-written
        monkeypatch.setattr(Vote, "create", real_vote)
        assert fay.post(f"/m/{code}/topics/1/vote").status_code == 200 and Vote.select().count() == 1
        db.close_all()


@pytest.mark.parametrize("htmx", [True, False])
def test_a_saved_action_whose_broadcast_fails_still_answers_and_resyncs(app, monkeypatch, capsys, htmx):
    fay, code = started(app)
    hub = app.extensions["live"].hub
    resynced = []

    def broken(*args, **kwargs):
        raise RuntimeError("a template broke")

    monkeypatch.setattr(hub, "dispatch", broken)
    monkeypatch.setattr(hub, "resync", lambda meeting_id, reason: resynced.append(reason) or 0)
    before = errors_counted(fay.client, "publish")
    response = fay.post(f"/m/{code}/topics", {"title": "Saved anyway"}, htmx=htmx)
    if htmx:
        assert response.status_code == 200 and response.headers["HX-Refresh"] == "true"  # the page reloads to show it
    else:
        assert response.status_code == 303 and response.headers["Location"].startswith(f"/m/{code}")
    assert Topic.select().where(Topic.title == "Saved anyway").count() == 1
    assert resynced == ["publish_failed"]
    assert errors_counted(fay.client, "publish") == before + 1
    logged = capsys.readouterr().err
    assert "event=publish_failed" in logged and "RuntimeError: a template broke" in logged


def test_a_change_rendered_only_for_its_answer_that_fails_to_render_still_answers(app, monkeypatch, capsys):
    """With no screen of the meeting here the change renders on first use (for a page without a live socket)."""
    fay, code = started(app)
    hub = app.extensions["live"].hub

    def broken(*args, **kwargs):
        raise RuntimeError("a fragment broke")

    monkeypatch.setattr(hub, "_render", broken)
    before = errors_counted(fay.client, "publish")
    response = fay.post(f"/m/{code}/topics/1/vote")  # htmx, no X-Live-Socket: the answer would carry the fragments
    assert response.status_code == 200 and response.headers["HX-Refresh"] == "true"
    assert Vote.select().count() == 1
    assert errors_counted(fay.client, "publish") == before + 1
    assert "RuntimeError: a fragment broke" in capsys.readouterr().err
