"""The app factory: config, database, extensions, blueprints, and the hooks every request passes through."""

import gc
import logging

from flask import Flask, g, request
from flask_login import current_user
from peewee import OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

from leancoffee.compression import GzipStatic
from leancoffee.config import load_config
from leancoffee.db import db
from leancoffee.extensions import login_manager, sock
from leancoffee.live import live
from leancoffee.live.wire import HandshakeOnly
from leancoffee.logs import configure_logging, event
from leancoffee.migrations import init_db
from leancoffee.models import User
from leancoffee.prepared import Prepared
from leancoffee.services.board import PHASE_LABELS
from leancoffee.services.errors import ActionRefused, Busy, Invalid, TooLarge, TooManyRequests
from leancoffee.services.timebox import epoch_ms, format_duration
from leancoffee.web import actions, devices, ops, pages, socket
from leancoffee.web.ratelimit import RateLimiter
from leancoffee.web.responses import refused
from leancoffee.web.routing import MeetingCodeConverter, RoomSecretConverter, public_url, route_of_request
from leancoffee.web.security import (
    CheckedRequest,
    RefusalsKeepTheSession,
    SecureCookiesOverHttps,
    StripWebSocketCompression,
    csrf_ok,
    form_is_utf8,
)

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
STALE_PAGE = "Your page was out of date, so nothing was changed. Reload the page and try again."


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

    init_db(app.config["DATABASE_URL"], app.config.get("DB_POOL_SIZE", 20), app.config["SQLITE_BUSY_TIMEOUT_MS"])
    login_manager.init_app(app)
    sock.init_app(app)
    live.init_app(app)
    ops.init_app(app)
    app.url_map.converters["meeting_code"] = MeetingCodeConverter  # before the blueprints' routes use it
    app.url_map.converters["room_secret"] = RoomSecretConverter
    app.register_blueprint(ops.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(actions.bp)
    app.register_blueprint(devices.bp)
    app.register_blueprint(socket.bp)
    app.wsgi_app = GzipStatic(SecureCookiesOverHttps(StripWebSocketCompression(app.wsgi_app)))
    if app.config.get("TRUSTED_PROXIES"):
        # Behind TLS-terminating proxies: trust their X-Forwarded-* (scheme for Secure cookies and
        # the socket's Origin check, client address for rate limits and logs).
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    limiter = RateLimiter(app.config["RATE_LIMIT_BURST"], app.config["RATE_LIMIT_PER_SECOND"])
    app.jinja_env.filters.update(epoch_ms=epoch_ms, duration=format_duration)
    app.jinja_env.globals.update(phase_labels=PHASE_LABELS, public_url=public_url)

    @app.before_request
    def open_db_and_check_csrf():
        # A socket lives for hours: it takes a database connection only when it needs one.
        if request.endpoint == "socket.board_socket" or request.endpoint in ops.NO_DB_ENDPOINTS:
            return None
        g.db_context = db.connection_context()
        g.db_context.__enter__()
        if request.method != "POST":
            return None
        code = request.view_args.get("code") if request.view_args else None
        if not form_is_utf8():
            return refused(code, Invalid("The form contained text that is not valid UTF-8, so nothing was changed."))
        if not csrf_ok():
            return refused(code, ActionRefused(STALE_PAGE))
        who = f"user:{current_user.get_id()}" if current_user.is_authenticated else f"ip:{request.remote_addr}"
        wait = limiter.take(who)
        if wait:
            return refused(code, TooManyRequests(wait))
        return None

    @app.errorhandler(OperationalError)
    def database_busy(error):
        # The write's transaction was rolled back: nothing is half-written, and a retry will work.
        event(logging.getLogger("leancoffee"), "database_busy", logging.WARNING, method=request.method, route=route_of_request(),
              error=str(error))
        return refused(request.view_args.get("code") if request.view_args else None, Busy())

    @app.errorhandler(413)
    def too_large(error):
        code = request.view_args.get("code") if request.view_args else None
        return refused(code, TooLarge())

    @app.teardown_request
    def close_db(exc):
        context = g.pop("db_context", None)
        if context is not None:
            context.__exit__(None, None, None)

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
