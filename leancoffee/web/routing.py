"""Meeting codes in URLs: matched at routing by their alphabet; logs name the route instead (see redaction)."""

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


def route_of_request() -> str | None:
    """The matched route's rule (`/m/<code>/topics`): what logs say instead of the path, which holds the code."""
    rule = request.url_rule if has_request_context() else None
    return rule.rule if rule is not None else None
