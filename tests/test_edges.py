"""Edges on the real server: 4xx never 500, private answers never cached, no meeting code in logs, metrics for operators."""

import base64
import http.client
import logging
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import pytest
import requests

from leancoffee.config import parse_networks
from leancoffee.models import Topic
from leancoffee.redaction import RedactCodes
from tests.backends import PG_ADMIN_URL, fresh_postgres_database, need_postgres
from tests.helpers import ROOT, AppServer, HttpPerson, free_port, receive_until

pytestmark = pytest.mark.server
KEY, VERSION = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"  # RFC 6455's sample key
BAD_CODES = ["%00", "ab%00cd", "%0d%0a", "ab%0D%0ALocation:%20/evil", "%ff", "%C3%A9t%C3%A9", "%E2%80%AE", "a" * 33,
             "a" * 5000, "..", "%2e%2e", "a%2Fb", "a%20b", "~x", "x.y"]
GET_ROUTES = ["/m/{}", "/m/{}/room", "/m/{}/summary", "/m/{}/summary.md", "/m/{}/summary.csv", "/m/{}?board"]
POST_ROUTES = ["/m/{}/join", "/m/{}/leave", "/m/{}/topics", "/m/{}/topics/1/vote", "/m/{}/topics/1/notes", "/m/{}/phase",
               "/m/{}/merge", "/m/{}/timer", "/m/{}/settings"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request, tmp_path_factory):
    """The real server on each database, with a log of its own and room for hundreds of writes."""
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "postgresql":
        need_postgres()
    with fresh_postgres_database() if request.param == "postgresql" else nullcontext(f"sqlite:///{tmp / 'e.db'}") as url:
        srv = AppServer(url, RATE_LIMIT_WRITES="off").start(tmp / "server.log")
        try:
            yield srv
        finally:
            srv.stop()


def send(srv, method, path, headers=(), body=b""):
    """One request exactly as written (no URL normalising, any bytes in headers): (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=any(name == "Host" for name, _ in headers), skip_accept_encoding=True)
        for name, value in [*headers, *([("Content-Length", str(len(body)))] if method == "POST" else [])]:
            conn.putheader(name, value)
        conn.endheaders(body or None)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def form_post(srv, who, path, htmx):
    """A POST as a participant's page sends it: htmx (token in a header) or a plain form (token in the body)."""
    headers = [("Cookie", who.cookie_header()), ("Content-Type", "application/x-www-form-urlencoded")]
    if htmx:
        headers += [("HX-Request", "true"), ("X-CSRFToken", who.token)]
    return send(srv, "POST", path, headers, f"title=t&name=N&csrf_token={who.token}".encode())


def started(srv):
    """A facilitator who has started a meeting: (person, code)."""
    fay = HttpPerson(srv.base)
    return fay, fay.start_meeting()


def test_a_meeting_code_outside_its_alphabet_is_a_404_page_on_every_route(backend):
    fay, code = started(backend)
    for bad in BAD_CODES:
        for route in GET_ROUTES:
            for cookie in ([], [("Cookie", fay.cookie_header())]):
                status, _, body = send(backend, "GET", route.format(bad), cookie)
                assert status == 404 and b"not found" in body.lower(), (route, bad)
        for route in POST_ROUTES:
            path = route.format(bad)
            assert form_post(backend, fay, path, htmx=False)[0] == 404, path
            assert form_post(backend, fay, path, htmx=True)[0] == 404, path
            status, headers, _ = send(backend, "POST", path, [("Content-Type", "application/x-www-form-urlencoded")], b"a=b")
            assert 400 <= status < 500 and "\n" not in headers.get("Location", ""), path  # anonymous, no token
    assert send(backend, "GET", f"/m/{code}", [("Cookie", fay.cookie_header())])[0] == 200  # real codes still route


def test_cookies_that_are_not_ascii_are_ignored_not_a_500(backend):
    fay, code = started(backend)
    junk = [b"remember_token=1|\xc3\xa9\xc3\xa9", b"remember_token=1|\xe9\xe9", b"session=\xc3\xa9", b"r\xc3\xa9=1"]
    for cookie in junk:
        for path in ("/", f"/m/{code}", f"/m/{code}/summary", f"/m/{code}/room"):
            status, _, body = send(backend, "GET", path, [("Cookie", cookie)])
            assert status == 200 and (path == "/" or b'name="name"' in body), (cookie, path)  # a stranger: the join form
    # Fay's own cookies still count next to a junk one: she is still herself.
    status, _, body = send(backend, "GET", f"/m/{code}", [("Cookie", fay.cookie_header().encode() + b"; junk=\xc3\xa9")])
    assert status == 200 and b'id="columns"' in body


def handshake(srv, code, lines, cookie="", origin=None, host=None):
    """A raw WebSocket handshake: (status, response head)."""
    host = host or f"127.0.0.1:{srv.port}"
    head = [f"GET /m/{code}/ws HTTP/1.1", f"Host: {host}", f"Origin: {origin or 'http://' + host}", "Upgrade: websocket"]
    head += [line for line in [f"Cookie: {cookie}" if cookie else ""] + lines if line]
    if not any(line.startswith("Connection:") for line in lines):
        head.append("Connection: Upgrade")
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        reply = b""
        while b"\r\n\r\n" not in reply and (chunk := sock.recv(4096)):
            reply += chunk
    return int(reply.split(b" ", 2)[1]), reply.split(b"\r\n\r\n")[0].decode("latin-1")


def key_of(size):
    """A Sec-WebSocket-Key header that is the base64 of `size` bytes."""
    return "Sec-WebSocket-Key: " + base64.b64encode(b"k" * size).decode()


@pytest.mark.parametrize("lines, status", [
    ([VERSION], 400), (["Sec-WebSocket-Key: abc", VERSION], 400), ([key_of(15), VERSION], 400), ([key_of(17), VERSION], 400),
    (["Sec-WebSocket-Key: " + "!" * 22 + "==", VERSION], 400), (["Sec-WebSocket-Key: " + "é" * 22 + "==", VERSION], 400),
    ([KEY, key_of(16), VERSION], 400), ([KEY], 400), ([KEY, "Sec-WebSocket-Version: 8"], 426),
    ([KEY, "Sec-WebSocket-Version: 13, 8"], 426), ([KEY, VERSION, "Sec-WebSocket-Version: 8"], 426),
    ([KEY, VERSION, "Sec-WebSocket-Protocol: é"], 400), ([KEY, VERSION, "Connection: keep-alive, Upgrade, é"], 400),
    ([KEY, VERSION, "Content-Length: 5"], 400), ([KEY, VERSION, "Transfer-Encoding: chunked"], 400),
    ([KEY, VERSION], 101),
], ids=["no key", "short key", "15 bytes", "17 bytes", "not base64", "non-ASCII key", "two keys", "no version",
        "version 8", "13 and 8", "13 then 8", "non-ASCII protocol", "non-ASCII connection", "a body", "a chunked body",
        "valid"])
def test_malformed_websocket_handshakes_get_400_or_426_not_500(backend, lines, status):
    fay, code = started(backend)
    got, head = handshake(backend, code, lines, fay.cookie_header())
    assert got == status, head
    if status == 426:
        assert "\r\nSec-WebSocket-Version: 13" in head  # RFC 6455: say which version we speak
    if status != 101:  # checked right after the Origin, before who is asking: a stranger gets the same answer
        assert handshake(backend, code, lines)[0] == status
        assert handshake(backend, code, lines, fay.cookie_header(), origin="http://evil.example")[0] == 403


@pytest.mark.parametrize("origin", ["http://[::1", "http://[zz]", "http://]", "http://[", "://", "http://%"])
def test_a_malformed_origin_is_refused_like_a_foreign_one(backend, origin):
    fay, code = started(backend)
    assert handshake(backend, code, [KEY, VERSION], fay.cookie_header(), origin=origin)[0] == 403
    assert handshake(backend, code, [KEY, VERSION], origin=origin)[0] == 403


def test_a_host_that_is_not_a_host_name_is_a_400(backend):
    fay, code = started(backend)
    assert handshake(backend, code, [KEY, VERSION], fay.cookie_header(), host="xn--zz")[0] == 400
    for path in (f"/m/{code}", f"/m/{code}/room"):
        assert send(backend, "GET", path, [("Host", "xn--zz"), ("Cookie", fay.cookie_header())])[0] == 400


def test_private_answers_are_never_stored_and_static_files_keep_their_caching(backend):
    fay, code = started(backend)
    stranger = requests.Session()
    answers = [fay.http.get(f"{backend.base}{path}") for path in
               ("/", f"/m/{code}", f"/m/{code}/room", f"/m/{code}/summary", f"/m/{code}/summary.md", f"/m/{code}/summary.csv",
                "/no/such/page", "/healthz", "/readyz", "/metrics")]
    plain_form = {"title": "t", "csrf_token": fay.token}
    answers += [stranger.get(f"{backend.base}/m/{code}"), fay.act(f"/m/{code}/topics", {"title": "Cached?"}),
                fay.http.post(f"{backend.base}/m/{code}/topics", data=plain_form, allow_redirects=False)]
    for answer in answers:
        assert answer.status_code in (200, 303, 404) and answer.headers["Cache-Control"] == "no-store", answer.url
    for encoding in ("identity", "gzip"):
        css = requests.get(f"{backend.base}/static/app.css", headers={"Accept-Encoding": encoding})
        assert css.status_code == 200 and css.headers.get("ETag") and "no-store" not in css.headers.get("Cache-Control", "")


def test_metrics_and_readiness_detail_are_served_to_loopback_by_default(backend):
    metrics = requests.get(backend.base + "/metrics")
    assert metrics.status_code == 200 and "leancoffee_open_sockets" in metrics.text
    assert requests.get(backend.base + "/readyz").text == "database: ok\n"


def guarded_server(url: str, tmp: Path) -> AppServer:
    """A server behind one trusted proxy whose metrics are for 10.0.0.0/8 and a token only."""
    return AppServer(url, METRICS_ALLOW="10.0.0.0/8", METRICS_TOKEN="s3cret-token", TRUSTED_PROXIES="1").start(tmp / "server.log")


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("guarded")
    srv = guarded_server(f"sqlite:///{tmp / 'g.db'}", tmp)
    yield srv
    srv.stop()


@pytest.mark.parametrize("headers, allowed", [
    ([], False), ([("Authorization", "Bearer s3cret-token")], True), ([("Authorization", "bearer s3cret-token")], True),
    ([("Authorization", "Bearer wrong")], False), ([("Authorization", "Bearer s3cret-tokenX")], False),
    ([("Authorization", "Bearer ")], False), ([("Authorization", "Basic s3cret-token")], False),
    ([("Authorization", b"Bearer \xc3\xa9")], False), ([("X-Forwarded-For", "10.1.2.3")], True),
    ([("X-Forwarded-For", "192.0.2.7")], False), ([("X-Forwarded-For", "10.1.2.3, 192.0.2.7")], False),
], ids=["nothing", "token", "lowercase scheme", "wrong token", "longer token", "empty token", "basic", "non-ASCII token",
        "allowed address", "other address", "forged first hop"])
def test_metrics_answer_only_allowed_addresses_or_the_token(guarded, headers, allowed):
    status, _, body = send(guarded, "GET", "/metrics", headers)
    assert (status, b"leancoffee_open_sockets" in body) == ((200, True) if allowed else (403, False))
    assert allowed or body == b""
    assert send(guarded, "GET", "/readyz", headers)[::2] == (200, b"database: ok\n" if allowed else b"")
    assert send(guarded, "GET", "/healthz", headers)[::2] == (200, b"ok\n")  # liveness stays open to all


def test_readiness_gives_others_its_status_code_and_no_detail(tmp_path):
    need_postgres()
    import psycopg

    with fresh_postgres_database() as url:
        srv = guarded_server(url, tmp_path)
        try:
            assert send(srv, "GET", "/readyz")[::2] == (200, b"")
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:  # the database is gone: not ready
                admin.execute(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
            assert send(srv, "GET", "/readyz")[::2] == (503, b"")
            status, _, body = send(srv, "GET", "/readyz", [("Authorization", "Bearer s3cret-token")])
            assert status == 503 and body.startswith(b"database: unreachable")
        finally:
            srv.stop()


def test_metrics_allow_is_parsed_as_networks():
    assert [str(n) for n in parse_networks(" 10.0.0.0/8, ::1,192.0.2.5 ,")] == ["10.0.0.0/8", "::1/128", "192.0.2.5/32"]
    with pytest.raises(ValueError):
        parse_networks("10.0.0.0/8,localhost")


def test_the_server_log_never_carries_a_meeting_code(tmp_path):
    srv = AppServer(f"sqlite:///{tmp_path / 'l.db'}").start(tmp_path / "server.log")
    try:
        fay, code = started(srv)
        ann = HttpPerson(srv.base)
        ann.join(code, "Ann")
        for path in ("", "/room", "/summary", "/summary.md", "/summary.csv", "?board"):
            assert fay.http.get(f"{srv.base}/m/{code}{path}", headers={"Referer": f"{srv.base}/m/{code}"}).ok
        ws = fay.socket(code)
        receive_until(ws, lambda f: 'id="columns"' in f)
        assert ann.act(f"/m/{code}/topics", {"title": "Logged"}).status_code == 200
        assert ann.act(f"/m/{code}/topics/999999/vote").status_code == 404
        ws.close()
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:  # the server's own error line
            sock.sendall(f"GET /m/{code}/room HTTP/1.1 extra\r\n\r\n".encode())
            assert sock.recv(4096).startswith(b"HTTP/1.1 400")
    finally:
        srv.stop()
    log = (tmp_path / "server.log").read_text()
    assert code not in log
    assert re.search(r'event=request method=GET route="/m/<meeting_code:code>/room" meeting=1 endpoint=pages.room', log)
    assert "/m/<code>/room HTTP/1.1 extra" in log  # gevent's line about the bad request, with the code taken out


def test_flasks_exception_line_loses_the_code():
    record = logging.LogRecord("leancoffee", logging.ERROR, __file__, 1, "Exception on %s [%s]", ("/m/Ab-9_x/topics", "POST"),
                               None)
    assert RedactCodes().filter(record) and record.getMessage() == "Exception on /m/<code>/topics [POST]"


def test_gunicorn_logs_never_carry_a_meeting_code_even_with_its_access_log_on(tmp_path):
    port, log_path = free_port(), tmp_path / "gunicorn.log"
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}",
           "SECRET_KEY": "gunicorn-edges-secret", "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "--access-logfile", "-"],
                            cwd=ROOT, env=env, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT)
    try:
        srv = AppServer("unused")  # only its address: gunicorn is the server here
        srv.port, srv.base = port, f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert proc.poll() is None, log_path.read_text()
            try:
                if requests.get(srv.base + "/healthz", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        fay, code = started(srv)
        assert fay.http.get(f"{srv.base}/m/{code}/summary").ok
        assert send(srv, "GET", f"/m/{code}/room?x=1", [("Referer", f"{srv.base}/m/{code}")])[0] == 200
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(f"GET /m/{code}/ro\x01om HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert sock.recv(4096).startswith(b"HTTP/1.1 400")
        fay.http.close()  # no keep-alive connection for the worker to wait for as it stops
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    log = log_path.read_text()
    assert code not in log and '"GET" 200' in log  # the access log is on, and names no path
    assert "Invalid HTTP request line: 'GET /m/<code>/ro\\x01om HTTP/1.1'" in log  # gunicorn's line, the code taken out


@pytest.mark.parametrize("token", ["ünïcode", "\u202e", "x" * 5000])
def test_a_csrf_token_that_is_not_ascii_is_refused_not_a_500(meeting, token):
    m, _, ann, _ = meeting
    as_header = ann.client.post(f"/m/{m.code}/topics", data={"title": "Forged"},
                                headers={"HX-Request": "true", "X-CSRFToken": token.encode().decode("latin-1")})
    as_field = ann.client.post(f"/m/{m.code}/topics", data={"title": "Forged", "csrf_token": token})
    assert as_header.status_code == 400 and as_field.status_code == 400 and "Reload the page" in as_field.text
    assert Topic.select().where(Topic.title == "Forged").count() == 0
