"""Prometheus metrics of this process (or, under gunicorn, of every worker through multiprocess mode)."""

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Gauges of several gunicorn workers add up ("livesum": only workers still running).
_GAUGE_MODE = "livesum"

OPEN_SOCKETS = Gauge("leancoffee_open_sockets", "Board WebSockets open", multiprocess_mode=_GAUGE_MODE)
LIVE_MEETINGS = Gauge(
    "leancoffee_live_meetings", "Meetings with at least one open socket (per worker, summed)", multiprocess_mode=_GAUGE_MODE
)
MESSAGES_PUSHED = Counter("leancoffee_messages_pushed_total", "WebSocket messages written to browsers")
BYTES_PUSHED = Counter("leancoffee_bytes_pushed_total", "Bytes of WebSocket messages written to browsers")
SOCKETS_FLOODING = Counter(
    "leancoffee_sockets_flooding_total", "Sockets closed (1008) for sending more frames or bytes than a page ever does"
)
SEND_QUEUE_DROPS = Counter(
    "leancoffee_send_queue_drops_total", "Sockets closed (1013) because their send queue was full"
)
BROADCAST_LATENCY = Histogram(
    "leancoffee_broadcast_latency_seconds",
    "From the commit of a change to the write of its last frame on this worker's sockets",
    ["origin"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
REQUEST_LATENCY = Histogram(
    "leancoffee_request_duration_seconds", "HTTP request handling time by endpoint", ["endpoint", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
ERRORS = Counter("leancoffee_errors_total", "Errors by kind (http_5xx, exception, redis, ...)", ["kind"])
CHANGES_RENDERED = Counter(
    "leancoffee_changes_dispatched_total",
    "Changes written to this worker's sockets (once per language their screens read), by who rendered them "
    "(here, or the sending worker)",
    ["rendered"],
)
RENDERED_IN = Counter("leancoffee_changes_rendered_in_total",
                      "Changes made ready for screens, by the language those screens read", ["language"])
BACKPLANE_MESSAGES = Counter(
    "leancoffee_backplane_messages_total",
    "Redis backplane messages by direction (published, received, unsent, forged: a bad signature, dropped)",
    ["direction"],
)
WEBHOOK_DELIVERIES = Counter(
    "leancoffee_webhook_deliveries",
    "Webhook delivery attempts by outcome (delivered; failed: retried later; refused: address not allowed)", ["outcome"],
)
RESYNCS = Counter("leancoffee_resyncs_total", "Meetings whose sockets were sent the whole board again, by reason", ["reason"])
_redis_up = None


def redis_up() -> Gauge:
    """1 while this worker's Redis connection works; only exported when REDIS_URL is set."""
    global _redis_up
    if _redis_up is None:
        _redis_up = Gauge("leancoffee_redis_up", "1 while this worker can reach Redis", multiprocess_mode="min")
    return _redis_up


def exposition() -> tuple[bytes, str]:
    """The text format: this process alone, or every worker's files under PROMETHEUS_MULTIPROC_DIR."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
