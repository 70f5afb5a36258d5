"""What operators need: health and readiness probes, Prometheus metrics, a request id and a log line per request."""

import hmac
import ipaddress
import logging
import time

from flask import Blueprint, Response, current_app, g, request
from peewee import PeeweeException
from playhouse.pool import MaxConnectionsExceeded

from leancoffee import metrics
from leancoffee.db import db
from leancoffee.live import live
from leancoffee.logs import event, new_request_id, request_id
from leancoffee.redaction import RedactCodes, redact_codes
from leancoffee.web.routing import route_of_request

bp = Blueprint("ops", __name__)
log = logging.getLogger("leancoffee.request")

# Probes and metrics must answer even when the database is down, so they open no connection up front.
NO_DB_ENDPOINTS = {"ops.healthz", "ops.readyz", "ops.metrics"}


@bp.get("/healthz")
def healthz():
    """The process is up and serving."""
    return Response("ok\n", mimetype="text/plain")


@bp.get("/readyz")
def readyz():
    """Ready for traffic: the database answers and, when configured, Redis too (503 otherwise)."""
    checks = {"database": _database_ok()}
    if live.hub is not None and live.hub.backplane.worker_id != "local":
        checks["redis"] = live.hub.backplane.ready()
    ok = all(passed for passed, _ in checks.values())
    body = "".join(f"{name}: {detail}\n" for name, (_, detail) in checks.items())
    if not ok:
        event(log, "not_ready", logging.WARNING, **{name: detail for name, (_, detail) in checks.items()})
    # What failed names our hosts and errors: others get the status alone.
    return Response(body if _for_operators() else "", status=200 if ok else 503, mimetype="text/plain")


def _database_ok() -> tuple[bool, str]:
    try:
        with db.connection_context():
            db.execute_sql("SELECT 1").fetchone()
        return True, "ok"
    except (PeeweeException, MaxConnectionsExceeded) as error:
        return False, f"unreachable: {type(error).__name__}: {error}".strip()


@bp.get("/metrics")
def metrics_endpoint():
    """Prometheus text format, for operators only (403 with no body for anyone else)."""
    if not _for_operators():
        return Response("", status=403)
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)


def _for_operators() -> bool:
    """Whether the client's address is on METRICS_ALLOW (after ProxyFix) or it sends METRICS_TOKEN as a bearer token."""
    token = current_app.config.get("METRICS_TOKEN")
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    # A dual-stack listener sees an IPv4 client as ::ffff:a.b.c.d; the allow-list names it as a.b.c.d.
    address = getattr(address, "ipv4_mapped", None) or address
    return any(address in network for network in current_app.config["METRICS_ALLOW"])


def init_app(app) -> None:
    """Give every request an id (X-Request-ID in and out), time it by endpoint, and keep meeting codes out of logs."""
    if not any(isinstance(f, RedactCodes) for f in app.logger.filters):  # one per logger, however many apps
        app.logger.addFilter(RedactCodes())  # for Flask's own `Exception on <path>` line

    @app.before_request
    def start_request():
        g.request_id = new_request_id(request.headers.get("X-Request-ID"))
        request_id.set(g.request_id)
        g.started = time.perf_counter()

    @app.after_request
    def finish_request(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        started = g.pop("started", None)
        if started is None or request.endpoint == "socket.board_socket":
            return response  # a socket's request lasts as long as the page: it is not a latency
        elapsed = time.perf_counter() - started
        endpoint = request.endpoint or "unknown"
        metrics.REQUEST_LATENCY.labels(endpoint, request.method).observe(elapsed)
        if response.status_code >= 500:
            metrics.ERRORS.labels("http_5xx").inc()
        if endpoint not in NO_DB_ENDPOINTS and endpoint != "static":
            # The route's rule and the meeting's id, never the path: it holds the meeting's code, its secret.
            where = {"route": route_of_request(), "meeting": g.get("meeting_id")}  # set by the view that found it
            event(log, "request", method=request.method, **{k: v for k, v in where.items() if v is not None},
                  endpoint=endpoint, status=response.status_code, ms=round(elapsed * 1000, 1))
        return response

    @app.teardown_request
    def count_exception(exc):
        if exc is not None:
            metrics.ERRORS.labels("exception").inc()
            event(log, "unhandled_exception", logging.ERROR, route=route_of_request(), error=redact_codes(repr(exc)))
