"""Issue 22, the read API: every endpoint for every role, the pages' hiding rules, JSON errors, the OpenAPI contract."""

import json
import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from leancoffee.db import db
from leancoffee.factory import create_app
from leancoffee.live import live
from leancoffee.models import Participant, Topic
from tests.api_helpers import api_get, checked, facilitate, make_token
from tests.conftest import Person

DOCUMENT = Path(__file__).resolve().parent.parent / "leancoffee" / "web" / "api_openapi.json"


def topic_id(title):
    return Topic.get(Topic.title == title).id


def titles(board, column="to_discuss"):
    return [t["title"] for c in board["columns"] if c["column"] == column for t in c["topics"]]


def json_topics(body):
    """Every topic object anywhere in an API answer."""
    if isinstance(body, dict):
        found = [body] if {"title", "author", "yours"} <= body.keys() else []
        return found + [t for value in body.values() for t in json_topics(value)]
    if isinstance(body, list):
        return [t for value in body for t in json_topics(value)]
    return []


def topics_of(board):
    return {t["title"]: t for c in board["columns"] for t in c["topics"]}


@pytest.fixture
def tokens(meeting):
    """The meeting, and a token for each of Fay, Ann and Bob."""
    m, fay, ann, bob = meeting
    return m, {who: make_token(p, f"{who}'s script") for who, p in (("fay", fay), ("ann", ann), ("bob", bob))}


# --- the contract ---

def test_the_openapi_document_is_valid_and_served_as_it_is_in_the_repository(app):
    document = json.loads(DOCUMENT.read_text())
    validate(document)  # openapi-spec-validator: OpenAPI 3.1
    assert document["openapi"].startswith("3.1")
    response = api_get(app.test_client(), "/api/v1/openapi.json")  # no sign-in needed: it holds no data
    assert response.status_code == 200 and response.get_json() == document


# --- who may read what ---

def test_a_member_reads_the_board_with_a_token_and_with_the_browser_session(tokens, meeting):
    m, keys = tokens
    _, fay, ann, bob = meeting
    ann.post(f"/m/{m.code}/topics", {"title": "Hiring", "description": "two juniors"})
    by_token = api_get(Person(ann.client.application).client, f"/api/v1/meetings/{m.code}", keys["ann"]).get_json()
    response = api_get(ann.client, f"/api/v1/meetings/{m.code}")
    assert response.headers["Cache-Control"] == "no-store"  # a meeting's data, like its pages: never kept by a cache
    by_session = response.get_json()
    assert by_token == by_session
    assert (by_token["title"], by_token["status"], by_token["phase"]) == ("Team coffee", "planned", "collecting")
    hiring = topics_of(by_token)["Hiring"]
    assert (hiring["author"], hiring["description"], hiring["column"], hiring["votes"]) == ("Ann", "two juniors", "to_discuss", 0)


def test_only_the_facilitator_gets_the_room_link(tokens, app):
    m, keys = tokens
    client = app.test_client()
    fay = api_get(client, f"/api/v1/meetings/{m.code}", keys["fay"])
    assert fay.get_json()["facilitator"]["room_link"].endswith(f"/room/{m.room_secret}")
    assert fay.get_json()["facilitator"]["timebox_pattern"] == "8m 4m 2m"
    for who in ("ann", "bob"):
        for path in ("", "/participants", "/my-votes", "/summary"):
            response = api_get(client, f"/api/v1/meetings/{m.code}{path}", keys[who])
            assert response.status_code == 200 and m.room_secret not in response.text
            assert "facilitator" not in response.get_json()


def test_strangers_and_people_who_left_are_refused_every_meeting_endpoint(tokens, app, person):
    m, keys = tokens
    stranger = person()
    stranger.post("/meetings", {"title": "Other", "votes_per_person": "2", "name": "Sid"}, htmx=False)
    sid = make_token(stranger)
    Participant.update(is_active=False).where(Participant.name == "Bob").execute()  # Bob left
    client = app.test_client()
    for key in (sid, keys["bob"]):
        for path in ("", "/participants", "/my-votes", "/summary"):
            response = api_get(client, f"/api/v1/meetings/{m.code}{path}", key)
            assert response.status_code == 403 and "not in this meeting" in response.get_json()["error"]["message"]
            assert "Team coffee" not in response.text
    # The list still names the meeting Bob left, as his start page does, marked as left.
    listed = api_get(client, "/api/v1/meetings", keys["bob"]).get_json()["meetings"]
    assert [(x["title"], x["member"], x["role"]) for x in listed] == [("Team coffee", False, "participant")]


def test_an_unknown_meeting_is_a_json_404_whatever_the_code_looks_like(tokens, app):
    _, keys = tokens
    for code in ("nosuchcode12", "bad!code", "x" * 40):
        response = api_get(app.test_client(), f"/api/v1/meetings/{code}", keys["ann"])
        assert response.status_code == 404 and response.get_json()["error"]["status"] == 404


def test_the_meetings_list_is_the_callers_own_and_paginated(app, person):
    fay = person()
    for n in range(3):
        fay.post("/meetings", {"title": f"Coffee {n}", "votes_per_person": "2", "name": "Fay"}, htmx=False)
    other = person()
    other.post("/meetings", {"title": "Not Fay's", "votes_per_person": "2", "name": "Oz"}, htmx=False)
    key, client = make_token(fay), app.test_client()
    first = api_get(client, "/api/v1/meetings?per_page=2", key).get_json()
    assert [x["title"] for x in first["meetings"]] == ["Coffee 2", "Coffee 1"]
    assert (first["page"], first["per_page"], first["total"]) == (1, 2, 3)
    assert first["meetings"][0]["role"] == "facilitator" and first["meetings"][0]["links"]["board"].endswith("/m/" +
                                                                                                             first["meetings"][0]["code"])
    second = api_get(client, first["next"], key).get_json()
    assert [x["title"] for x in second["meetings"]] == ["Coffee 0"] and second["next"] is None
    for query in ("page=0", "page=abc", "per_page=101", "per_page=-1"):
        response = api_get(client, f"/api/v1/meetings?{query}", key)
        assert response.status_code == 422 and response.get_json()["error"]["message"]


# --- hidden voting: no count, and no order that tells one ---

@pytest.fixture
def hidden(tokens, meeting):
    """Hidden voting; First proposed before Second; Second has 2 dots, First none (by count: Second, First)."""
    m, keys = tokens
    _, fay, ann, bob = meeting
    assert fay.post(f"/m/{m.code}/settings", {"hidden_voting": "1", "timebox_pattern": "8m"}).status_code == 200
    for title in ("First", "Second"):
        assert ann.post(f"/m/{m.code}/topics", {"title": title}).status_code == 200
    assert facilitate(fay, m.code, "phase", {"phase": "voting"}).status_code == 200
    for who in (ann, bob):
        assert who.post(f"/m/{m.code}/topics/{topic_id('Second')}/vote").status_code == 200
    return m, keys, fay


def test_while_voting_is_hidden_no_field_carries_a_count_or_a_count_order(hidden, app):
    m, keys, fay = hidden
    client = app.test_client()
    for who in ("fay", "ann", "bob"):  # the facilitator included, as on the page
        board = api_get(client, f"/api/v1/meetings/{m.code}", keys[who]).get_json()
        assert board["votes_hidden"] is True and titles(board) == ["First", "Second"]
        assert [t["votes"] for t in topics_of(board).values()] == [None, None]
        summary = api_get(client, f"/api/v1/meetings/{m.code}/summary", keys[who]).get_json()
        assert [(t["title"], t["votes"]) for t in summary["not_discussed"]] == [("First", None), ("Second", None)]
        for path in ("", "/participants", "/summary", "/my-votes"):
            text = api_get(client, f"/api/v1/meetings/{m.code}{path}", keys[who]).text
            assert '"votes":2' not in text.replace(" ", "") and '"votes":0' not in text.replace(" ", "")
    # Each voter sees their own dots (as their page does), and nobody else's.
    mine = {who: api_get(client, f"/api/v1/meetings/{m.code}/my-votes", keys[who]).get_json() for who in keys}
    assert [t["title"] for t in mine["ann"]["topics"]] == ["Second"] and mine["ann"]["dots_left"] == 1
    assert mine["fay"]["topics"] == [] and mine["fay"]["dots_left"] == 2


def test_counts_and_their_order_appear_once_voting_closes(hidden, app):
    m, keys, fay = hidden
    assert facilitate(fay, m.code, "phase", {"phase": "discussing"}).status_code == 200
    client = app.test_client()
    board = api_get(client, f"/api/v1/meetings/{m.code}", keys["bob"]).get_json()
    assert board["votes_hidden"] is False and titles(board) == ["Second", "First"]
    assert [(t["title"], t["votes"]) for c in board["columns"] for t in c["topics"]] == [("Second", 2), ("First", 0)]
    summary = api_get(client, f"/api/v1/meetings/{m.code}/summary", keys["bob"]).get_json()
    assert [(t["title"], t["votes"]) for t in summary["not_discussed"]] == [("Second", 2), ("First", 0)]


# --- participants and the summary ---

def test_participants_with_roles_presence_and_who_is_asking(tokens, app, monkeypatch):
    m, keys = tokens
    bob = Participant.get(Participant.name == "Bob").user_id
    # Bob has the board open: presence is what the hub knows (the same call the board page makes).
    monkeypatch.setattr(live.hub.presence, "present_users", lambda meeting_id: {bob} if meeting_id == m.id else set())
    people = api_get(app.test_client(), f"/api/v1/meetings/{m.code}/participants", keys["ann"]).get_json()["participants"]
    assert [(p["name"], p["role"], p["present"], p["you"]) for p in people] == [
        ("Fay", "facilitator", False, False), ("Ann", "participant", False, True), ("Bob", "participant", True, False)]
    assert people[2]["user_id"] == bob


def test_a_completed_meetings_summary_has_takeaways_and_actions_and_is_readable_by_anyone_signed_in(tokens, meeting, app, person):
    m, keys = tokens
    _, fay, ann, bob = meeting
    ann.post(f"/m/{m.code}/topics", {"title": "Hiring"})
    ann.post(f"/m/{m.code}/topics", {"title": "Budget"})
    assert facilitate(fay, m.code, "phase", {"phase": "voting"}).status_code == 200
    ann.post(f"/m/{m.code}/topics/{topic_id('Hiring')}/vote")
    assert facilitate(fay, m.code, "discuss-next").status_code == 200
    hid = topic_id("Hiring")
    assert ann.post(f"/m/{m.code}/topics/{hid}/notes", {"kind": "takeaway", "text": "Hire two juniors"}).status_code == 200
    action = {"kind": "action", "text": "Post the ad", "owner": "Bob"}
    assert bob.post(f"/m/{m.code}/topics/{hid}/notes", action).status_code == 200
    assert facilitate(fay, m.code, "phase", {"phase": "done", "confirmed": "1"}).status_code == 200
    stranger = person()
    stranger.post("/meetings", {"title": "Other", "votes_per_person": "2", "name": "Sid"}, htmx=False)
    client = app.test_client()
    for key in (keys["ann"], make_token(stranger)):  # the summary page opens for anyone once it is completed
        summary = api_get(client, f"/api/v1/meetings/{m.code}/summary", key).get_json()
        assert summary["status"] == "completed" and summary["attendees"] == ["Fay", "Ann", "Bob"]
        (hiring,) = summary["discussed"]
        assert (hiring["title"], hiring["votes"], hiring["column"]) == ("Hiring", 1, "discussed")
        assert [n["text"] for n in hiring["takeaways"]] == ["Hire two juniors"]
        assert [(n["text"], n["owner"]) for n in hiring["actions"]] == [("Post the ad", "Bob")]
        assert [t["title"] for t in summary["not_discussed"]] == ["Budget"]
    sid = make_token(stranger, "again")
    assert api_get(client, f"/api/v1/meetings/{m.code}", sid).status_code == 403  # but not its board



def test_the_summary_s_actions_say_whether_they_are_done(tokens, meeting, app):
    m, keys = tokens
    _, fay, ann, bob = meeting
    ann.post(f"/m/{m.code}/topics", {"title": "Hiring"})
    hid = topic_id("Hiring")
    assert fay.post(f"/m/{m.code}/topics/{hid}/move", {"status": "discussing", "expected": "to_discuss"}).status_code == 200
    for text, owner in (("Post the ad", "Bob"), ("Ask legal", "Zoe")):
        assert bob.post(f"/m/{m.code}/topics/{hid}/notes", {"kind": "action", "text": text, "owner": owner}).status_code == 200
    client = app.test_client()

    def actions():
        summary = api_get(client, f"/api/v1/meetings/{m.code}/summary", keys["ann"]).get_json()
        (hiring,) = summary["discussed"]  # under discussion now: the summary lists it among the discussed
        return ([(n["text"], n["owner"], n["done"]) for n in hiring["actions"]],
                [(n["text"], n["topic"], n["done"], n["carried"]) for n in summary["actions"]])

    assert actions() == ([("Post the ad", "Bob", False), ("Ask legal", "Zoe", False)],
                         [("Post the ad", "Hiring", False, False), ("Ask legal", "Hiring", False, False)])
    ad = next(n["id"] for n in api_get(client, f"/api/v1/meetings/{m.code}/summary", keys["bob"]).get_json()["actions"]
              if n["text"] == "Post the ad")
    assert bob.post(f"/m/{m.code}/actions/{ad}/done").status_code == 200  # Bob owns it (his name, picked from the list)
    assert actions() == ([("Post the ad", "Bob", True), ("Ask legal", "Zoe", False)],
                         [("Post the ad", "Hiring", True, False), ("Ask legal", "Hiring", False, False)])
    assert bob.post(f"/m/{m.code}/actions/{ad}/reopen").status_code == 200
    assert actions()[0][0] == ("Post the ad", "Bob", False)


# --- errors are JSON under /api/, pages keep theirs ---

def test_no_credentials_a_bad_scheme_or_an_unknown_token_is_401_with_a_challenge(app):
    client = app.test_client()
    for headers in ({}, {"Authorization": "Basic Zm9vOmJhcg=="}, {"Authorization": "Bearer lct_" + "x" * 43},
                    {"Authorization": "Bearer"}, {"Authorization": "Bearer " + "y" * 5000}):
        response = checked(client.get("/api/v1/meetings", headers=headers))
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_browser_session_is_not_accepted_from_another_site(meeting):
    m, fay, ann, bob = meeting
    refused = api_get(ann.client, "/api/v1/meetings", **{"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 401 and "this site's own pages" in refused.get_json()["error"]["message"]
    assert api_get(ann.client, "/api/v1/meetings", **{"Sec-Fetch-Site": "same-origin"}).status_code == 200


def test_the_api_is_read_only_and_a_token_cannot_write_anywhere(tokens, app):
    m, keys = tokens
    client = app.test_client()
    auth = {"Authorization": f"Bearer {keys['ann']}"}
    response = checked(client.post("/api/v1/meetings", headers=auth))
    assert response.status_code == 405 and "read-only" in response.get_json()["error"]["message"]
    assert "GET" in response.headers["Allow"]
    before = Topic.select().count()
    page_write = client.post(f"/m/{m.code}/topics", data={"title": "By token"}, headers=auth)
    assert page_write.status_code == 400 and Topic.select().count() == before  # a token is no session: no CSRF token, no write


def test_unknown_api_paths_too_large_bodies_and_database_failures_answer_json(tokens, app):
    m, keys = tokens
    client = app.test_client()
    unknown = checked(client.get("/api/v1/nothing-here"))
    assert unknown.status_code == 404 and unknown.get_json()["error"]["status"] == 404
    too_large = checked(client.post("/api/v1/meetings", data={"x": "a" * 70_000}))
    assert too_large.status_code == 413 and "too much" in too_large.get_json()["error"]["message"]
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"  # pages keep their HTML errors
    db.execute_sql("DROP TABLE topic")
    broken = api_get(client, f"/api/v1/meetings/{m.code}", keys["ann"])
    assert broken.status_code == 503 and broken.headers["Retry-After"] == "5"
    assert "unavailable" in broken.get_json()["error"]["message"]


def test_api_reads_have_a_limit_of_their_own_per_token(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'limited.db'}",
                      "RATE_LIMIT_API_READS": "3 per minute"})
    fay, ann = Person(app), Person(app)
    code = fay.post("/meetings", {"title": "T", "votes_per_person": "2", "name": "Fay"}, htmx=False).headers["Location"][3:]
    ann.post(f"/m/{code}/join", {"name": "Ann"}, htmx=False)
    first, second, client = make_token(fay, "one"), make_token(fay, "two"), app.test_client()
    assert [api_get(client, f"/api/v1/meetings/{code}", first).status_code for _ in range(3)] == [200] * 3
    over = api_get(client, f"/api/v1/meetings/{code}", first)
    assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
    assert "Too many API requests" in over.get_json()["error"]["message"]
    assert api_get(client, f"/api/v1/meetings/{code}", second).status_code == 200  # each token has its own budget
    assert api_get(ann.client, f"/api/v1/meetings/{code}").status_code == 200  # and each person's session
    assert fay.get(f"/m/{code}").status_code == 200  # pages are not API reads


@pytest.mark.server
def test_a_token_works_through_the_real_server_and_neither_it_nor_the_code_reaches_the_log(tmp_path):
    import socket

    import requests

    from tests.helpers import AppServer, HttpPerson, page_token

    srv = AppServer(f"sqlite:///{tmp_path / 'api.db'}").start(tmp_path / "server.log")
    try:
        fay = HttpPerson(srv.base)
        code = fay.start_meeting(title="Served")
        made = fay.http.post(srv.base + "/settings/tokens", data={"name": "cron", "csrf_token": page_token(
            fay.get("/settings/tokens").text)})
        secret = re.search(r'id="token-secret"[^>]*>([^<]+)<', made.text).group(1)
        board = requests.get(f"{srv.base}/api/v1/meetings/{code}", headers={"Authorization": f"Bearer {secret}"}, timeout=10)
        assert board.status_code == 200 and board.json()["title"] == "Served"
        assert requests.get(f"{srv.base}/api/v1/meetings/{code}", timeout=10).status_code == 401  # no token, no cookie
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:  # the server's own error line
            sock.sendall(f"GET /api/v1/meetings/{code} HTTP/1.1 extra\r\n\r\n".encode())
            assert sock.recv(4096).startswith(b"HTTP/1.1 400")
    finally:
        srv.stop()
    log = (tmp_path / "server.log").read_text()
    assert code not in log and secret not in log and secret[4:] not in log
    assert 'route="/api/v1/meetings/<meeting_code:code>"' in log and "/api/v1/meetings/<code> HTTP/1.1 extra" in log


def test_anonymous_and_unrevealed_topics_tell_the_api_no_more_than_the_page(tokens, meeting, app):
    m, keys = tokens
    _, fay, ann, bob = meeting
    client = app.test_client()
    settings = {"hidden_voting": "0", "timebox_pattern": "8m 4m 2m", "show_authors": ["0"], "private_writing": ["0"]}
    assert fay.post(f"/m/{m.code}/settings", settings, htmx=False).status_code == 303
    ann.post(f"/m/{m.code}/topics", {"title": "Pay transparency"})
    settings.update(show_authors=["0", "1"], private_writing=["0", "1"])
    assert fay.post(f"/m/{m.code}/settings", settings, htmx=False).status_code == 303
    ann.post(f"/m/{m.code}/topics", {"title": "Not yet revealed"})
    seen = {who: checked(api_get(client, f"/api/v1/meetings/{m.code}", keys[who])).get_json() for who in ("fay", "ann", "bob")}
    for who in ("fay", "bob"):
        secret = topics_of(seen[who])["Pay transparency"]
        assert (secret["author"], secret["anonymous"], secret["yours"]) == (None, True, False)
        assert "Not yet revealed" not in json.dumps(seen[who]) and "Ann" not in json.dumps(seen[who])
    mine = topics_of(seen["ann"])
    assert (mine["Pay transparency"]["author"], mine["Pay transparency"]["yours"]) == (None, True)
    assert mine["Not yet revealed"]["yours"] is True  # the author sees her own, as on her page
    for path in ("/summary", "/my-votes", "/participants"):
        assert "Not yet revealed" not in checked(api_get(client, f"/api/v1/meetings/{m.code}{path}", keys["bob"])).text
    summary = checked(api_get(client, f"/api/v1/meetings/{m.code}/summary", keys["bob"])).get_json()
    secret = [t for t in json_topics(summary) if t["title"] == "Pay transparency"]
    assert [(t["author"], t["yours"]) for t in secret] == [(None, False)]


def test_roles_and_names_in_the_api_are_the_pages_own(tokens, meeting, app, person):
    m, keys = tokens
    _, fay, ann, bob = meeting
    ann_id = Participant.get((Participant.meeting == m.id) & (Participant.name == "Ann")).user_id
    assert fay.post(f"/m/{m.code}/role", {"person": str(ann_id), "role": "facilitator"}, htmx=False).status_code == 303
    second_ann = person()
    assert second_ann.post(f"/m/{m.code}/join", {"name": "Ann"}, htmx=False).status_code == 303
    client = app.test_client()
    listed = checked(api_get(client, "/api/v1/meetings", keys["ann"])).get_json()
    assert [(i["code"], i["role"]) for i in listed["meetings"]] == [(m.code, "facilitator")]  # a co-facilitator
    people = checked(api_get(client, f"/api/v1/meetings/{m.code}/participants", keys["bob"])).get_json()["participants"]
    assert [(p["name"], p["role"]) for p in people] == [
        ("Fay", "facilitator"), ("Ann", "facilitator"), ("Bob", "participant"), ("Ann (2)", "participant")]
    assert "facilitator" in checked(api_get(client, f"/api/v1/meetings/{m.code}", keys["ann"])).get_json()
