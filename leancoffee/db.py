"""The database handle, chosen at runtime from DATABASE_URL."""

import logging
import sys

from flask import request
from peewee import DatabaseProxy, SqliteDatabase
from playhouse import db_url

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


def connection_per_request(app, database, excluded: tuple[str, ...]) -> None:
    """Open a connection before each request and close it after, as playhouse.flask_utils.FlaskDB does.

    FlaskDB's connect() fails when this thread already has a connection open (a test that read the
    database between two requests); this reuses it, as peewee's connection_context() does.
    """

    @app.before_request
    def connect_db():
        if request.endpoint not in excluded:
            database.connect(reuse_if_open=True)

    @app.teardown_request
    def close_db(exc):
        if request.endpoint not in excluded and not database.is_closed():
            database.close()


# The URL people write names the engine; the app always pools (playhouse.db_url's "+pool" schemes).
POOLED_SCHEMES = {"sqlite": "sqlite+pool", "postgres": "postgresql+pool", "postgresql": "postgresql+pool"}
SUPPORTED_SCHEMES = set(POOLED_SCHEMES) | set(POOLED_SCHEMES.values())


def open_database(url: str, pool_size: int = 20, busy_timeout_ms: int = 5000):
    """Return an (unconnected) peewee database for a sqlite:/// or postgresql:// URL (options in its query win)."""
    scheme, _, rest = url.partition("://")
    if scheme not in SUPPORTED_SCHEMES:
        raise ValueError(f"Unsupported DATABASE_URL scheme: {scheme!r} (use sqlite:///path or postgresql://host/name)")
    options = db_url.parse(url, unquote_password=True, unquote_user=True)
    if scheme.startswith("sqlite"):
        # IMMEDIATE: every write transaction takes the write lock up front, so the dot
        # budget is checked and the vote written without another writer in between.
        settings = {"pragmas": {**SQLITE_PRAGMAS, "busy_timeout": busy_timeout_ms}, "lock_type": "IMMEDIATE"}
        if options["database"] == ":memory:":  # each pooled connection would be a database of its own
            return SqliteDatabase(**{**settings, "timeout": busy_timeout_ms / 1000, **options})
        # Pooled: opening a connection runs four pragmas, and closing the last one checkpoints the WAL;
        # together they cost more than the queries of a vote. A pooled connection serves one request
        # (greenlet or thread) at a time, maybe not the thread that opened it.
        settings.update(max_connections=None, stale_timeout=300, check_same_thread=False)
    else:
        ensure_cooperative_driver()
        # A pool: a new PostgreSQL connection costs about as much as a vote. `timeout` makes a request
        # wait for a free connection instead of failing at once.
        settings = {"max_connections": pool_size, "stale_timeout": 300, "timeout": 10, "prefer_psycopg3": True}
    return db_url.schemes[POOLED_SCHEMES.get(scheme, scheme)](**{**settings, **options})
