"""Fixtures: an app on a temporary SQLite file, test clients per person, and a real server."""

import pytest

from leancoffee.factory import create_app
from leancoffee.models import Meeting
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, AppServer, need, page_token


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    return create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}", "PRESENCE_GRACE_SECONDS": 0.2})


class Person:
    """One browser: a Flask test client with its own cookies and CSRF token."""

    def __init__(self, app):
        self.client = app.test_client()
        self.token = page_token(self.client.get("/").text)

    def post(self, url, data=None, htmx=True, token=True, live=False):
        headers = {}
        if htmx:
            headers["HX-Request"] = "true"
        if live:
            headers["X-Live-Socket"] = "1"
        data = dict(data or {})
        if token:
            if htmx:
                headers["X-CSRFToken"] = self.token
            else:
                data["csrf_token"] = self.token
        response = self.client.post(url, data=data, headers=headers)
        if response.status_code == 303 and url.endswith(("/meetings", "/join")):
            # Signing in changes the CSRF token: a browser reads the new one off the page it lands on.
            self.token = page_token(self.client.get(response.headers["Location"]).text)
        return response

    def get(self, url):
        return self.client.get(url)


@pytest.fixture
def person(app):
    """Make a new browser."""
    return lambda: Person(app)


@pytest.fixture
def meeting(app, person):
    """A meeting started by Fay (facilitator) and joined by Ann and Bob: returns (meeting, fay, ann, bob)."""
    fay, ann, bob = person(), person(), person()
    response = fay.post("/meetings", {"title": "Team coffee", "votes_per_person": "2", "name": "Fay"}, htmx=False)
    code = response.headers["Location"].rsplit("/", 1)[-1]
    for who, name in ((ann, "Ann"), (bob, "Bob")):
        who.post(f"/m/{code}/join", {"name": name}, htmx=False)
    return Meeting.get(Meeting.code == code), fay, ann, bob


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The real app (`python app.py`) on a temporary SQLite file, for the whole session."""
    tmp = tmp_path_factory.mktemp("server")
    # Every test's visitors share one address and this one server: the write limit (40 per 10 s per address
    # before joining) would refuse tests for running fast. Its own tests start servers that keep it.
    srv = AppServer(f"sqlite:///{tmp / 'live.db'}", RATE_LIMIT_WRITES="off").start(tmp / "server.log")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, driven by Playwright (its own browser download cannot work here).

    Module scope: Playwright's sync API holds an event loop while it runs, which other modules'
    asyncio code must not find.
    """
    from pathlib import Path

    need(Path(CHROMIUM).exists(), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "Playwright for Python is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def trio(app):
    """At service level: Fay facilitates a 2-vote meeting that Ann and Bob joined (inside a request context)."""
    from leancoffee.services import meetings

    with app.test_request_context():
        fay, ann, bob = (meetings.create_user(n) for n in ("Fay", "Ann", "Bob"))
        m = meetings.create_meeting(fay, "Coffee", 2)
        meetings.join_meeting(ann, m.code, "Ann")
        meetings.join_meeting(bob, m.code, "Bob")
        yield m, fay, ann, bob
