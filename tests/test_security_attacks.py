"""Attacks that must fail: forged POSTs, hijacked sockets, acting as someone else, script injection, weak config."""

import re
import time

import pytest
import websocket

from leancoffee.config import InsecureConfiguration, check_production
from leancoffee.factory import create_app
from leancoffee.models import Meeting, Note, Participant, Topic, Vote
from leancoffee.services.summary import md_text
from tests.helpers import HttpPerson, close_code, receive_until

XSS = ['<img src=x onerror=alert(1)>', '<div hx-get=/x hx-trigger=load>boom</div>', '"><script>alert(1)</script>',
       "' hx-post='/m/x/leave"]


def post_routes(app):
    """Every POST endpoint, with sample values for its URL parameters."""
    routes = []
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods:
            routes.append(rule.rule.replace("<meeting_code:code>", "{code}").replace("<int:topic_id>", "{tid}"))
    return sorted(routes)


def snapshot():
    """Everything the database holds that an attack could change."""
    return (
        [(m.title, m.status, m.phase, m.version, m.hidden_voting, m.timebox_pattern, m.timer_state) for m in Meeting.select()],
        [(t.title, t.description, t.status) for t in Topic.select().order_by(Topic.id)],
        [(p.name, p.is_active) for p in Participant.select().order_by(Participant.id)],
        Vote.select().count(), Note.select().count(),
    )


def test_every_post_without_a_csrf_token_is_refused_and_changes_nothing(app, meeting):
    m, fay, ann, _ = meeting
    ann.post(f"/m/{m.code}/topics", {"title": "T"})
    tid = Topic.get().id
    routes = post_routes(app)
    assert len(routes) >= 15 and "/m/{code}/topics/{tid}/vote" in routes
    before = snapshot()
    for route in routes:
        url = route.format(code=m.code, tid=tid)
        for who in (fay, ann):
            response = who.post(url, {"title": "Forged", "status": "completed", "phase": "voting", "name": "X"}, token=False)
            assert response.status_code == 400 and "Reload the page" in response.text, url
            response = who.post(url, {"title": "Forged", "csrf_token": "wrong"}, htmx=False, token=False)
            assert response.status_code == 400 and "Reload the page" in response.text, url
            assert "Set-Cookie" not in response.headers, url  # a refusal never writes the session
    assert snapshot() == before


def test_csrf_token_lasts_the_whole_session(app, meeting):
    m, _, ann, _ = meeting
    cookie = ann.client.get_cookie("session")
    assert cookie is not None and cookie.expires is not None  # a permanent session, not a short-lived token
    assert (cookie.expires.timestamp() - time.time()) > 7 * 24 * 3600
    assert ann.post(f"/m/{m.code}/topics", {"title": "Still valid"}).status_code == 200


@pytest.mark.server
@pytest.mark.parametrize("origin", ["https://evil.example", "null", "", "http://127.0.0.1.evil.example",
                                    "http://evil.example:{port}", "http://127.0.0.1:1", "https://127.0.0.1:{port}"])
def test_socket_handshake_from_a_foreign_origin_is_refused_before_the_upgrade(server, origin):
    fay = HttpPerson(server.base)
    code = fay.start_meeting()
    origin = origin.format(port=server.port)
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        if origin:
            fay.socket(code, origin=origin)
        else:
            fay.socket(code, suppress_origin=True)
    assert refused.value.status_code == 403  # an HTTP refusal, so never a 101 upgrade


@pytest.mark.server
@pytest.mark.parametrize("message", ["x" * 10_000, "é" * 3_000], ids=["ascii", "3000 two-byte characters"])
def test_socket_messages_over_the_size_limit_close_the_socket(server, message):
    fay = HttpPerson(server.base)
    code = fay.start_meeting()
    ws = fay.socket(code)
    receive_until(ws, lambda f: 'id="columns"' in f)
    ws.send(message)  # the limit is 4 KB of UTF-8, not 4,096 characters
    assert close_code(ws) == 1009  # message too big


@pytest.mark.server
def test_acting_where_you_do_not_belong_changes_nothing_and_broadcasts_nothing(server):
    fay, ann, eve = HttpPerson(server.base), HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting()
    ann.join(code, "Ann")
    added = fay.act(f"/m/{code}/topics", {"title": "Fay's"}, live=False)
    tid = int(re.search(r'<li id="topic-(\d+)" class="card"', added.text)[1])
    other = eve.start_meeting("Eve's own", "Eve")  # Eve facilitates another meeting
    watcher = fay.socket(code)
    receive_until(watcher, lambda f: 'id="columns"' in f)
    receive_until(watcher, lambda f: 'class="person present"' in f and 'id="columns"' not in f)  # Fay shown as here
    attempts = [
        (eve, f"/m/{code}/topics/{tid}/vote", {}, 403), (eve, f"/m/{code}/topics", {"title": "spam"}, 403),
        (eve, f"/m/{other}/topics/{tid}/vote", {}, 404), (eve, f"/m/{other}/topics/{tid}/delete", {"confirmed": "1"}, 404),
        (eve, f"/m/{other}/topics/{tid}/edit", {"title": "mine"}, 404),
        (eve, f"/m/{other}/merge", {"source": tid, "target": tid, "confirmed": "1"}, 404),
        (ann, f"/m/{code}/topics/{tid}/edit", {"title": "Ann's now"}, 403),
        (ann, f"/m/{code}/topics/{tid}/delete", {"confirmed": "1"}, 403),
        (ann, f"/m/{code}/status", {"status": "completed", "confirmed": "1"}, 403),
        (ann, f"/m/{code}/phase", {"phase": "voting"}, 403),
        (ann, f"/m/{code}/topics/{tid}/move", {"status": "discussed"}, 403), (ann, f"/m/{code}/timer", {"action": "start"}, 403),
        (ann, f"/m/{code}/discuss-next", {}, 403), (ann, f"/m/{code}/settings", {"timebox_pattern": "1s"}, 403),
    ]
    for who, path, data, status in attempts:
        assert who.act(path, data).status_code == status, path
    with pytest.raises(AssertionError, match="no matching frame"):
        receive_until(watcher, lambda f: True, timeout=1.5)
    page = fay.http.get(f"{server.base}/m/{code}").text
    assert "Fay&#39;s" in page and "Ann&#39;s now" not in page and "spam" not in page and 'data-phase="collecting"' in page
    watcher.close()


@pytest.mark.server
@pytest.mark.parametrize("payload", XSS)
def test_injected_markup_is_only_ever_text(server, payload):
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting(title=payload[:100], name=payload[:40])
    watcher = fay.socket(code)
    receive_until(watcher, lambda f: 'id="columns"' in f)
    ann.join(code, payload[:40])
    tid = int(re.search(r'<li id="topic-(\d+)" class="card"',
                        ann.act(f"/m/{code}/topics", {"title": payload[:120], "description": payload}, live=False).text)[1])
    ann.act(f"/m/{code}/topics/{tid}/notes", {"kind": "action", "text": payload, "owner": payload[:40]})
    pushed = receive_until(watcher, lambda f: f'beforeend:#notes-{tid}"' in f)
    outputs = {
        "page": fay.http.get(f"{server.base}/m/{code}").text,
        "pushed": pushed,
        "summary": fay.http.get(f"{server.base}/m/{code}/summary").text,
        "room": fay.http.get(f"{server.base}/m/{code}/room").text,
        "home": fay.http.get(f"{server.base}/").text,
    }
    for where, html in outputs.items():
        assert "<img src=x" not in html and "<script>alert" not in html and "<div hx-get=/x" not in html, where
        assert "hx-post='/m/x/leave" not in html and 'hx-trigger=load' not in html.replace("hx-trigger=load&gt;", ""), where
    markdown = fay.http.get(f"{server.base}/m/{code}/summary.md")
    assert markdown.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert md_text(payload[:40]) in markdown.text and "<" not in markdown.text  # escaped: it renders as the text typed
    assert fay.http.get(f"{server.base}/m/{code}/summary.csv").headers["Content-Type"].startswith("text/csv")
    watcher.close()


def test_content_security_policy_allows_only_our_own_scripts_and_styles(person):
    response = person().get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and response.headers["X-Content-Type-Options"] == "nosniff"


def test_cookies_are_httponly_and_lax_and_secure_over_https(app):
    client = app.test_client()
    page = client.get("/", base_url="https://board.example")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    response = client.post("/meetings", data={"title": "T", "name": "Fay", "votes_per_person": "3", "csrf_token": token},
                           base_url="https://board.example")
    cookies = response.headers.getlist("Set-Cookie")
    assert {c.split("=", 1)[0] for c in cookies} >= {"session", "remember_token"}
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie, cookie
    plain = app.test_client().get("/")
    assert all("Secure" not in c for c in plain.headers.getlist("Set-Cookie"))


@pytest.mark.parametrize("key", [None, "", "dev", "changeme", "short-but-not-placeholder"])
def test_production_refuses_a_default_or_weak_secret_key(key):
    with pytest.raises(InsecureConfiguration):
        check_production({"ENV_NAME": "production"}, key)
    check_production({"ENV_NAME": "production"}, "k" * 64)  # a real key is fine
    check_production({"ENV_NAME": "development"}, None)  # development generates its own


def test_production_app_does_not_start_without_a_real_key_and_writes_nothing(monkeypatch, tmp_path):
    import leancoffee.config as config

    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "instance")  # never the checkout's own instance/
    monkeypatch.setenv("LEANCOFFEE_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(InsecureConfiguration):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})
    assert not (tmp_path / "instance").exists() and not (tmp_path / "p.db").exists()


def test_a_fresh_install_generates_and_keeps_its_own_secret_key(monkeypatch, tmp_path):
    import leancoffee.config as config

    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "instance")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config.load_config()["SECRET_KEY"]
    second = config.load_config()["SECRET_KEY"]
    key_file = tmp_path / "instance" / "secret_key"
    assert first == second and len(first) >= 64 and key_file.read_text() == first
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only


def test_writes_are_rate_limited_per_user_with_retry_after(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}",
                      "RATE_LIMIT_WRITES": "5 per 10 seconds"})
    from tests.conftest import Person

    fay, ann = Person(app), Person(app)
    response = fay.post("/meetings", {"title": "T", "votes_per_person": "3", "name": "Fay"}, htmx=False)
    code = response.headers["Location"].rsplit("/", 1)[-1]
    statuses = [fay.post(f"/m/{code}/topics", {"title": f"t{i}"}).status_code for i in range(8)]
    assert statuses == [200] * 5 + [429] * 3
    limited = fay.post(f"/m/{code}/topics", {"title": "one more"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1 and "going a bit fast" in limited.text
    assert Topic.select().count() == 5
    ann_join = ann.post(f"/m/{code}/join", {"name": "Ann"}, htmx=False)  # another person is not affected
    assert ann_join.status_code == 303
