"""The HTTP edge of `python app.py`: gevent's WSGI server, refusing ambiguous framing and slow headers.

gevent's pywsgi alone takes the first of two Content-Lengths (the rest of the body then reads as a
second request), a Content-Length of "+5", and Transfer-Encodings it does not implement; a proxy in
front may read any of those differently, and the two would disagree on where a request ends. Here
they are all a 400, as are header names that are not tokens and folded header lines (gunicorn's own
parser refuses the same). A connection also gets HEADER_TIMEOUT_SECONDS for its request line and headers.

Relies on gevent 26.9.0's WSGIHandler (tests/test_http_framing.py checks each point): `MessageClass`
parses the headers inside `read_request`, whose ValueError becomes a 400; `read_requestline` reads
the request line; an OSError raised while reading it ends the connection quietly, and any exception
while reading headers goes to `_handle_client_error`, whose (status, body) is sent before closing.
"""

import re

import gevent
from gevent.pywsgi import MAX_REQUEST_LINE, WSGIHandler, WSGIServer

TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
DIGITS = re.compile(r"[0-9]+")
_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class HeadersTooSlow(TimeoutError):
    """The request line and headers did not arrive within the header timeout."""


class AmbiguousFraming(ValueError):
    """A request whose end a proxy in front could read differently (gevent makes a ValueError a 400)."""


def check_framing(headers) -> None:
    """Refuse what two HTTP parsers could disagree about: where the body ends, what a header is called."""
    for name, value in headers.items():
        if not TOKEN.fullmatch(name):
            raise AmbiguousFraming(f"header name {name!r} is not a token")
        if "\n" in value or "\r" in value:
            raise AmbiguousFraming(f"header {name} is folded over several lines")
    if len(headers.get_all("Host") or []) > 1:
        raise AmbiguousFraming("more than one Host")
    _check_body_length(headers.get_all("Content-Length") or [], headers.get_all("Transfer-Encoding") or [])


def _check_body_length(lengths: list[str], codings: list[str]) -> None:
    """One Content-Length of digits, or one Transfer-Encoding that is "chunked", or neither."""
    if len(lengths) > 1:
        raise AmbiguousFraming("more than one Content-Length")
    if lengths and not DIGITS.fullmatch(lengths[0]):
        raise AmbiguousFraming(f"Content-Length {lengths[0]!r} is not a number of bytes")
    if codings and (len(codings) > 1 or codings[0].strip().lower() != "chunked"):
        raise AmbiguousFraming(f"Transfer-Encoding {', '.join(codings)!r}: only chunked is understood")
    if codings and lengths:
        raise AmbiguousFraming("both Transfer-Encoding and Content-Length")


class StrictHandler(WSGIHandler):
    """pywsgi's handler, with check_framing on every request's headers and a deadline for reading them."""

    _deadline = None

    def MessageClass(self, *args):
        headers = super().MessageClass(*args)
        check_framing(headers)
        return headers

    def read_requestline(self):
        # Raised inside the read as an OSError, which pywsgi takes as the client gone: the connection closes.
        self._deadline = gevent.Timeout.start_new(self.server.header_timeout, HeadersTooSlow())
        try:
            line = super().read_requestline()
        except BaseException:
            self._deadline.close()
            raise
        if not line or len(line) >= MAX_REQUEST_LINE:  # pywsgi answers or closes without reading headers
            self._deadline.close()
        return line

    def read_request(self, raw_requestline):
        try:
            return super().read_request(raw_requestline)
        finally:
            self._deadline.close()

    def _handle_client_error(self, ex):
        if isinstance(ex, HeadersTooSlow):
            return "408", _TIMED_OUT
        return super()._handle_client_error(ex)


class StrictServer(WSGIServer):
    """gevent's WSGI server with StrictHandler; `header_timeout` in seconds."""

    handler_class = StrictHandler

    def __init__(self, *args, header_timeout: float = 10.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
