"""Real PostgreSQL and Redis for the scale-out tests: a fresh database per module, private Redis servers."""

import os
import secrets
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from urllib.parse import urlparse

import pytest

from tests.helpers import free_port, need

# The machine's PostgreSQL (trust auth); each test module gets its own database on it.
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
# The machine's Redis; tests keep apart from anything else on it with a random key prefix.
SHARED_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def need_postgres() -> None:
    """Skip (or fail under CI=true) unless the PostgreSQL server and the driver are here."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        need(False, "psycopg is not installed (pip install -r requirements.txt)")
    need(_reachable(PG_ADMIN_URL, 5432), f"PostgreSQL is not reachable at {PG_ADMIN_URL}")


def need_redis() -> None:
    """Skip (or fail under CI=true) unless the machine's Redis answers."""
    try:
        import redis
    except ImportError:
        need(False, "redis (the Python client) is not installed (pip install -r requirements.txt)")
    ok = _reachable(SHARED_REDIS_URL, 6379)
    if ok:
        try:
            ok = redis.Redis.from_url(SHARED_REDIS_URL, socket_timeout=2).ping()
        except Exception:
            ok = False
    need(ok, f"Redis is not reachable at {SHARED_REDIS_URL}")


@contextmanager
def fresh_postgres_database():
    """Create a uniquely named database, yield its URL, and drop it afterwards."""
    import psycopg

    name = f"lc_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_rows(url: str, sql: str, params=()) -> list[tuple]:
    """Run one query on its own connection (what the database really holds)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def drop_redis_prefix(url: str, prefix: str) -> None:
    """Delete a test's keys from a shared Redis (the next run uses another prefix anyway)."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=2)
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    except Exception:
        pass  # a Redis the test stopped on purpose, or one that is gone: nothing to clean


class RedisServer:
    """A private redis-server on a free port that a test may stop and start again (same port)."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path
        self.proc = None

    def start(self) -> "RedisServer":
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)],
            stdout=open(self.dir / f"redis-{self.port}.log", "ab"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def need_redis_server_binary() -> None:
    need(shutil.which("redis-server") is not None, "redis-server is not installed (apt-get install redis-server)")


@pytest.fixture(scope="module")
def pg_url():
    """A fresh PostgreSQL database for this test module, dropped afterwards."""
    need_postgres()
    with fresh_postgres_database() as url:
        yield url
