"""The read API of meeting series: /api/v1/series/{code} for every role, as its page /s/{code}/meetings; the series
named by the meetings, boards and summaries that may name it; the summary's actions with their done state."""

import json

import pytest

from leancoffee.models import ApiToken, Meeting, Participant, Topic
from tests.api_helpers import api_get, facilitate, make_token
from tests.test_api import json_topics


def topic_id(title, meeting):
    return Topic.get((Topic.title == title) & (Topic.meeting == meeting.id)).id


def finish(fay, m):
    """Fay finishes the meeting one phase at a time, up to Done."""
    phases = ["collecting", "voting", "discussing", "done"]
    for phase in phases[phases.index(Meeting.get_by_id(m.id).phase) + 1:]:
        assert facilitate(fay, m.code, "phase", {"phase": phase, "confirmed": "1"}).status_code == 200
    assert Meeting.get_by_id(m.id).status == "completed"


@pytest.fixture
def ran_again(meeting, person):
    """Under hidden voting and anonymous topics: Ann's "Pay transparency" waits, Bob's "Rota" is discussed with an action
    for Bob (open) and one for a typed Zoe (done); Fay runs it again, Ann joins the next meeting and votes there, Bob
    does not. Sid is in neither. Each has a token."""
    m, fay, ann, bob = meeting
    settings = {"hidden_voting": "1", "timebox_pattern": "8m 4m 2m", "show_authors": ["0"], "private_writing": ["0"]}
    assert fay.post(f"/m/{m.code}/settings", settings, htmx=False).status_code == 303
    ann.post(f"/m/{m.code}/topics", {"title": "Pay transparency"})
    bob.post(f"/m/{m.code}/topics", {"title": "Rota"})
    assert facilitate(fay, m.code, "phase", {"phase": "voting"}).status_code == 200
    for who in (ann, bob):
        assert who.post(f"/m/{m.code}/topics/{topic_id('Rota', m)}/vote").status_code == 200
    rota = topic_id("Rota", m)
    assert fay.post(f"/m/{m.code}/topics/{rota}/move", {"status": "discussing", "expected": "to_discuss"}).status_code == 200
    bob_row = Participant.get((Participant.meeting == m.id) & (Participant.name == "Bob"))
    for action in ({"text": "Draft the rota", "owner_participant": bob_row.id}, {"text": "Book a room", "owner": "Zoe"}):
        assert fay.post(f"/m/{m.code}/topics/{rota}/notes", {"kind": "action", **action}).status_code == 200
    booked = json.loads(api_get(fay.client, f"/api/v1/meetings/{m.code}/summary").text)["discussed"][0]["actions"][1]
    assert fay.post(f"/m/{m.code}/actions/{booked['id']}/done").status_code == 200
    finish(fay, m)
    assert fay.post(f"/m/{m.code}/run-again").status_code == 200
    nxt = Meeting.select().order_by(Meeting.id.desc()).get()
    assert ann.post(f"/m/{nxt.code}/join", {"name": "Ann"}, htmx=False).status_code == 303
    assert facilitate(fay, nxt.code, "phase", {"phase": "voting"}).status_code == 200
    assert ann.post(f"/m/{nxt.code}/topics/{topic_id('Pay transparency', nxt)}/vote").status_code == 200
    sid = person()
    sid.post("/meetings", {"title": "Sid's own", "votes_per_person": "2", "name": "Sid"}, htmx=False)
    keys = {name: make_token(who, f"{name}'s script") for name, who in
            (("fay", fay), ("ann", ann), ("bob", bob), ("sid", sid))}
    people = {"fay": fay, "ann": ann, "bob": bob, "sid": sid}
    return Meeting.get_by_id(m.id), nxt, Meeting.get_by_id(m.id).series.code, keys, people


def test_everyone_in_one_of_its_meetings_reads_the_series_as_its_page_shows_it(ran_again, app):
    m, nxt, code, keys, people = ran_again
    client = app.test_client()
    bodies = {}
    for who in ("fay", "ann", "bob"):  # the facilitator, a member of both meetings, a member of the first only
        response = api_get(client, f"/api/v1/series/{code}", keys[who])
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        assert people[who].get(f"/s/{code}/meetings").status_code == 200  # as its page
        bodies[who] = response.get_json()
    assert bodies["fay"] == bodies["ann"] == bodies["bob"]  # the page is the same for every role
    body = bodies["ann"]
    assert (body["code"], body["title"], body["current_meeting"]) == (code, "Team coffee", nxt.code)
    assert body["links"]["current"].endswith(f"/s/{code}") and body["links"]["page"].endswith(f"/s/{code}/meetings")
    assert body["links"]["api"].endswith(f"/api/v1/series/{code}")
    assert [(x["code"], x["status"], x["current"]) for x in body["meetings"]] == [
        (nxt.code, "in_progress", True), (m.code, "completed", False)]  # newest first
    first = body["meetings"][1]
    assert first["links"]["summary"].endswith(f"/m/{m.code}/summary") and first["ended_at"].endswith("Z")
    # Open actions only (the done one stays behind), with owner, topic and the meeting they were noted in.
    [action] = body["open_actions"]
    assert (action["text"], action["owner"], action["done"], action["topic"], action["meeting"]) == (
        "Draft the rota", "Bob", False, "Rota", m.code)
    page = people["ann"].get(f"/s/{code}/meetings").text
    assert "Open actions (1)" in page and "Draft the rota" in page and "Book a room" not in json.dumps(body)


def test_the_series_tells_nothing_the_page_hides(ran_again, app):
    m, nxt, code, keys, people = ran_again
    client = app.test_client()
    for who in ("fay", "ann", "bob"):
        text = api_get(client, f"/api/v1/series/{code}", keys[who]).text
        # No topic, no author (Ann wrote the anonymous topic carried along), no count while voting is hidden.
        assert "Ann" not in text and "Pay transparency" not in text and '"votes"' not in text and '"author"' not in text
    # The carried topic keeps its anonymity and hidden voting hides its count, on the next meeting's board and summary.
    for path in (f"/api/v1/meetings/{nxt.code}", f"/api/v1/meetings/{nxt.code}/summary"):
        for who in ("fay", "ann"):
            body = api_get(client, path, keys[who]).get_json()
            [carried] = [t for t in json_topics(body) if t["title"] == "Pay transparency"]
            assert (carried["author"], carried["anonymous"], carried["votes"], carried["yours"]) == (
                None, True, None, who == "ann")
            assert body["votes_hidden"] is True and '"votes":1' not in json.dumps(body).replace(" ", "")


def test_a_series_is_not_found_for_strangers_unknown_codes_and_bad_tokens(ran_again, app):
    m, nxt, code, keys, people = ran_again
    client = app.test_client()
    unknown = api_get(client, "/api/v1/series/nosuchseries1", keys["sid"])
    stranger = api_get(client, f"/api/v1/series/{code}", keys["sid"])
    by_session = api_get(people["sid"].client, f"/api/v1/series/{code}")
    assert unknown.status_code == stranger.status_code == by_session.status_code == 404
    # A stranger learns nothing, not even that the series exists: the same words as no series at all.
    assert stranger.get_json() == unknown.get_json() == by_session.get_json()
    assert "Team coffee" not in stranger.text and people["sid"].get(f"/s/{code}/meetings").status_code == 404
    for bad in ("x" * 40, "bad!code"):
        assert api_get(client, f"/api/v1/series/{bad}", keys["ann"]).status_code == 404
    # A token is its owner, whoever's browser sends it: Ann's token in Sid's browser reads as Ann, Sid's in Ann's as Sid.
    assert api_get(people["sid"].client, f"/api/v1/series/{code}", keys["ann"]).status_code == 200
    assert api_get(people["ann"].client, f"/api/v1/series/{code}", keys["sid"]).status_code == 404
    ann_token = ApiToken.select().where(ApiToken.name == "ann's script").get()
    assert people["ann"].post(f"/settings/tokens/{ann_token.id}/revoke", htmx=False).status_code in (200, 303)
    revoked = api_get(client, f"/api/v1/series/{code}", keys["ann"])
    assert revoked.status_code == 401 and "revoked" in revoked.get_json()["error"]["message"]
    assert api_get(client, f"/api/v1/series/{code}").status_code == 401  # no token, no session


def test_someone_who_left_a_meeting_of_the_series_still_reads_it_as_the_page_lets_them(ran_again, app):
    m, nxt, code, keys, people = ran_again
    Participant.update(is_active=False).where((Participant.meeting == m.id) & (Participant.name == "Bob")).execute()
    assert people["bob"].get(f"/s/{code}/meetings").status_code == 200
    assert api_get(app.test_client(), f"/api/v1/series/{code}", keys["bob"]).status_code == 200


def test_meetings_boards_and_summaries_name_their_series_where_the_page_does(ran_again, app):
    m, nxt, code, keys, people = ran_again
    client = app.test_client()
    listed = {x["code"]: x["series"] for x in api_get(client, "/api/v1/meetings", keys["fay"]).get_json()["meetings"]}
    assert listed[m.code]["code"] == listed[nxt.code]["code"] == code
    followed = api_get(client, listed[m.code]["links"]["api"].split("localhost", 1)[-1], keys["fay"])
    assert followed.status_code == 200 and followed.get_json()["code"] == code
    assert [x["series"] for x in api_get(client, "/api/v1/meetings", keys["sid"]).get_json()["meetings"]] == [None]
    assert api_get(client, f"/api/v1/meetings/{nxt.code}", keys["ann"]).get_json()["series"]["code"] == code
    assert api_get(client, f"/api/v1/meetings/{m.code}/summary", keys["bob"]).get_json()["series"]["code"] == code
    # Anyone may read a finished meeting's summary, but its page links the series for its members only.
    public = api_get(client, f"/api/v1/meetings/{m.code}/summary", keys["sid"])
    assert public.status_code == 200 and public.get_json()["series"] is None and code not in public.text
    assert code not in people["sid"].get(f"/m/{m.code}/summary").text


def test_the_summary_lists_own_and_carried_actions_with_their_done_state(ran_again, app):
    m, nxt, code, keys, people = ran_again
    client = app.test_client()
    first = api_get(client, f"/api/v1/meetings/{m.code}/summary", keys["sid"]).get_json()
    [rota] = first["discussed"]
    assert [(n["text"], n["owner"], n["done"]) for n in rota["actions"]] == [("Draft the rota", "Bob", False),
                                                                            ("Book a room", "Zoe", True)]
    assert [(n["text"], n["topic"], n["done"], n["carried"]) for n in first["actions"]] == [
        ("Draft the rota", "Rota", False, False), ("Book a room", "Rota", True, False)]
    # The next meeting lists the open one, from an earlier meeting; marking it done there shows everywhere.
    [carried] = api_get(client, f"/api/v1/meetings/{nxt.code}/summary", keys["ann"]).get_json()["actions"]
    assert (carried["text"], carried["topic"], carried["done"], carried["carried"]) == ("Draft the rota", "Rota", False, True)
    assert people["fay"].post(f"/m/{nxt.code}/actions/{carried['id']}/done").status_code == 200
    [carried] = api_get(client, f"/api/v1/meetings/{nxt.code}/summary", keys["ann"]).get_json()["actions"]
    assert carried["done"] is True
    again = api_get(client, f"/api/v1/meetings/{m.code}/summary", keys["bob"]).get_json()
    assert [n["done"] for n in again["discussed"][0]["actions"]] == [True, True]
    assert api_get(client, f"/api/v1/series/{code}", keys["bob"]).get_json()["open_actions"] == []
    summary_page = people["ann"].get(f"/m/{nxt.code}/summary").text
    assert "(earlier meeting)" in summary_page and "✓ yes" in summary_page  # what the page shows, the API says
