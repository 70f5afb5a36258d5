"""The room screen's own link: opened without joining, authorised by its secret alone, renewed by the facilitator."""

import re
import subprocess
import sys
from html import unescape

import pytest
import requests
import segno
import websocket

from leancoffee.models import Meeting, Participant
from tests.helpers import ROOT, AppServer, HttpPerson, close_code, receive_until
from tests.test_sessions_and_hidden_live import hidden_meeting, nothing_arrives

pytestmark = pytest.mark.server

ROOM_LINK_RE = re.compile(r'<textarea id="room-link"[^>]*>([^<]+)</textarea>')


def room_link(fay: HttpPerson, code: str) -> str:
    """The room screen link as the facilitator's board shows it."""
    match = ROOM_LINK_RE.search(fay.get(f"/m/{code}?board=1").text)
    assert match, "the facilitator's board shows no room link"
    return unescape(match.group(1))


def projector_socket(link: str, origin: str):
    """The room link's socket as a projector's browser opens it: no cookie at all."""
    return websocket.create_connection(link.replace("http://", "ws://", 1) + "/ws", origin=origin, timeout=10)


def people_count(person: HttpPerson, code: str) -> int:
    page = person.get(f"/m/{code}").text
    return int(re.search(r'id="participants-count" class="people-count"><span class="count">(\d+)<', page)[1])


def test_a_projector_opens_the_room_link_without_joining_and_is_nobody(server):
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting(title="Projected coffee")
    ann.join(code, "Ann")
    ann.act(f"/m/{code}/topics", {"title": "Seen from the back"})
    link = room_link(fay, code)
    assert link.startswith(f"{server.base}/room/") and len(link.rsplit("/", 1)[1]) >= 32
    assert 'id="room-link"' not in ann.get(f"/m/{code}").text  # only the facilitator has it

    projector = requests.Session()
    page = projector.get(link)
    assert page.status_code == 200 and "Seen from the back" in page.text and "Projected coffee" in page.text
    assert "Set-Cookie" not in page.headers and not projector.cookies  # no cookie of a person
    assert f'hx-ws:connect="/room/{link.rsplit("/", 1)[1]}/ws"' in page.text
    assert "<form" not in page.text.split("<main", 1)[1] and "csrf" not in page.text.lower().split("<main", 1)[1]

    ws = projector_socket(link, server.base)
    first = ws.recv()
    assert 'id="room-board"' in first and "Seen from the back" in first and 'id="columns"' not in first
    assert "<strong>0</strong> people here" in first  # nobody has the board open yet, and the projector is nobody
    boards = [fay.socket(code), ann.socket(code)]
    receive_until(ws, lambda f: "<strong>2</strong> people here" in f)
    ann.act(f"/m/{code}/topics", {"title": "Arrives live"})
    receive_until(ws, lambda f: "Arrives live" in f)
    ws.send("anything")  # read-only: what it sends changes nothing
    assert people_count(fay, code) == 2
    summary = fay.get(f"/m/{code}/summary.csv").text + fay.get(f"/m/{code}/summary.md").text + fay.get(f"/m/{code}/summary").text
    assert "Projector" not in summary and summary.count("Ann") >= 3
    for socket in (ws, *boards):
        socket.close()


def test_wrong_or_malformed_room_links_are_a_404_page_and_a_refused_handshake(server):
    fay = HttpPerson(server.base)
    code = fay.start_meeting()
    link = room_link(fay, code)
    for path in ("/room/" + "A" * 43, "/room/short", "/room/" + "x" * 65, "/room/%00", "/room/a.b", f"/room/{code}"):
        response = requests.get(server.base + path)
        assert response.status_code == 404, path
    wrong = requests.get(server.base + "/room/" + "A" * 43)
    assert "Set-Cookie" not in wrong.headers
    assert "This room link does not open a meeting" in wrong.text and "Ask the facilitator for the new one" in wrong.text
    for bad_link, origin, status in ((server.base + "/room/" + "A" * 43, server.base, 404),
                                     (link, "http://evil.example", 403)):
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            projector_socket(bad_link, origin)
        assert refused.value.status_code == status


def test_renewing_closes_the_old_screens_at_once_and_only_the_facilitator_may(server):
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting()
    ann.join(code, "Ann")
    old = room_link(fay, code)
    old_screen = projector_socket(old, server.base)
    receive_until(old_screen, lambda f: 'id="room-board"' in f)
    member_room = websocket.create_connection(f"ws://127.0.0.1:{server.port}/m/{code}/ws?screen=room",
                                              cookie=fay.cookie_header(), origin=server.base, timeout=10)
    receive_until(member_room, lambda f: 'id="room-board"' in f)

    assert ann.act(f"/m/{code}/room-link").status_code == 403  # a participant may not
    assert requests.post(f"{server.base}/m/{code}/room-link").status_code in (400, 403)  # no CSRF token, nobody
    assert room_link(fay, code) == old

    renewed = fay.act(f"/m/{code}/room-link")
    assert renewed.status_code == 200
    new = room_link(fay, code)
    assert new != old and new in unescape(renewed.text)  # the page that renewed shows the new link at once
    assert close_code(old_screen) == 1008
    assert requests.get(old).status_code == 404
    with pytest.raises(websocket.WebSocketBadStatusException):
        projector_socket(old, server.base)
    assert requests.get(new).status_code == 200
    new_screen = projector_socket(new, server.base)
    receive_until(new_screen, lambda f: 'id="room-board"' in f)
    ann.act(f"/m/{code}/topics", {"title": "After renewing"})
    for ws in (new_screen, member_room):  # the member's own room screen was not closed
        receive_until(ws, lambda f: "After renewing" in f)
    new_screen.close()
    member_room.close()
    log = server.log_path.read_text()
    assert "/room/<room_secret:secret>" in log  # requests are logged by route: the secret is in no line
    assert old.rsplit("/", 1)[1] not in log and new.rsplit("/", 1)[1] not in log


def test_a_room_socket_attached_after_its_link_was_renewed_is_closed(app, meeting):
    from types import SimpleNamespace

    from leancoffee.services.viewing import Viewer
    from leancoffee.web.socket import close_if_renewed_meanwhile

    m, *_ = meeting
    closed = []
    for secret in (Meeting.get_by_id(m.id).room_secret, "renewed-meanwhile-" + "x" * 20):
        conn = SimpleNamespace(meeting_id=m.id, viewer=Viewer(None, screen="room", room_secret=secret), close=closed.append)
        close_if_renewed_meanwhile(conn)
    assert closed == [1008]  # only the one opened with a secret that is no longer the meeting's


def test_room_secrets_are_taken_out_of_messages_we_do_not_write():
    from leancoffee.redaction import redact_codes

    line = 'GET /room/0123456789abcdefghijklmnopqrstuv/ws?x HTTP/1.1" and /m/AbCdEf123456/room'
    assert redact_codes(line) == 'GET /room/<secret>/ws?x HTTP/1.1" and /m/<code>/room'
    # A series' link opens its current meeting and a device link signs someone in: neither reaches a log either.
    assert redact_codes("GET /s/AbCdEf123456/meetings and POST /d/abc-DEF_0123456789xyz") == (
        "GET /s/<code>/meetings and POST /d/<secret>")


def test_the_room_link_follows_hidden_voting_like_every_screen(server):
    code, tid, fay, ann, bob = hidden_meeting(server.base)
    screen = projector_socket(room_link(fay, code), server.base)
    receive_until(screen, lambda f: 'id="room-board"' in f)
    nothing_arrives(screen, 0.5)
    assert ann.act(f"/m/{code}/topics/{tid}/vote").status_code == 200
    assert nothing_arrives(screen) == []  # not even an empty frame
    fay.act(f"/m/{code}/settings", {"hidden_voting": "0", "timebox_pattern": "8m 4m 2m"})
    assert "<strong>1</strong> vote" in receive_until(screen, lambda f: "room-votes" in f and "hidden" not in f)
    screen.close()


def test_the_database_holds_no_participant_for_the_projector(app, meeting):
    m, fay, *_ = meeting
    before = Participant.select().where(Participant.meeting == m.id).count()
    client = app.test_client()
    secret = Meeting.get_by_id(m.id).room_secret
    assert client.get(f"/room/{secret}").status_code == 200
    assert Participant.select().where(Participant.meeting == m.id).count() == before == 3


@pytest.fixture(scope="module")
def public_server(tmp_path_factory):
    """The real app with PUBLIC_URL set to a LAN-like address (mapped to 127.0.0.1 by the browser tests)."""
    tmp = tmp_path_factory.mktemp("public")
    srv = AppServer(f"sqlite:///{tmp / 'public.db'}")
    srv.public = f"http://lan.test:{srv.port}"
    srv.env["PUBLIC_URL"] = srv.public + "/"
    yield srv.start(tmp / "server.log")
    srv.stop()


def test_public_url_starts_every_link_and_its_origin_opens_sockets(public_server):
    fay = HttpPerson(public_server.base)
    code = fay.start_meeting()
    board = fay.get(f"/m/{code}").text
    assert f">{public_server.public}/m/{code}</textarea>" in board
    assert room_link(fay, code).startswith(f"{public_server.public}/room/")
    assert 'id="phones-hint"' not in board  # PUBLIC_URL set: nothing to tell
    room = fay.get(f"/m/{code}/room").text
    assert f"{public_server.public}<wbr>/m/<wbr>" in room
    # The QR code is the very one segno makes for the PUBLIC_URL address (and not for the address asked).
    qr = re.search(r"<svg.*?</svg>", room, re.S)[0]
    made = segno.make(f"{public_server.public}/m/{code}", error="m")
    assert qr == made.svg_inline(scale=6, border=2, dark="#111", light="#fff", title="Join link", omitsize=True)
    assert qr != segno.make(f"{public_server.base}/m/{code}", error="m").svg_inline(
        scale=6, border=2, dark="#111", light="#fff", title="Join link", omitsize=True)
    ws = websocket.create_connection(f"ws://127.0.0.1:{public_server.port}/m/{code}/ws", cookie=fay.cookie_header(),
                                     origin=public_server.public, timeout=10)
    assert 'id="meeting-status"' in ws.recv()
    ws.close()


def test_on_loopback_without_public_url_the_facilitator_is_told_how_to_let_phones_in(server):
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting()
    ann.join(code, "Ann")
    hint = re.search(r'<p id="phones-hint".*?</p>', fay.get(f"/m/{code}").text, re.S)
    assert hint and "--host 0.0.0.0" in hint[0] and "PUBLIC_URL" in hint[0]
    assert 'id="phones-hint"' not in ann.get(f"/m/{code}").text


@pytest.mark.parametrize("value", ["ftp://x.example", "lan.test:5000", "http://", "http://x.example/lean",
                                   "http://x.example/?a=1", "http://user:pw@x.example", "http://x.example:99999"])
def test_a_bad_public_url_stops_the_start_with_a_clear_message(value, tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SECRET_KEY": "x" * 40, "PATH": "/usr/bin:/bin", "PUBLIC_URL": value}
    done = subprocess.run([sys.executable, "app.py", "--port", "1"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("Not starting: PUBLIC_URL must be an http:// or https:// address")


@pytest.mark.parametrize("value, base", [("http://LAN.test:80/", "http://lan.test"), ("https://x.example:443", "https://x.example"),
                                         ("http://192.168.1.20:5000", "http://192.168.1.20:5000"), ("", None),
                                         ("http://[fe80::1]:8080", "http://[fe80::1]:8080")])
def test_public_url_is_kept_as_the_origin_browsers_send(value, base):
    from leancoffee.config import parse_public_url

    assert parse_public_url(value) == base
