"""The app factory: config, database, extensions, blueprints, and the hooks every request passes through."""

import gc
import logging

from flask import Flask, request
from flask_babel import gettext, lazy_gettext
from flask_limiter import RateLimitExceeded
from flask_login import current_user
from peewee import InterfaceError, OperationalError, ProgrammingError
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.middleware.proxy_fix import ProxyFix
from whitenoise import WhiteNoise

from leancoffee import i18n, metrics
from leancoffee.config import load_config
from leancoffee.db import connection_per_request
from leancoffee.extensions import login_manager, sock
from leancoffee.live import live
from leancoffee.live.wire import HandshakeOnly
from leancoffee.logs import configure_logging, event
from leancoffee.migrations import init_db
from leancoffee.models import FORM_LIMITS, User
from leancoffee.prepared import Prepared
from leancoffee.services.board import PHASE_LABELS
from leancoffee.services.errors import ActionRefused, Busy, Invalid, TooLarge, TooManyRequests
from leancoffee.services.people import facilitators_among, here_among
from leancoffee.services.timebox import epoch_ms, format_clock, format_duration
from leancoffee.web import actions, api, devices, language, notes, ops, pages, ratelimit, settings, socket, webhooks
from leancoffee.web.responses import api_error, is_api_request, refused, unavailable
from leancoffee.web.routing import MeetingCodeConverter, RoomSecretConverter, path_builder, public_url, route_of_request
from leancoffee.web.security import (
    CheckedRequest,
    RefusalsKeepTheSession,
    SecureCookiesOverHttps,
    StripWebSocketCompression,
    csrf_ok,
    form_is_utf8,
)
from leancoffee.webhooks import queue

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
STALE_PAGE = lazy_gettext("Your page was out of date, so nothing was changed. Reload the page and try again.")


def create_app(config: dict | None = None) -> Flask:
    """Build the app: config from the environment, then any overrides (tests)."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config.update(load_config())
    # simple-websocket does the handshake; each Connection then reads its own socket (HandshakeOnly).
    app.config.setdefault("SOCK_SERVER_OPTIONS", {"thread_class": HandshakeOnly})
    app.config.update(config or {})
    app.session_interface = RefusalsKeepTheSession()
    app.request_class = CheckedRequest
    configure_logging(app.config.get("LOG_LEVEL", "INFO"), app.config.get("LOG_FORMAT", "kv"))

    database = init_db(app.config["DATABASE_URL"], app.config.get("DB_POOL_SIZE", 20), app.config["SQLITE_BUSY_TIMEOUT_MS"])
    login_manager.init_app(app)
    i18n.init_app(app)
    sock.init_app(app)
    live.init_app(app)
    ops.init_app(app)  # first of the hooks: every request has its id and its log line, refused ones too
    # A connection per request, except for sockets (they live for hours and take one only when they
    # need it) and the probes and metrics.
    connection_per_request(app, database, excluded=("socket.board_socket", *ops.NO_DB_ENDPOINTS))
    app.url_map.converters["meeting_code"] = MeetingCodeConverter  # before the blueprints' routes use it
    app.url_map.converters["room_secret"] = RoomSecretConverter
    app.register_blueprint(ops.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(actions.bp)
    app.register_blueprint(devices.bp)
    app.register_blueprint(notes.bp)
    app.register_blueprint(socket.bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(language.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(webhooks.bp)
    queue.install()  # changes queue their webhooks' deliveries in their own transactions
    # Secure cookies on HTTPS requests only: a fixed SESSION_COOKIE_SECURE would break joining over plain HTTP on a LAN.
    app.wsgi_app = SecureCookiesOverHttps(StripWebSocketCompression(app.wsgi_app))
    # Static files never reach Flask: WhiteNoise serves them with cache headers, and the .gz beside each
    # file (made by scripts/run and scripts/test) to browsers that take gzip. Pages are never compressed:
    # they carry the CSRF token next to text people wrote (BREACH).
    app.wsgi_app = WhiteNoise(app.wsgi_app, root=ROOT / "static", prefix="static/",
                              immutable_file_test=is_versioned_file, add_headers_function=static_headers)
    if app.config.get("TRUSTED_PROXIES"):
        # Behind TLS-terminating proxies: trust their X-Forwarded-* (scheme for Secure cookies and
        # the socket's Origin check, client address for rate limits and logs).
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.jinja_env.filters.update(epoch_ms=epoch_ms, duration=format_duration, clock=format_clock, here_among=here_among,
                                 facilitators_among=facilitators_among)
    app.extensions["path_for"] = path_builder(app)
    app.jinja_env.globals.update(phase_labels=PHASE_LABELS, public_url=public_url, limits=FORM_LIMITS,
                                 url_for=app.extensions["path_for"])

    @app.before_request
    def check_form():
        if request.method != "POST":
            return None
        # The person is read here, so a database error is answered as one; read first by the rate
        # limiter, it would count as its own storage failing.
        current_user.is_authenticated  # noqa: B018
        code = request.view_args.get("code") if request.view_args else None
        if not form_is_utf8():
            return refused(code, Invalid(gettext("The form contained text that is not valid UTF-8, so nothing was changed.")))
        if is_api_request():
            return None  # the API is read-only: its routes answer a POST with 405 (no session, no CSRF token involved)
        if not csrf_ok():
            return refused(code, ActionRefused(STALE_PAGE))
        return None

    api.init_app(app)  # the API's caller is known before the limiter counts their read against them
    ratelimit.configure(app)  # after the CSRF check: a stale page's refused write spends no budget

    @app.errorhandler(RateLimitExceeded)
    def too_many_writes(error):
        if is_api_request():
            wait = ratelimit.retry_after_seconds()
            return api_error(429, f"Too many API requests: try again in {wait} s.", {"Retry-After": str(wait)})
        return refused(_meeting_code(), TooManyRequests(ratelimit.retry_after_seconds()))

    @app.errorhandler(OperationalError)
    @app.errorhandler(ProgrammingError)  # PostgreSQL's missing table
    @app.errorhandler(InterfaceError)
    @app.errorhandler(MaxConnectionsExceeded)
    def database_error(error):
        # Whatever the write was, its transaction was rolled back: nothing is half-written.
        busy = is_busy(error)
        event(logging.getLogger("leancoffee"), "database_busy" if busy else "database_unavailable",
              logging.WARNING if busy else logging.ERROR, method=request.method, route=route_of_request(), error=str(error))
        metrics.ERRORS.labels("database_busy" if busy else "database_unavailable").inc()
        return refused(_meeting_code(), Busy()) if busy else unavailable(_meeting_code())

    @app.errorhandler(413)
    def too_large(error):
        return refused(_meeting_code(), TooLarge())

    @app.after_request
    def security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            # Boards, summaries, exports and fragments are private to a meeting: no browser or proxy keeps them.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app


def is_versioned_file(path: str, url: str) -> bool:
    """The vendored libraries carry their version in their name, so a browser may keep them for good."""
    return "/vendor/" in url


def static_headers(headers, path: str, url: str) -> None:
    """What every response of ours says, static files included."""
    headers["X-Content-Type-Options"] = "nosniff"


def _meeting_code() -> str | None:
    """The meeting the failed request was about, for the way back to its board."""
    return request.view_args.get("code") if request.view_args else None


# PostgreSQL rolled the transaction back to break a deadlock or a serialization conflict: the same request,
# sent again, goes through (two facilitators marking one carried action done in two meetings at once can deadlock).
RETRYABLE_SQLSTATES = {"40001", "40P01"}


def is_busy(error: Exception) -> bool:
    """Whether a database error means "busy, try again": SQLite's lock wait, the pool ran out, or PostgreSQL broke a deadlock."""
    driver_error = getattr(error, "orig", None)  # peewee keeps the driver's exception it wrapped
    return (isinstance(error, MaxConnectionsExceeded) or "database is locked" in str(error)
            or getattr(driver_error, "sqlstate", None) in RETRYABLE_SQLSTATES)


def tune_garbage_collector() -> None:
    """For a long-running server: collect young objects less often and never scan what start-up made.

    Each open board holds a few hundred long-lived objects; with Python's default thresholds a server
    with thousands of sockets ran full collections of all of them during votes (pauses of 0.1-0.5 s,
    measured with 5,000 sockets). Objects that die young are still freed at once by reference counting.
    """
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)


# Allocations (minus deallocations) of container objects between two young collections (default 700).
GC_YOUNG_THRESHOLD = 100_000


@login_manager.user_loader
def load_user(cookie_id):
    """The user behind a session or remember cookie, unless they signed out since it was issued."""
    user_id, _, generation = cookie_id.partition(".")
    try:
        user = USER_BY_ID.first(int(user_id))
        issued_in = int(generation or 0)  # cookies issued before generations existed count as 0
    except ValueError:
        return None
    return user if user is not None and user.session_generation == issued_in else None


USER_BY_ID = Prepared(lambda user_id: User.select().where(User.id == user_id).limit(1))
