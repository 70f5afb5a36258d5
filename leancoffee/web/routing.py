"""URLs: meeting codes matched by their alphabet (logs name the route instead), and paths built from the routes."""

from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from werkzeug.routing import BaseConverter

# secrets.token_urlsafe(9) makes 12 characters of [A-Za-z0-9_-]; 32 leaves room without letting junk through.
CODE_PATTERN = r"[A-Za-z0-9_-]{1,32}"
# A room secret is secrets.token_urlsafe(24): 32 characters of the same alphabet.
ROOM_SECRET_PATTERN = r"[A-Za-z0-9_-]{1,64}"


class MeetingCodeConverter(BaseConverter):
    """`<meeting_code:code>`: only the code alphabet routes, so NUL, CR/LF, %ff, `..` or a novel are a 404 page."""

    regex = CODE_PATTERN


class RoomSecretConverter(BaseConverter):
    """`<room_secret:secret>`: the room link's secret, by the same alphabet (a wrong one is a 404 page)."""

    regex = ROOM_SECRET_PATTERN


def public_url(path: str) -> str:
    """An address to show, copy or encode: PUBLIC_URL when set, else where this request came in; then path."""
    return (current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")) + path


def fragment_url(path: str) -> str:
    """public_url in a pushed fragment: PUBLIC_URL when set, else the path alone, which the page completes with its
    own address (static/board.js): a fragment goes to screens that may each have reached this server by another."""
    return (current_app.config.get("PUBLIC_URL") or "") + path


def route_of_request() -> str | None:
    """The matched route's rule (`/m/<code>/topics`): what logs say instead of the path, which holds the code."""
    rule = request.url_rule if has_request_context() else None
    return rule.rule if rule is not None else None


def path_for(endpoint: str, **values) -> str:
    """The path of a route (as templates' url_for builds it), for views."""
    return current_app.extensions["path_for"](endpoint, **values)


def path_builder(app):
    """Templates' url_for: a route's path from the routes alone, so fragments rendered outside a request
    (by timers, or for another worker's change) build the same paths as pages do."""
    adapter = app.url_map.bind("")

    def url_for(endpoint: str, **values) -> str:
        built = adapter.build(endpoint, values)
        if built.startswith("/"):
            return built
        # A socket's route builds as ws://host/...: the page connects to the path (hx-ws adds this host).
        parts = urlsplit(built)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    return url_for
