"""Meeting codes in URLs: matched at routing by their alphabet, and kept out of every log line."""

import logging
import re

from flask import has_request_context, request
from werkzeug.routing import BaseConverter

# secrets.token_urlsafe(9) makes 12 characters of [A-Za-z0-9_-]; 32 leaves room without letting junk through.
CODE_PATTERN = r"[A-Za-z0-9_-]{1,32}"
# A meeting's path as it may appear in a server's or a library's message: /m/ and whatever follows up to a delimiter.
_CODE_IN_TEXT = re.compile(r"/m/[^/\s?#'\"]+")


class MeetingCodeConverter(BaseConverter):
    """`<meeting_code:code>`: only the code alphabet routes, so NUL, CR/LF, %ff, `..` or a novel are a 404 page."""

    regex = CODE_PATTERN


def route_of_request() -> str | None:
    """The matched route's rule (`/m/<code>/topics`): what logs say instead of the path, which holds the code."""
    rule = request.url_rule if has_request_context() else None
    return rule.rule if rule is not None else None


def redact_codes(text: str) -> str:
    """The text with every meeting path's code replaced by `<code>` (a code is the meeting's secret)."""
    return _CODE_IN_TEXT.sub("/m/<code>", text)


class RedactCodes(logging.Filter):
    """A logging filter for messages we do not write ourselves (Flask's `Exception on <path>`, servers' errors)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_codes(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
