"""Structured logs: one line per event (key=value or JSON), with the request id that caused it."""

import json
import logging
import os
import re
import secrets
import socket
import sys
import time
from contextvars import ContextVar

# Set for the duration of a request, and while a change that came from another worker is rendered,
# so every line an action causes, from its POST to its broadcast on any worker, carries the same id.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_worker: tuple[int, str] | None = None
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_BARE = re.compile(r"^[A-Za-z0-9._:/@+-]+$")


def worker_id() -> str:
    """This process's name in logs and in Redis: host, pid and a random tag (pids repeat after restarts)."""
    global _worker
    if _worker is None or _worker[0] != os.getpid():  # a forked worker gets its own
        _worker = (os.getpid(), f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}")
    return _worker[1]


def new_request_id(offered: str | None = None) -> str:
    """A proxy's X-Request-ID if it looks sane, else a fresh random id."""
    if offered and _SAFE_ID.match(offered):
        return offered
    return secrets.token_hex(8)


def event(logger: logging.Logger, name: str, level: int = logging.INFO, exc_info=None, **fields) -> None:
    """Log one event with its fields: `event=name key=value ...` (and the traceback, given exc_info)."""
    logger.log(level, name, exc_info=exc_info, extra={"event_fields": fields})


def _kv(value) -> str:
    text = str(value)
    return text if text and _BARE.match(text) else json.dumps(text)


class KeyValueFormatter(logging.Formatter):
    """`ts=... level=... logger=... worker=... rid=... event=... k=v` (or msg="..." for plain logs)."""

    def fields(self, record: logging.LogRecord) -> dict:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "worker": worker_id(),
        }
        rid = request_id.get()
        if rid:
            out["rid"] = rid
        extra = getattr(record, "event_fields", None)
        if extra is not None:
            out["event"] = record.getMessage()
            out.update(extra)
        else:
            out["msg"] = record.getMessage()
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return out

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{k}={_kv(v)}" for k, v in self.fields(record).items())


class JsonFormatter(KeyValueFormatter):
    """One JSON object per line, with the same fields."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.fields(record), default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def configure_logging(level: str = "INFO", fmt: str = "kv") -> None:
    """Send every log line to stderr in the chosen format (once per process)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_leancoffee", False)), None)
    if handler is None:
        handler = _StderrHandler()
        handler._leancoffee = True
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root.setLevel(level)
