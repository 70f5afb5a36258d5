"""CSRF tokens for POSTs and the WebSocket handshake guard (login and Origin, before the upgrade).

The CSRF code is ours, not Flask-WTF's CSRFProtect: it is as short as the check that library makes,
and it also rotates the token at sign-in and sign-out and never expires it while a board stays open.
"""

import hmac
import secrets
from urllib.parse import unquote_to_bytes, urlparse

from flask import Request, g, request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import BadRequest
from werkzeug.utils import cached_property

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


def rotate_csrf_token() -> None:
    """A new token at sign-in and sign-out, so a token planted or seen before it is worthless after it."""
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    session.permanent = True


def csrf_ok() -> bool:
    """Whether this POST carries the session's token, as a header (htmx) or a form field."""
    expected = session.get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    # As bytes: compare_digest refuses text that is not ASCII, and a forged token may be anything.
    return bool(expected and sent and hmac.compare_digest(str(expected).encode(), str(sent).encode()))


def form_is_utf8() -> bool:
    """Whether an urlencoded POST body decodes as UTF-8, raw or percent-encoded.

    Werkzeug silently drops raw invalid bytes and keeps invalid %-escapes as literal text;
    either way a person would get something other than what they typed, so we refuse it.
    """
    if request.mimetype != "application/x-www-form-urlencoded":
        return True
    body = request.get_data(cache=True)
    try:
        for pair in body.split(b"&"):
            for part in pair.split(b"=", 1):
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def same_origin(origin: str | None, *our_urls: str | None) -> bool:
    """Whether a handshake's Origin is exactly the scheme, host and port of one of our addresses (the request's, PUBLIC_URL)."""
    if not origin:
        return False
    try:
        sent = urlparse(origin)
        ours = [urlparse(url) for url in our_urls if url]
    except ValueError:  # "http://[::1" and the like: no origin at all
        return False
    return any((sent.scheme, sent.netloc) == (url.scheme, url.netloc) for url in ours)


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


class SecureCookiesOverHttps:
    """WSGI middleware: over HTTPS, mark every cookie Secure (the session and remember-me ones included).

    It sits outside Flask so it also sees the session cookie, which Flask writes after its
    after_request hooks; behind a proxy, ProxyFix (outside this) has already set the scheme.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def secure_start_response(status, headers, exc_info=None):
            headers = [
                (name, value + "; Secure" if name.lower() == "set-cookie" and "; secure" not in value.lower() else value)
                for name, value in headers
            ]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, secure_start_response)


def keep_session_unchanged() -> None:
    """This request is being refused: whatever it did to the session (or the login) is not saved."""
    g.keep_session = True


class RefusalsKeepTheSession(SecureCookieSessionInterface):
    """Flask's cookie session, except that a refused request never writes it.

    A cross-site POST arrives without the victim's session cookie; saving the fresh session its
    refusal would otherwise start replaced the victim's own (and with it their CSRF token).
    """

    def save_session(self, app, session, response) -> None:
        if g.get("keep_session"):
            return
        super().save_session(app, session, response)


class CheckedRequest(Request):
    """Flask's request (`app.request_class`), minus two headers that made a 500 of pages: odd cookies and hosts.

    A cookie whose name or value is not ASCII is ignored: every cookie we set is ASCII, and flask-login
    compared a non-ASCII remember-me digest with hmac.compare_digest, which raises on such text.
    A Host that is not an IDNA host name (`xn--zz`) is a 400 where we read `host_url` (the room's join
    link, the socket's Origin check): werkzeug raised UnicodeError building it.
    """

    @cached_property
    def host_url(self) -> str:
        try:
            return super().host_url
        except ValueError:  # UnicodeError included
            raise BadRequest("The Host header is not a host name.") from None

    @cached_property
    def cookies(self):
        sent = super().cookies
        return self.dict_storage_class(
            [(name, value) for name, value in sent.items(multi=True) if name.isascii() and value.isascii()]
        )
