"""Issue 19 over a real server: a new co-facilitator's open screens take up the role at once, namesakes arrive numbered."""

import re

import pytest
import websocket

from tests.helpers import HttpPerson, receive_until
from tests.test_room_link import projector_socket, room_link
from tests.test_sessions_and_hidden_live import nothing_arrives

pytestmark = pytest.mark.server


def user_id_of(person: HttpPerson, code: str, name: str) -> int:
    """A person's id as the board lists them (the participants list names each row by user id)."""
    page = person.get(f"/m/{code}").text
    return int(re.search(rf'id="person-(\d+)">\s*<span class="presence-dot"[^>]*></span>\s*'
                         rf'<span class="person-name"><bdi>{re.escape(name)}</bdi>', page)[1])


def settled(*sockets):
    for ws in sockets:
        receive_until(ws, lambda f: 'id="meeting-status"' in f)
    for ws in sockets:
        nothing_arrives(ws, 0.6)


def test_a_co_facilitator_s_screens_get_the_controls_live_and_lose_them_when_it_is_taken_back(server):
    fay, ann, bob = HttpPerson(server.base), HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting("Teams", "Fay")
    ann.join(code, "Ann")
    bob.join(code, "Bob")
    ann_id = user_id_of(fay, code, "Ann")
    ann_ws, bob_ws, fay_ws = ann.socket(code), bob.socket(code), fay.socket(code)
    settled(ann_ws, bob_ws, fay_ws)

    assert fay.act(f"/m/{code}/role", {"person": ann_id, "role": "facilitator"}).status_code == 200
    ann_board = receive_until(ann_ws, lambda f: 'id="meeting-status"' in f)
    bob_board = receive_until(bob_ws, lambda f: 'id="meeting-status"' in f)
    assert "Open voting" in ann_board and "Make co-facilitator" in ann_board and "(you)" in ann_board
    assert "Open voting" not in bob_board and 'id="facilitators" hidden' in bob_board
    assert bob_board.count('<span class="tag">facilitator</span>') == 2  # everyone sees who facilitates

    # From now on Ann's socket is among the facilitators': a new topic brings her the merge form, not Bob.
    bob.act(f"/m/{code}/topics", {"title": "First"})
    bob.act(f"/m/{code}/topics", {"title": "Second"})
    assert 'id="merge"' in receive_until(ann_ws, lambda f: "Merge duplicate topics" in f)
    assert all("Merge duplicate topics" not in f for f in nothing_arrives(bob_ws, 0.8))

    # Fay leaves: Ann runs the meeting alone; her screens are told that nobody else facilitates.
    assert fay.act(f"/m/{code}/leave", {"confirmed": "1"}).status_code == 200
    left = receive_until(ann_ws, lambda f: 'id="facilitators"' in f)
    assert "Facilitators (1)" in left and "Step down" not in left
    assert ann.press(code, "phase", {"phase": "voting"}).status_code == 200
    assert 'data-phase="voting"' in receive_until(bob_ws, lambda f: 'data-phase="voting"' in f)

    # Ann makes Bob one and Bob takes it back from her: her screens lose the controls.
    bob_id = user_id_of(ann, code, "Bob")
    ann.act(f"/m/{code}/role", {"person": bob_id, "role": "facilitator"})
    assert "Close voting" in receive_until(bob_ws, lambda f: 'id="meeting-status"' in f)
    nothing_arrives(ann_ws, 0.5)
    assert bob.act(f"/m/{code}/role", {"person": ann_id, "role": "participant"}).status_code == 200
    demoted = receive_until(ann_ws, lambda f: 'id="meeting-status"' in f)
    assert "Close voting" not in demoted and 'id="facilitators" hidden' in demoted
    bob.act(f"/m/{code}/topics", {"title": "Third"})
    assert all("Merge duplicate topics" not in f for f in nothing_arrives(ann_ws, 0.8))


def test_a_second_ann_arrives_numbered_on_every_screen(server):
    fay, ann, other = HttpPerson(server.base), HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting("Names", "Fay")
    ann.join(code, "Ann")
    fay_ws = fay.socket(code)
    settled(fay_ws)
    other.join(code, "Ann")
    row = receive_until(fay_ws, lambda f: "participants-list" in f)
    assert "<bdi>Ann (2)</bdi>" in row
    assert "<bdi>Ann (2)</bdi>" in fay.get(f"/m/{code}").text and "<bdi>Ann</bdi>" in fay.get(f"/m/{code}").text
    typed = HttpPerson(server.base)
    typed.join(code, "Ann (2)")  # what the second Ann is shown as, typed: numbered, never the same label twice
    row = receive_until(fay_ws, lambda f: "participants-list" in f)
    assert "<bdi>Ann (2) (2)</bdi>" in row and fay.get(f"/m/{code}").text.count("<bdi>Ann (2)</bdi>") == 1


def room_screen_socket(person: HttpPerson, code: str, base: str):
    """A member's own room screen (the board's socket with screen=room), as the room page opens it."""
    return websocket.create_connection(f"ws://{base.split('://', 1)[1]}/m/{code}/ws?screen=room",
                                       cookie=person.cookie_header(), origin=base, timeout=10)


def whole_board(ws) -> str:
    return receive_until(ws, lambda f: 'id="meeting-status"' in f)


def test_the_room_link_and_leave_follow_a_role_change_live_and_reach_no_participant_or_room_screen(server):
    fay, ann, bob = HttpPerson(server.base), HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting("Shared links", "Fay")
    ann.join(code, "Ann")
    bob.join(code, "Bob")
    link = room_link(fay, code)
    secret = link.rsplit("/", 1)[1]
    ann_id = user_id_of(fay, code, "Ann")
    fay_ws, ann_ws, bob_ws = fay.socket(code), ann.socket(code), bob.socket(code)
    rooms = [projector_socket(link, server.base), room_screen_socket(fay, code, server.base)]
    alone, plain = whole_board(fay_ws), whole_board(ann_ws)
    assert secret in alone and "Renew room link" in alone and "data-last-facilitator" in alone
    assert 'id="share"' in plain and secret not in plain and "Renew room link" not in plain
    assert "data-facilitating" not in plain
    bob_seen = [whole_board(bob_ws)]
    for ws in (fay_ws, ann_ws):
        nothing_arrives(ws, 0.6)

    # Ann becomes a co-facilitator: her open board gets the room link and the renewal; Fay may leave now.
    assert fay.act(f"/m/{code}/role", {"person": ann_id, "role": "facilitator"}).status_code == 200
    made, fay_board = whole_board(ann_ws), whole_board(fay_ws)
    assert '<textarea id="room-link"' in made and secret in made and "Renew room link" in made
    assert 'id="meeting-status"' in made and "data-facilitating" in made  # + Add a topic stays while discussing
    assert "Facilitators (2)" in fay_board and "data-last-facilitator" not in fay_board

    # She steps down: her board loses them, and Fay is the last facilitator again.
    assert ann.act(f"/m/{code}/role", {"person": ann_id, "role": "participant"}).status_code == 200
    stepped, fay_board = whole_board(ann_ws), whole_board(fay_ws)
    assert 'id="share"' in stepped and secret not in stepped and "Renew room link" not in stepped
    assert "data-facilitating" not in stepped and 'id="facilitators" hidden' in stepped
    assert "Facilitators (1)" in fay_board and "data-last-facilitator" in fay_board

    # Made one again, then Fay leaves: Ann's screens are told she is the last one (Leave goes).
    fay.act(f"/m/{code}/role", {"person": ann_id, "role": "facilitator"})
    assert "data-last-facilitator" not in whole_board(ann_ws)
    # Neither a participant's board nor a room screen (Fay's own, whose viewer facilitates, included) got the link.
    bob_seen += nothing_arrives(bob_ws, 0.8)
    assert len(bob_seen) >= 4 and all(secret not in f and "Renew room link" not in f for f in bob_seen)
    for room in rooms:
        seen = nothing_arrives(room, 0.8)
        assert any('id="room-board"' in f for f in seen) and all(secret not in f for f in seen)

    assert fay.act(f"/m/{code}/leave", {"confirmed": "1"}).status_code == 200
    left = receive_until(ann_ws, lambda f: 'id="facilitators"' in f)
    assert "Facilitators (1)" in left and "data-last-facilitator" in left
    assert all(secret not in f for f in nothing_arrives(bob_ws, 0.8))


def test_a_renewed_room_link_reaches_every_facilitator_s_board_and_nobody_else(server):
    fay, ann, bob = HttpPerson(server.base), HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting("Teams", "Fay")
    ann.join(code, "Ann")
    bob.join(code, "Bob")
    assert fay.act(f"/m/{code}/role", {"person": user_id_of(fay, code, "Ann"), "role": "facilitator"}).status_code == 200
    old = room_link(fay, code)
    ann_ws, bob_ws = ann.socket(code), bob.socket(code)
    settled(ann_ws, bob_ws)

    assert fay.act(f"/m/{code}/room-link").status_code == 200
    new = room_link(fay, code)
    assert new != old
    frame = receive_until(ann_ws, lambda f: 'id="room-link"' in f)  # the co-facilitator's open board, without a reload
    # Without PUBLIC_URL a pushed link is its path; the page completes it with its own address (board.js).
    assert new.split("/room/")[1] in frame and old.split("/room/")[1] not in frame and "Renew room link" in frame
    assert [f for f in nothing_arrives(bob_ws, 1.0) if "/room/" in f] == []  # a participant never sees either link
    for ws in (ann_ws, bob_ws):
        ws.close()
