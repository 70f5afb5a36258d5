"""Writes per person and API reads per token or person, with Flask-Limiter: people are never limited, runaway clients are."""

import math
import time

from flask import current_app, request
from flask_limiter import Limiter
from flask_login import current_user
from limits import parse_many

from leancoffee.config import ConfigurationError
from leancoffee.web import api


def writer_key() -> str:
    """Whose budget a write spends: the signed-in person's, else the client address's."""
    return f"user:{current_user.get_id()}" if current_user.is_authenticated else f"ip:{request.remote_addr}"


def _not_a_write() -> bool:
    return request.method != "POST"


def configure(app) -> Limiter:
    """The app's limiter: a budget per person across every write, one per caller for API reads; in Redis if workers share one."""
    writes, reads = _setting(app, "RATE_LIMIT_WRITES"), _setting(app, "RATE_LIMIT_API_READS")
    app.config.setdefault("RATELIMIT_ENABLED", bool(writes or reads))
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", f"{app.config.get('REDIS_PREFIX', 'lc:')}writes")
    # Redis away: count in this process meanwhile rather than refuse every write.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    # An application limit (one budget for all routes), not one per route.
    limiter = Limiter(writer_key, app=app, application_limits=[writes] if writes else [],
                      application_limits_exempt_when=_not_a_write)
    if reads:
        # API reads have a budget of their own, per token or person (leancoffee.web.api.rate_key).
        limiter.limit(reads, key_func=api.rate_key, scope="api-reads")(app.blueprints["api"])
    app.extensions["write_limiter"] = limiter
    return limiter


def _setting(app, name: str) -> str | None:
    """A limit in Flask-Limiter's words, checked now; None when it is "off"."""
    value = app.config[name]
    if value.strip().lower() == "off":
        return None
    try:
        parse_many(value)
    except ValueError:
        raise ConfigurationError(f"{name} must read like '40 per 10 seconds' or 'off' (got {value!r})") from None
    return value


def retry_after_seconds() -> int:
    """Whole seconds until the breached window lets this person write again (at least 1)."""
    breached = current_app.extensions["write_limiter"].current_limit
    # The window's own reset time: Flask-Limiter's `reset_at` adds a second, which made a 10 s window say 11.
    return max(1, math.ceil(breached.window.reset_time - time.time())) if breached is not None else 1
