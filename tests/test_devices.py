"""Issue 19, your board on every device: a one-time link signs another browser in as the same person."""

import re
from datetime import timedelta
from html import unescape

import pytest

from leancoffee.models import DeviceLink, Topic, User, utcnow
from leancoffee.services import accounts
from leancoffee.services.errors import NotFound
from tests.backends import pg_url  # noqa: F401  (fixture)
from tests.helpers import HttpPerson, close_code, receive_until

LINK_RE = re.compile(r'id="device-url" class="share-url" value="([^"]+)"')


def make_link(who) -> str:
    page = who.post("/device", {}, htmx=False)
    assert page.status_code == 200 and "<svg" in page.text and "It works once, for 10 minutes." in page.text
    return LINK_RE.search(page.text)[1]


def test_a_second_device_is_the_same_person_with_the_same_votes_role_and_meetings(meeting, person):
    m, fay, ann, bob = meeting
    tid = Topic.create(meeting=m.id, author=User.get(User.name == "Bob"), title="Roadmap").id
    assert ann.post(f"/m/{m.code}/topics/{tid}/vote", htmx=False).status_code == 303
    link = make_link(ann)
    token = link.rsplit("/d/", 1)[1]
    assert DeviceLink.select().where(DeviceLink.token_hash.contains(token)).count() == 0  # only its hash is kept
    phone = person()
    asked = phone.get(f"/d/{token}")
    assert asked.status_code == 200 and "Sign in here" in asked.text and "Signed in on this browser" not in phone.get("/").text
    phone.token = re.search(r'name="csrf_token" value="([^"]+)"', asked.text)[1]
    signed = phone.post(f"/d/{token}", {}, htmx=False)
    assert signed.status_code == 303 and signed.headers["Location"] == "/"
    home = unescape(phone.get("/").text)
    assert "This device is now signed in as Ann" in home and "Team coffee" in home and "My meetings" in home
    board = phone.get(f"/m/{m.code}").text
    assert "Remove vote" in board and 'data-left="1"' in board  # her vote, and her dots left, on the phone too
    # Spent: the same link signs nobody else in, nor does a made-up one.
    again = person()
    again.get(f"/d/{token}")
    for attempt in (token, "x" * 43, "short"):
        refused = again.post(f"/d/{attempt}", {}, htmx=False)
        assert refused.status_code == 404 and "expired or was already used" in refused.text
    assert "Signed in on this browser" not in again.get("/").text


def test_a_facilitator_s_second_device_facilitates_and_signing_out_there_signs_out_everywhere(meeting, person):
    m, fay, ann, bob = meeting
    phone = person()
    token = make_link(fay).rsplit("/d/", 1)[1]
    phone.token = re.search(r'name="csrf_token" value="([^"]+)"', phone.get(f"/d/{token}").text)[1]
    phone.post(f"/d/{token}", {}, htmx=False)
    board = phone.get(f"/m/{m.code}").text
    assert "Open voting" in board  # the role came along
    phone.token = re.search(r'name="csrf_token" value="([^"]+)"', board)[1]
    opened = phone.post(f"/m/{m.code}/phase", {"phase": "voting", "expected": "collecting"}, htmx=False)
    assert opened.status_code == 303
    phone.token = re.search(r'name="csrf_token" value="([^"]+)"', phone.get("/").text)[1]
    out = phone.post("/logout", {}, htmx=False)
    assert out.status_code == 303 and "signed out on all your devices" in phone.get("/").text
    assert "Signed in on this browser" not in fay.get("/").text  # the laptop's cookie stopped working too
    assert "Join" in fay.get(f"/m/{m.code}").text


def test_a_link_expires_after_ten_minutes_and_with_sign_out(trio):
    m, fay, ann, bob = trio
    old = accounts.create_device_link(ann)
    DeviceLink.update(created_at=utcnow() - timedelta(minutes=11), expires_at=utcnow() - timedelta(seconds=1)).execute()
    with pytest.raises(NotFound, match="expired"):
        accounts.use_device_link(old)
    fresh = accounts.create_device_link(ann)
    accounts.sign_out_everywhere(ann)
    with pytest.raises(NotFound, match="expired"):
        accounts.use_device_link(fresh)
    newest = accounts.create_device_link(ann)
    assert accounts.use_device_link(newest).id == ann.id
    with pytest.raises(NotFound):
        accounts.use_device_link(newest)
    assert DeviceLink.select().where(DeviceLink.used_at.is_null(False)).count() == 1


def test_without_a_sign_in_there_is_no_link_to_make(person):
    stranger = person()
    assert "not signed in yet" in stranger.get("/device").text
    assert stranger.post("/device", {}, htmx=False).status_code == 403


@pytest.mark.server
def test_both_devices_screens_follow_the_same_person_and_sign_out_closes_both(server):
    fay, laptop = HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting("Two screens", "Fay")
    laptop.join(code, "Ann")
    page = laptop.http.post(f"{server.base}/device", data={"csrf_token": laptop.token})
    token = LINK_RE.search(page.text)[1].rsplit("/d/", 1)[1]
    phone = HttpPerson(server.base)
    phone.token = re.search(r'name="csrf_token" value="([^"]+)"', phone.get(f"/d/{token}").text)[1]
    assert phone.http.post(f"{server.base}/d/{token}", data={"csrf_token": phone.token}, allow_redirects=False).status_code == 303
    phone.signed_in(f"/m/{code}")
    added = fay.act(f"/m/{code}/topics", {"title": "Shared"}, live=False)
    tid = int(re.search(r'<li id="topic-(\d+)" class="card"', added.text)[1])
    laptop_ws, phone_ws = laptop.socket(code), phone.socket(code)
    for ws in (laptop_ws, phone_ws):
        receive_until(ws, lambda f: 'id="meeting-status"' in f)
    assert phone.act(f"/m/{code}/topics/{tid}/vote").status_code == 200
    assert "Remove vote" in receive_until(laptop_ws, lambda f: 'id="my-dots"' in f)  # the laptop shows the phone's vote
    assert phone.http.post(f"{server.base}/logout", data={"csrf_token": phone.token}, allow_redirects=False).status_code == 303
    assert close_code(laptop_ws) == 1008 and close_code(phone_ws) == 1008


@pytest.mark.server
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_one_link_used_by_two_browsers_at_once_signs_in_exactly_one(backend, tmp_path, request):
    from concurrent.futures import ThreadPoolExecutor

    from tests.helpers import AppServer

    if backend == "postgresql":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'race.db'}"
    server = AppServer(url).start(tmp_path / "server.log")
    try:
        fay = HttpPerson(server.base)
        fay.start_meeting()
        page = fay.http.post(f"{server.base}/device", data={"csrf_token": fay.token})
        token = LINK_RE.search(page.text)[1].rsplit("/d/", 1)[1]
        browsers = [HttpPerson(server.base) for _ in range(6)]
        for browser in browsers:
            browser.token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(f"/d/{token}").text)[1]

        def use(browser):
            return browser.http.post(f"{server.base}/d/{token}", data={"csrf_token": browser.token},
                                     allow_redirects=False).status_code

        with ThreadPoolExecutor(len(browsers)) as pool:
            answers = sorted(pool.map(use, browsers))
        assert answers == [303] + [404] * 5  # spent by the first, a clear "expired or already used" for the rest
        signed_in = [b for b in browsers if "Signed in on this browser" in b.get("/").text]
        assert len(signed_in) == 1
    finally:
        server.stop()
