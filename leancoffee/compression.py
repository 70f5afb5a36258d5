"""Gzip for static files (htmx, CSS, JS), so a board's first load stays well under 100 KB on a phone."""

import gzip

COMPRESSIBLE = {"text/css", "text/javascript", "application/javascript", "image/svg+xml"}


class GzipStatic:
    """WSGI middleware: gzip 200 responses under /static/ for clients that accept gzip.

    Pages are deliberately left alone: they carry the CSRF token next to text that participants
    wrote, and compressing both together would leak the token's length-wise (BREACH). Static
    files hold no secrets. Compressed bodies are kept per (path, ETag), since they rarely change.
    """

    def __init__(self, wsgi_app, prefix: str = "/static/", min_size: int = 1024):
        self.wsgi_app = wsgi_app
        self.prefix = prefix
        self.min_size = min_size
        self._packed: dict[tuple, bytes] = {}

    def __call__(self, environ, start_response):
        if not environ.get("PATH_INFO", "").startswith(self.prefix) or "gzip" not in environ.get("HTTP_ACCEPT_ENCODING", ""):
            return self.wsgi_app(environ, start_response)
        seen, chunks = {}, []

        def capture(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return chunks.append

        result = self.wsgi_app(environ, capture)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status, headers, body = seen["status"], seen["headers"], b"".join(chunks)
        named = {name.lower(): value for name, value in headers}
        kind = named.get("content-type", "").split(";")[0].strip()
        if status.startswith("200") and kind in COMPRESSIBLE and len(body) >= self.min_size and "content-encoding" not in named:
            key = (environ["PATH_INFO"], named.get("etag"), len(body))
            if key not in self._packed:
                self._packed[key] = gzip.compress(body, compresslevel=6, mtime=0)
            body = self._packed[key]
            headers = [(name, value) for name, value in headers if name.lower() not in ("content-length", "vary")]
            headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(body))), ("Vary", "Accept-Encoding")]
        start_response(status, headers)
        return [body]
