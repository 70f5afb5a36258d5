"""A crowd for the tests of issue 18: participants written straight into a meeting's SQLite file (joining a thousand
people through the pages takes minutes), and a board like the benchmark's (bench/storm.py)."""

import sqlite3
from datetime import timedelta

from leancoffee.models import utcnow


def seed_people(db_path, code: str, count: int, prefix: str = "Crowd") -> list[int]:
    """`count` more participants of the meeting, joined after everyone before them; returns their user ids."""
    now = utcnow()
    ids = []
    with sqlite3.connect(db_path) as db:
        (meeting_id,) = db.execute("SELECT id FROM meeting WHERE code = ?", (code,)).fetchone()
        for i in range(count):
            name = f"{prefix} {i:04d}"
            user = db.execute('INSERT INTO "user" (name, created_at, session_generation) VALUES (?, ?, 0)', (name, str(now)))
            db.execute("INSERT INTO participant (meeting_id, user_id, name, role, is_active, joined_at, name_number, done_voting)"
                       " VALUES (?, ?, ?, 'participant', 1, ?, 1, 0)", (meeting_id, user.lastrowid, name,
                                                                          str(now + timedelta(milliseconds=i))))
            ids.append(user.lastrowid)
    return ids


def db_file(database_url: str) -> str:
    return database_url.removeprefix("sqlite:///")
