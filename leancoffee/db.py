"""The database handle, chosen at runtime from DATABASE_URL, and schema creation."""

from urllib.parse import urlparse

from peewee import DatabaseProxy, PostgresqlDatabase, SqliteDatabase

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "normal",
}


def open_database(url: str, busy_timeout_ms: int = 5000):
    """Return an (unconnected) peewee database for a sqlite:/// or postgresql:// URL."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///"):] or ":memory:"
        # IMMEDIATE: every write transaction takes the write lock up front, so the dot
        # budget is checked and the vote written without another writer in between.
        pragmas = {**SQLITE_PRAGMAS, "busy_timeout": busy_timeout_ms}
        return SqliteDatabase(path, pragmas=pragmas, lock_type="IMMEDIATE", timeout=busy_timeout_ms / 1000)
    if parsed.scheme in ("postgres", "postgresql"):
        return PostgresqlDatabase(
            parsed.path.lstrip("/"),
            user=parsed.username,
            password=parsed.password,
            host=parsed.hostname,
            port=parsed.port or 5432,
        )
    raise ValueError(f"Unsupported DATABASE_URL scheme: {parsed.scheme!r}")


def init_db(url: str, busy_timeout_ms: int = 5000) -> None:
    """Point the proxy at the database named by url and create missing tables."""
    from leancoffee.models import ALL_MODELS

    if url.startswith("sqlite:///"):
        from pathlib import Path

        path = url[len("sqlite:///"):]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    db.initialize(open_database(url, busy_timeout_ms))
    with db.connection_context():
        db.create_tables(ALL_MODELS, safe=True)
