"""Shared test helpers: real servers, logged-in HTTP sessions, and skip-or-fail for missing services."""

import os
import re
import socket
import subprocess
import sys
import time
from html import unescape
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out, which this machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def need(condition: bool, reason: str) -> None:
    """Skip when something the test needs is missing here; under CI=true, fail instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must be available)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """`python app.py` in a subprocess on a free port, as a user would start it."""

    def __init__(self, database_url: str, **env):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        # No webhook sender unless the test wants one (WEBHOOKS_SENDER="on"): nothing is sent from these machines by chance.
        self.env = {**os.environ, "DATABASE_URL": database_url, "PRESENCE_GRACE_SECONDS": "1", "WEBHOOKS_SENDER": "off", **env}
        self.proc = None
        self.log_path = None

    def start(self, log_path: Path) -> "AppServer":
        self.log_path = log_path
        log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{log_path.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{log_path.read_text()}")

    def stop(self, sig=None) -> None:
        if self.proc and self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def page_token(html: str) -> str:
    """The CSRF token embedded in a page."""
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def form_expected(html: str, action: str) -> str:
    """The `expected` field of the page's first form posting to `action`: the state a browser sends back."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S)
    assert form, f"the page has no form posting to {action}"
    field = re.search(r'name="expected" value="([^"]*)"', form.group(1))
    assert field, f"the form posting to {action} names no state"
    return unescape(field.group(1))


def board_expected(who, code: str, action: str) -> str:
    """What `who`'s board names in its form posting to `action` (`who`: a test-client or HTTP person)."""
    return form_expected(who.get(f"/m/{code}?board=1").text, f"/m/{code}/{action}")


class HttpPerson:
    """A browser-less participant talking to a real server: its own cookies, CSRF token and sockets."""

    def __init__(self, base: str):
        import requests

        self.base = base
        self.http = requests.Session()
        self.token = page_token(self.http.get(base + "/").text)

    def start_meeting(self, title="Coffee", name="Fay", votes=3) -> str:
        response = self.http.post(
            self.base + "/meetings",
            data={"title": title, "name": name, "votes_per_person": votes, "csrf_token": self.token},
            allow_redirects=False,
        )
        assert response.status_code == 303, response.text
        self.signed_in(response.headers["Location"])
        return response.headers["Location"].rsplit("/", 1)[-1]

    def join(self, code: str, name: str) -> None:
        response = self.http.post(
            f"{self.base}/m/{code}/join", data={"name": name, "csrf_token": self.token}, allow_redirects=False
        )
        assert response.status_code == 303, response.text
        self.signed_in(response.headers["Location"])

    def signed_in(self, landing: str) -> None:
        """Follow the redirect after a sign-in, as a browser would, and keep the new CSRF token it carries."""
        self.token = page_token(self.http.get(self.base + landing).text)

    def get(self, path: str):
        return self.http.get(self.base + path)

    def act(self, path: str, data=None, live=True):
        """An htmx POST, as a page whose socket is live sends it."""
        headers = {"HX-Request": "true", "X-CSRFToken": self.token}
        if live:
            headers["X-Live-Socket"] = "1"
        return self.http.post(self.base + path, data=data or {}, headers=headers)

    def press(self, code: str, action: str, data=None, live=True):
        """A control of this person's board, pressed: its form sends the state it names (`expected`) too."""
        data = {**(data or {}), "expected": board_expected(self, code, action)}
        return self.act(f"/m/{code}/{action}", data, live=live)

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)

    def socket(self, code: str, origin: str | None = None, **kwargs):
        """Open the board's WebSocket like a browser (cookies, Origin, deflate offered)."""
        import websocket

        return websocket.create_connection(
            f"ws://{self.base.split('://', 1)[1]}/m/{code}/ws",
            cookie=self.cookie_header(),
            origin=origin or self.base,
            header=["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"],
            timeout=10,
            **kwargs,
        )


def receive_until(ws, predicate, timeout: float = 10.0) -> str:
    """Read frames until one satisfies predicate; fail with what arrived otherwise."""
    import websocket

    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        ws.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            frame = ws.recv()
        except websocket.WebSocketTimeoutException:
            break
        seen.append(frame)
        if predicate(frame):
            return frame
    raise AssertionError(f"no matching frame within {timeout}s; got {len(seen)}: {[f[:200] for f in seen]}")


def close_code(ws, timeout=5.0) -> int:
    """Read until the server's close frame; its status code."""
    import websocket

    ws.settimeout(timeout)
    opcode, data = ws.recv_data(control_frame=True)
    while opcode != websocket.ABNF.OPCODE_CLOSE:
        opcode, data = ws.recv_data(control_frame=True)
    return int.from_bytes(data[:2], "big")


def font_px(page, selector: str) -> float:
    """The font size of the element that matches `selector` now, read in one script.

    A locator's evaluate can reach an element a pushed frame has just swapped out, and a detached element has
    no computed style (NaN).
    """
    return page.evaluate("s => parseFloat(getComputedStyle(document.querySelector(s)).fontSize)", selector)
