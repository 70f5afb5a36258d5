"""Meeting codes and room secrets out of log lines: each opens a meeting, and paths carry them.

Imports nothing but the standard library, so gunicorn.conf.py can use it in the master before the
workers patch with gevent.
"""

import logging
import re

# A meeting's (or its room link's) path as it may appear in a server's or a library's message: /m/ (or /room/)
# and whatever follows up to a delimiter.
_CODE_IN_TEXT = re.compile(r"/m/[^/\s?#'\"]+")
_ROOM_SECRET_IN_TEXT = re.compile(r"/room/[^/\s?#'\"]+")
# A series' link (/s/<code>) opens its current meeting; a device link (/d/<token>) signs someone in.
_SERIES_CODE_IN_TEXT = re.compile(r"/s/[^/\s?#'\"]+")
_DEVICE_TOKEN_IN_TEXT = re.compile(r"/d/[^/\s?#'\"]+")
# The API's paths name a meeting by its code too: /api/v1/meetings/<code>[/...].
_API_CODE_IN_TEXT = re.compile(r"/meetings/[^/\s?#'\"]+")


def redact_codes(text: str) -> str:
    """The text with every meeting, API and series path's code replaced by `<code>`, and room and device links' secrets."""
    text = _API_CODE_IN_TEXT.sub("/meetings/<code>", _CODE_IN_TEXT.sub("/m/<code>", text))
    text = _SERIES_CODE_IN_TEXT.sub("/s/<code>", _DEVICE_TOKEN_IN_TEXT.sub("/d/<secret>", text))
    return _ROOM_SECRET_IN_TEXT.sub("/room/<secret>", text)


class RedactCodes(logging.Filter):
    """A logging filter for messages we do not write ourselves (Flask's `Exception on <path>`, servers' errors)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_codes(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
