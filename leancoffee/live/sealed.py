"""Backplane messages, signed: a Redis may be shared with other apps, and only our own workers' messages count.

A payload is the HMAC-SHA256 (hex) of its channel and body, a dot, then the body (JSON). The key is
derived from SECRET_KEY, which every worker of one deployment shares; the channel is inside the MAC,
so a message signed for one meeting is worthless on another's channel.
"""

import hashlib
import hmac
import json


def signing_key(secret_key: str | bytes) -> bytes:
    """The backplane's own key, derived from the app's secret (which then signs nothing else with it)."""
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hashlib.sha256(b"lean-coffee backplane\n" + secret).digest()


def _mac(key: bytes, channel: str, body: str) -> str:
    return hmac.new(key, f"{channel}\n{body}".encode(), hashlib.sha256).hexdigest()


def seal(key: bytes, channel: str, message: dict) -> str:
    """The payload to publish on `channel`: the message as JSON behind its signature."""
    body = json.dumps(message)
    return f"{_mac(key, channel, body)}.{body}"


def unseal(key: bytes, channel: str | bytes, payload: str | bytes) -> dict | None:
    """The message a payload carries, or None unless it was signed with `key` for this very channel."""
    channel = channel.decode() if isinstance(channel, bytes) else channel
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
    mac, dot, body = text.partition(".")
    # As bytes: compare_digest refuses str with non-ASCII characters, and anyone may publish those.
    if not dot or not hmac.compare_digest(mac.encode(), _mac(key, channel, body).encode()):
        return None
    try:
        message = json.loads(body)
    except ValueError:  # signed by us, so never; but a key leaked to a buggy peer must not crash the listener
        return None
    return message if isinstance(message, dict) else None
