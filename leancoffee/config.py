"""Settings from the environment, with defaults that make `python app.py` just work."""

import ipaddress
import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _instance_secret_key() -> str:
    """Return this install's own secret key, generating and keeping it on first start."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    try:
        # O_EXCL: several gunicorn workers starting at once must all end up with the one key.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    for _ in range(50):  # another worker may have created the file and not written it yet
        key = key_file.read_text().strip()
        if key:
            return key
        time.sleep(0.02)
    raise RuntimeError(f"{key_file} is empty: delete it or set SECRET_KEY")


PLACEHOLDER_KEYS = {"", "dev", "development", "secret", "changeme", "change-me", "please-change", "test", "default"}
MIN_PRODUCTION_KEY_LENGTH = 32


class ConfigurationError(RuntimeError):
    """A setting the app cannot start with; the message says what to change."""


class InsecureConfiguration(ConfigurationError):
    """The app was asked to run in production with settings that would make it unsafe."""


def check_production(config: dict, secret_from_env: str | None) -> None:
    """Refuse to run in production with a default, placeholder or short SECRET_KEY.

    Several hosts must share one key, so production needs it set explicitly; a key
    generated into instance/ would differ from host to host.
    """
    if config.get("ENV_NAME") != "production":
        return
    key = secret_from_env or ""
    if key.strip().lower() in PLACEHOLDER_KEYS or len(key) < MIN_PRODUCTION_KEY_LENGTH:
        raise InsecureConfiguration(
            "LEANCOFFEE_ENV=production needs SECRET_KEY set to a random value of at least "
            f"{MIN_PRODUCTION_KEY_LENGTH} characters (for example: python -c 'import secrets; print(secrets.token_hex(32))')."
        )


def parse_networks(text: str) -> list:
    """`127.0.0.0/8,::1` as networks (a bare address is a network of one); a typo stops the start."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()]


def parse_public_url(text: str | None) -> str | None:
    """PUBLIC_URL as `scheme://host[:port]` (what browsers send as Origin), None when unset; anything else stops the start."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        parts = port = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/")
            or parts.query or parts.fragment or parts.username or parts.password):
        raise ConfigurationError(
            f"PUBLIC_URL must be an http:// or https:// address with a host and nothing after it, "
            f"like http://192.168.1.20:5000 (got {text!r})."
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default_port = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default_port else "")


def is_loopback(host: str) -> bool:
    """Whether a listening address is reachable from this machine only (no phone in the room gets to it)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_config() -> dict:
    """Build the Flask config from environment variables."""
    env = os.environ
    env_name = env.get("LEANCOFFEE_ENV", "development")
    # Before anything is written: a production start without a strong key leaves no instance/secret_key behind.
    check_production({"ENV_NAME": env_name}, env.get("SECRET_KEY"))
    config = {
        "ENV_NAME": env_name,
        "SECRET_KEY": env.get("SECRET_KEY") or _instance_secret_key(),
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'leancoffee.db'}",
        # Connections each worker may hold to PostgreSQL (ignored for SQLite).
        "DB_POOL_SIZE": int(env.get("DB_POOL_SIZE", "20")),
        # Set: changes and presence cross workers through Redis. Unset: one process, in memory.
        "REDIS_URL": env.get("REDIS_URL") or None,
        # Every Redis key and channel starts with this, so apps (or test runs) can share a Redis.
        "REDIS_PREFIX": env.get("REDIS_PREFIX", "lc:"),
        # A worker refreshes its liveness key this often; one silent for the TTL counts as dead
        # and its participants are shown away (so a SIGKILLed worker's people go within ~TTL+beat).
        "WORKER_HEARTBEAT_SECONDS": float(env.get("WORKER_HEARTBEAT_SECONDS", "5")),
        "WORKER_TTL_SECONDS": float(env.get("WORKER_TTL_SECONDS", "20")),
        # A version missing from the Redis stream this long is taken as lost: the meeting resyncs.
        "BACKPLANE_GAP_SECONDS": float(env.get("BACKPLANE_GAP_SECONDS", "1")),
        # Proxies in front of the app whose X-Forwarded-Proto/Host/For to believe (0: none). Behind a
        # TLS proxy this must be 1 or more, or the WebSocket Origin check sees http:// and refuses.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        # "kv" (key=value, one line per event) or "json".
        "LOG_FORMAT": env.get("LOG_FORMAT", "kv"),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        # A participant whose last socket closed stays "present" this long, so a reload
        # does not flicker them out of the list.
        "PRESENCE_GRACE_SECONDS": float(env.get("PRESENCE_GRACE_SECONDS", "5")),
        # A client whose outgoing queue holds this many frames is too slow: it is closed
        # (1013) and resyncs when it reconnects, so it never slows anyone else down.
        "SEND_QUEUE_LIMIT": int(env.get("SEND_QUEUE_LIMIT", "256")),
        # Every socket is pinged this often; one that has not answered by the next ping is closed.
        "SOCKET_PING_SECONDS": float(env.get("SOCKET_PING_SECONDS", "25")),
        # The page never needs to send more; a bigger message closes its socket (1009).
        "SOCKET_MAX_MESSAGE_BYTES": 4096,
        # Open sockets per worker beyond which a handshake is refused (503), so memory stays bounded.
        "MAX_LIVE_SOCKETS": int(env.get("MAX_LIVE_SOCKETS", "10000")),
        # Open sockets one person may hold on a worker (tabs and devices), so one person cannot fill it.
        "MAX_SOCKETS_PER_PERSON": int(env.get("MAX_SOCKETS_PER_PERSON", "20")),
        "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 365,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # The session cookie is re-signed and re-sent only when it changes, not on every action.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "MAX_CONTENT_LENGTH": 64 * 1024,
        # What one meeting may hold (leancoffee.services.quotas): a write past a limit is refused (409).
        "MAX_TOPICS_PER_MEETING": int(env.get("MAX_TOPICS_PER_MEETING", "200")),
        "MAX_NOTES_PER_TOPIC": int(env.get("MAX_NOTES_PER_TOPIC", "100")),
        "MAX_PARTICIPANTS_PER_MEETING": int(env.get("MAX_PARTICIPANTS_PER_MEETING", "2000")),
        # A connection gets this long for its request line and headers (python app.py; under gunicorn
        # its `keepalive` does the same): trickling them in cannot hold connections open.
        "HEADER_TIMEOUT_SECONDS": float(env.get("HEADER_TIMEOUT_SECONDS", "10")),
        # Writes per person (per address before joining) on a moving window, in Flask-Limiter's words
        # ("40 per 10 seconds"); "off" lifts it (the benchmark). With REDIS_URL every worker shares one count.
        "RATE_LIMIT_WRITES": env.get("RATE_LIMIT_WRITES", "40 per 10 seconds"),
        # API reads per token (per person with the browser session, per address without either), the same way.
        "RATE_LIMIT_API_READS": env.get("RATE_LIMIT_API_READS", "120 per minute"),
        # How long SQLite waits for another writer before the request fails as "busy, retry".
        "SQLITE_BUSY_TIMEOUT_MS": int(env.get("SQLITE_BUSY_TIMEOUT_MS", "5000")),
        # Who may read /metrics and /readyz's detail: these client addresses (as ProxyFix gives them
        # behind TRUSTED_PROXIES) or a request with `Authorization: Bearer <METRICS_TOKEN>`.
        "METRICS_ALLOW": parse_networks(env.get("METRICS_ALLOW", "127.0.0.0/8,::1")),
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        # The address people open (`http://192.168.1.20:5000`): every link shown, copied or put in a QR
        # code starts with it, and sockets from its origin are accepted. Unset: the address of the request.
        "PUBLIC_URL": parse_public_url(env.get("PUBLIC_URL")),
        # Webhooks: "off" starts no sender in this process (deliveries wait in the database for one that has it).
        "WEBHOOKS_SENDER": env.get("WEBHOOKS_SENDER", "on"),
        # Networks webhooks may reach although they are not public (loopback, private...): none by default.
        "WEBHOOKS_ALLOW_NETWORKS": parse_networks(env.get("WEBHOOKS_ALLOW_NETWORKS", "")),
        # A failed delivery is tried again after this many seconds, doubling up to the most; each attempt's time limit.
        "WEBHOOKS_RETRY_SECONDS": float(env.get("WEBHOOKS_RETRY_SECONDS", "10")),
        "WEBHOOKS_RETRY_MAX_SECONDS": float(env.get("WEBHOOKS_RETRY_MAX_SECONDS", "3600")),
        "WEBHOOKS_TIMEOUT_SECONDS": float(env.get("WEBHOOKS_TIMEOUT_SECONDS", "5")),
        # How often an idle sender looks for due deliveries.
        "WEBHOOKS_POLL_SECONDS": float(env.get("WEBHOOKS_POLL_SECONDS", "2")),
        # Set by app.py from --host: on loopback only, the facilitator is told how to let phones in.
        "LISTENS_ON_LOOPBACK": False,
    }
    return config
