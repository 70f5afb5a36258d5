"""Issue 12 over real servers: hidden votes reach nobody else, sign-out ends every session, leavers' tabs close."""

import re

import pytest
import requests
import websocket

from tests.helpers import AppServer, HttpPerson, close_code, page_token, receive_until

pytestmark = pytest.mark.server

VERSION_RE = re.compile(r'data-version="(\d+)"')


def nothing_arrives(ws, seconds: float = 1.0) -> list[str]:
    """Every frame (text or binary, empty ones included) a socket receives within `seconds`."""
    got = []
    ws.settimeout(seconds)
    try:
        while True:
            got.append(ws.recv())
    except websocket.WebSocketTimeoutException:
        return got


def hidden_meeting(base: str):
    """Fay's meeting with hidden voting, joined by Ann and Bob; one topic by Fay."""
    fay, ann, bob = HttpPerson(base), HttpPerson(base), HttpPerson(base)
    response = fay.http.post(f"{base}/meetings", allow_redirects=False, data={
        "title": "Secret ballot", "name": "Fay", "votes_per_person": 3, "hidden_voting": "1", "csrf_token": fay.token})
    fay.signed_in(response.headers["Location"])
    code = response.headers["Location"].rsplit("/", 1)[-1]
    ann.join(code, "Ann")
    bob.join(code, "Bob")
    added = fay.act(f"/m/{code}/topics", {"title": "Pay rises"}, live=False)
    tid = int(re.search(r'<li id="topic-(\d+)" class="card"', added.text)[1])
    return code, tid, fay, ann, bob


def board_version(person: HttpPerson, code: str) -> int:
    return int(VERSION_RE.search(person.http.get(f"{person.base}/m/{code}").text)[1])


def test_a_hidden_vote_reaches_only_the_voters_own_tabs_and_leaves_the_version_alone(server):
    code, tid, fay, ann, bob = hidden_meeting(server.base)
    ann_other_tab, bob_ws, fay_ws = ann.socket(code), bob.socket(code), fay.socket(code)
    room_ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/m/{code}/ws?screen=room",
                                          cookie=fay.cookie_header(), origin=server.base, timeout=10)
    for ws in (ann_other_tab, bob_ws, fay_ws, room_ws):
        receive_until(ws, lambda f: 'id="meeting-status"' in f or 'id="room-board"' in f)
    nothing_arrives(bob_ws, 0.5)  # presence of the others settles first
    for ws in (fay_ws, room_ws, ann_other_tab):
        nothing_arrives(ws, 0.1)
    before = board_version(bob, code)

    assert ann.act(f"/m/{code}/topics/{tid}/vote").status_code == 200
    own = receive_until(ann_other_tab, lambda f: 'id="my-dots"' in f)
    assert 'data-left="2"' in own and "Remove vote" in own
    assert f'id="votes-{tid}"' not in own and "column-count" not in own
    assert ann.act(f"/m/{code}/topics/{tid}/unvote").status_code == 200
    assert 'data-left="3"' in receive_until(ann_other_tab, lambda f: 'id="my-dots"' in f)
    assert ann.act(f"/m/{code}/topics/{tid}/vote").status_code == 200
    assert bob.act(f"/m/{code}/topics/{tid}/vote").status_code == 200

    for ws in (bob_ws, fay_ws, room_ws):
        assert [f for f in nothing_arrives(ws) if 'id="my-dots"' not in f] == []  # not even an empty frame
    assert board_version(bob, code) == before
    summary = bob.http.get(f"{server.base}/m/{code}/summary").text
    assert "2 votes" not in summary

    # Revealing the counts (hidden voting off) reaches everyone with the true count.
    fay.act(f"/m/{code}/settings", {"hidden_voting": "0", "timebox_pattern": "8m 4m 2m"})
    revealed = receive_until(bob_ws, lambda f: f'id="votes-{tid}"' in f)
    assert "<strong>2</strong>" in revealed
    for ws in (ann_other_tab, bob_ws, fay_ws, room_ws):
        ws.close()


def test_a_hidden_vote_over_plain_http_answers_only_the_voter(server):
    code, tid, fay, ann, bob = hidden_meeting(server.base)
    answer = ann.act(f"/m/{code}/topics/{tid}/vote", live=False)  # no live socket: fragments come in the answer
    assert 'data-left="2"' in answer.text and f'id="votes-{tid}"' not in answer.text
    votes = re.search(rf'id="votes-{tid}"[^>]*>[^<]*', bob.http.get(f"{server.base}/m/{code}").text, re.S)[0]
    assert votes.endswith(">votes hidden")


def replay(base: str, cookies) -> requests.Session:
    """Another browser holding copies of captured cookies."""
    thief = requests.Session()
    for cookie in cookies:
        thief.cookies.set(cookie.name, cookie.value)
    return thief


def test_signing_out_makes_every_earlier_cookie_worthless_on_every_process(tmp_path):
    database = f"sqlite:///{tmp_path / 'two.db'}"
    key = {"SECRET_KEY": "k" * 40}
    first = AppServer(database, **key).start(tmp_path / "first.log")
    second = AppServer(database, **key).start(tmp_path / "second.log")
    try:
        fay, ann = HttpPerson(first.base), HttpPerson(first.base)
        code = fay.start_meeting()
        ann.join(code, "Ann")
        captured = list(ann.http.cookies)
        assert {c.name for c in captured} >= {"session", "remember_token"}
        remember_only = [c for c in captured if c.name == "remember_token"]
        assert "Add topic" in replay(first.base, captured).get(f"{first.base}/m/{code}").text  # the capture works...

        signed_out = ann.http.post(f"{first.base}/logout", data={"csrf_token": ann.token}, allow_redirects=False)
        assert signed_out.status_code == 303
        assert re.search(r"remember_token=;[^,]*Expires=Thu, 01 Jan 1970", signed_out.headers["Set-Cookie"])
        assert "remember_token" not in {c.name for c in ann.http.cookies}  # this browser forgets it too
        assert "signed out on all your devices" in ann.http.get(f"{first.base}/").text

        for server in (first, second):  # ...and after sign-out no copy works, on either process
            for cookies in (captured, remember_only):
                thief = replay(server.base, cookies)
                page = thief.get(f"{server.base}/m/{code}").text
                assert "Add topic" not in page and 'id="join-form"' in page
                token = page_token(page)
                posted = thief.post(f"{server.base}/m/{code}/topics", data={"title": "Replayed", "csrf_token": token},
                                    headers={"HX-Request": "true", "X-CSRFToken": token})
                assert posted.status_code == 403
                with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                    websocket.create_connection(f"ws://127.0.0.1:{server.port}/m/{code}/ws", origin=server.base,
                                                cookie="; ".join(f"{c.name}={c.value}" for c in cookies), timeout=5)
                assert refused.value.status_code == 401
        assert "Replayed" not in fay.http.get(f"{first.base}/m/{code}").text
    finally:
        first.stop()
        second.stop()


def test_the_csrf_token_changes_at_sign_in_and_sign_out(server):
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting()
    planted = ann.token  # a token the page had before Ann signed in (an attacker could have planted it)
    ann.join(code, "Ann")
    after_join = page_token(ann.http.get(f"{server.base}/m/{code}").text)
    assert after_join != planted
    stale = ann.http.post(f"{server.base}/m/{code}/topics", data={"title": "With the old token"},
                          headers={"HX-Request": "true", "X-CSRFToken": planted})
    assert stale.status_code == 400 and "Reload the page" in stale.text
    assert "With the old token" not in fay.http.get(f"{server.base}/m/{code}").text
    ann.http.post(f"{server.base}/logout", data={"csrf_token": after_join})
    assert page_token(ann.http.get(f"{server.base}/").text) not in (after_join, planted)


def test_a_refused_cross_site_post_leaves_the_victims_session_alone(server):
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting()
    ann.join(code, "Ann")
    ann.token = page_token(ann.http.get(f"{server.base}/m/{code}").text)
    remember = {c.name: c.value for c in ann.http.cookies}["remember_token"]
    attacks = [
        requests.post(f"{server.base}/m/{code}/topics", data={"title": "CSRF"}, allow_redirects=False),  # no cookie (SameSite)
        requests.post(f"{server.base}/m/{code}/topics", data={"title": "CSRF"}, allow_redirects=False,
                      cookies={"remember_token": remember}),  # a browser that sends only the long-lived cookie
        ann.http.post(f"{server.base}/m/{code}/topics", data={"title": "CSRF", "csrf_token": "forged"},
                      allow_redirects=False),  # the victim's own cookies with a wrong token
        ann.http.post(f"{server.base}/m/{code}/topics", data={"title": "x" * 300, "csrf_token": ann.token},
                      allow_redirects=False),  # an honest refusal (too long) writes nothing either
    ]
    for response in attacks:
        assert response.status_code in (400, 422) and "Set-Cookie" not in response.headers, response.headers
    assert 'href="/m/' in attacks[-1].text and "at most 120 characters" in attacks[-1].text  # a way back, and why
    assert ann.act(f"/m/{code}/topics", {"title": "Still works"}).status_code == 200  # her open board goes on


def test_leaving_closes_the_leavers_other_tabs_and_only_theirs(server):
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting()
    ann.join(code, "Ann")
    tabs, fay_ws = [ann.socket(code), ann.socket(code)], fay.socket(code)
    for ws in (*tabs, fay_ws):
        receive_until(ws, lambda f: 'id="columns"' in f)
    left = ann.http.post(f"{server.base}/m/{code}/leave", data={"csrf_token": ann.token, "confirmed": "1"},
                         allow_redirects=False)
    assert left.status_code == 303
    assert [close_code(ws) for ws in tabs] == [1008, 1008]
    fay.act(f"/m/{code}/topics", {"title": "After Ann left"})
    assert "After Ann left" in receive_until(fay_ws, lambda f: "After Ann left" in f)
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        ann.socket(code)
    assert refused.value.status_code == 403
    page = ann.http.get(f"{server.base}/m/{code}").text
    assert "Rejoin" in page and "After Ann left" not in page
    fay_ws.close()
