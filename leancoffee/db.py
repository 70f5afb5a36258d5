"""The database handle, chosen at runtime from DATABASE_URL."""

import logging
import sys
from urllib.parse import unquote, urlparse

from peewee import DatabaseProxy, SqliteDatabase
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

db = DatabaseProxy()
# Any constant shared by every worker: the advisory lock that serialises schema creation.
SCHEMA_LOCK_KEY = 0x1EAC0FFE
log = logging.getLogger(__name__)

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "normal",
}


def ensure_cooperative_driver() -> None:
    """Make psycopg wait through gevent's hub when the process is monkey-patched."""
    # psycopg picks its wait function when first imported: imported before patch_all (say by a
    # gunicorn master that loaded it early) it would block the whole worker on every query.
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("select"):
        return
    from psycopg import waiting

    if getattr(waiting, "wait_c", None) is not None and waiting.wait is waiting.wait_c:
        log.warning("event=db_driver_fix detail=\"psycopg imported before gevent patching; switching to wait_poll\"")
        waiting.wait = waiting.wait_poll


def open_database(url: str, pool_size: int = 20, busy_timeout_ms: int = 5000):
    """Return an (unconnected) peewee database for a sqlite:/// or postgresql:// URL."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///"):] or ":memory:"
        # IMMEDIATE: every write transaction takes the write lock up front, so the dot
        # budget is checked and the vote written without another writer in between.
        pragmas = {**SQLITE_PRAGMAS, "busy_timeout": busy_timeout_ms}
        if path == ":memory:":
            return SqliteDatabase(path, pragmas=pragmas, lock_type="IMMEDIATE", timeout=busy_timeout_ms / 1000)
        # Pooled: opening a connection runs four pragmas, and closing the last one checkpoints
        # the WAL; together they cost more than the queries of a vote.
        # A pooled connection serves one request (greenlet or thread) at a time, maybe not the thread that opened it.
        return PooledSqliteDatabase(
            path, pragmas=pragmas, lock_type="IMMEDIATE", max_connections=None, stale_timeout=300, check_same_thread=False,
        )
    if parsed.scheme in ("postgres", "postgresql"):
        ensure_cooperative_driver()
        # A pool: a vote is a few milliseconds of work, a new PostgreSQL connection about as much
        # again. `timeout` makes a request wait for a free connection instead of failing at once.
        return PooledPostgresqlDatabase(
            unquote(parsed.path.lstrip("/")),
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname,
            port=parsed.port or 5432,
            max_connections=pool_size,
            stale_timeout=300,
            timeout=10,
            prefer_psycopg3=True,
        )
    raise ValueError(f"Unsupported DATABASE_URL scheme: {parsed.scheme!r}")
