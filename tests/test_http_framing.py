"""Ambiguous HTTP framing is a 400 and slow headers are cut off, on both servers (issue 15, point 5).

`python app.py` (gevent's pywsgi with leancoffee.serving) and a gunicorn gevent worker (its own parser,
its `keepalive` as the header timeout), each with HEADER_TIMEOUT_SECONDS=2, talked to over raw sockets.
"""

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, AppServer, free_port

pytestmark = pytest.mark.server

TIMEOUT = 2
HEAD = "POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
# Each a request whose end, or whose headers, two parsers could read differently.
AMBIGUOUS = {
    "two different Content-Lengths": HEAD + "Content-Length: 5\r\nContent-Length: 40\r\n\r\nhelloGET /healthz HTTP/1.1\r\n\r\n",
    "two equal Content-Lengths": HEAD + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "Content-Length +5": HEAD + "Content-Length: +5\r\n\r\nhello",
    "Content-Length -5": HEAD + "Content-Length: -5\r\n\r\nhello",
    "Content-Length as a list": HEAD + "Content-Length: 5, 5\r\n\r\nhello",
    "Content-Length in hex": HEAD + "Content-Length: 0x5\r\n\r\nhello",
    "Transfer-Encoding gzip": HEAD + "Transfer-Encoding: gzip\r\n\r\n",
    "Transfer-Encoding gzip, chunked": HEAD + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "Transfer-Encoding identity": HEAD + "Transfer-Encoding: identity\r\n\r\n",
    "two Transfer-Encodings": HEAD + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "chunked and a Content-Length": HEAD + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    "space before the colon": HEAD + "Content-Length : 5\r\n\r\nhello",
    "a folded header": HEAD + "X-Note: one\r\n two\r\nContent-Length: 0\r\n\r\n",
    "two Hosts": HEAD + "Host: evil.example\r\nContent-Length: 0\r\n\r\n",
}


def exchange(port: int, data: bytes, wait: float = 5.0) -> bytes:
    """Send raw bytes; everything the server sends back until it closes the connection (or `wait` passes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


def start_gunicorn(tmp_path: Path):
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}",
           "SECRET_KEY": "framing-secret", "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1",
           "HEADER_TIMEOUT_SECONDS": str(TIMEOUT), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"],
                            cwd=ROOT, env=env, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while "event=backplane" not in log_path.read_text() and time.monotonic() < deadline:
        assert proc.poll() is None, log_path.read_text()
        time.sleep(0.1)
    return port, proc


@pytest.fixture(scope="module", params=["python app.py", "gunicorn gevent worker"])
def port(request, tmp_path_factory):
    """The port of one of the two servers, each with a 2-second header timeout."""
    tmp = tmp_path_factory.mktemp("framing")
    if request.param == "python app.py":
        server = AppServer(f"sqlite:///{tmp / 'a.db'}", HEADER_TIMEOUT_SECONDS=str(TIMEOUT)).start(tmp / "app.log")
        yield server.port
        server.stop()
    else:
        number, proc = start_gunicorn(tmp)
        yield number
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)


@pytest.mark.parametrize("label", AMBIGUOUS)
def test_ambiguous_framing_is_a_400_and_nothing_more_is_read(port, label):
    answer = exchange(port, AMBIGUOUS[label].encode())
    assert answer.startswith(b"HTTP/1.1 400 "), (label, answer[:200])
    assert answer.count(b"HTTP/1.1 ") == 1, label  # the rest was not served as a second request


def test_plain_and_chunked_requests_still_work(port):
    plain = exchange(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert plain.startswith(b"HTTP/1.1 200 ") and plain.endswith(b"ok\n"), plain[-200:]
    chunked = exchange(port, (HEAD + "Transfer-Encoding: Chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n").encode())
    # Read whole and handed to the app, which refuses a POST without its CSRF token (its own page, not the server's).
    assert chunked.startswith(b"HTTP/1.1 400 ") and b"Content-Security-Policy:" in chunked, chunked[:200]


def test_trickled_headers_are_cut_off_after_the_header_timeout(port):
    trickles = []
    for _ in range(50):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        trickles.append(sock)
    idle = socket.create_connection(("127.0.0.1", port), timeout=10)  # says nothing at all
    started = time.monotonic()
    closed_after = {}
    while len(closed_after) < len(trickles) + 1 and time.monotonic() - started < TIMEOUT + 3:
        for sock in [*trickles, idle]:
            if sock in closed_after:
                continue
            try:
                if sock is not idle:
                    sock.sendall(b"X-Slow: a\r\n")
                sock.setblocking(False)
                if sock.recv(4096) == b"":
                    raise ConnectionResetError
            except BlockingIOError:
                pass
            except OSError:  # closed by the server (reset, or the 408 read before the close)
                closed_after[sock] = time.monotonic() - started
            finally:
                sock.setblocking(True)
        # Meanwhile the server answers everyone else at once.
        assert exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 2).startswith(b"HTTP/1.1 200")
        time.sleep(0.25)
    for sock in [*trickles, idle]:
        sock.close()
    assert len(closed_after) == len(trickles) + 1, f"{len(closed_after)} of {len(trickles) + 1} closed"
    assert max(closed_after.values()) <= TIMEOUT + 1, max(closed_after.values())
