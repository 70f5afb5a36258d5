"""Issue 20 over real WebSockets: notes edited, deleted and done reach every screen, in every meeting of a series."""

import re

import pytest

from tests.helpers import HttpPerson, receive_until

pytestmark = pytest.mark.server


@pytest.fixture
def team(server):
    """Fay's meeting with Ann and Bob, Ann's topic "Rota", and each person's board socket open."""
    fay, ann, bob = HttpPerson(server.base), HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting(title="Weekly coffee")
    ann.join(code, "Ann")
    bob.join(code, "Bob")
    added = ann.act(f"/m/{code}/topics", {"title": "Rota"}, live=False).text
    tid = int(re.search(r'<li id="topic-(\d+)" class="card"', added)[1])
    sockets = {}
    for name, who in (("fay", fay), ("ann", ann), ("bob", bob)):
        sockets[name] = who.socket(code)
        receive_until(sockets[name], lambda f: 'id="actions"' in f)
    yield code, tid, (fay, ann, bob), sockets
    for ws in sockets.values():
        ws.close()


def note_id(html: str, text: str) -> int:
    return int(re.search(rf'id="note-(\d+)" class="note[^"]*"><span class="note-kind">\w+</span> {text}', html)[1])


def test_an_action_and_its_done_button_reach_everyone_the_button_only_its_owner_and_the_facilitator(team):
    code, tid, (fay, ann, bob), ws = team
    assert '<option value="Bob">' in fay.get(f"/m/{code}?board=1").text  # the name the owner field suggests
    assert fay.act(f"/m/{code}/topics/{tid}/notes", {"kind": "action", "text": "Draft the rota", "owner": "Bob"}
                   ).status_code == 200
    frames = {name: receive_until(s, lambda f: "Draft the rota" in f) for name, s in ws.items()}
    action = note_id(frames["ann"], "Draft the rota")
    for name, frame in frames.items():
        assert f'id="action-{action}"' in frame and "owner: <bdi>Bob</bdi>" in frame, name
    assert f"/actions/{action}/done" in frames["bob"] and f"/actions/{action}/done" in frames["fay"]
    assert f"/actions/{action}/done" not in frames["ann"]
    assert f"/notes/{action}/edit" in frames["fay"] and f"/notes/{action}/edit" not in frames["bob"]  # Fay wrote it
    assert bob.act(f"/m/{code}/actions/{action}/done").status_code == 200
    for name in ("fay", "ann", "bob"):
        frame = receive_until(ws[name], lambda f: f'id="action-{action}" class="action-row is-done"' in f)
        assert "✓ done" in frame and "note-done" in frame, name  # the card's note and the list's row


def test_an_edit_and_a_delete_reach_every_screen_and_only_the_author_keeps_the_tools(team):
    code, tid, (fay, ann, bob), ws = team
    ann.act(f"/m/{code}/topics/{tid}/notes", {"kind": "takeaway", "text": "Weekly is enough"})
    takeaway = note_id(receive_until(ws["bob"], lambda f: "Weekly is enough" in f), "Weekly is enough")
    assert ann.act(f"/m/{code}/notes/{takeaway}/edit", {"text": "Weekly, on Mondays"}).status_code == 200
    seen = {name: receive_until(s, lambda f: "Weekly, on Mondays" in f) for name, s in ws.items()}
    assert f"/notes/{takeaway}/edit" in seen["ann"] and f"/notes/{takeaway}/edit" in seen["fay"]
    assert f"/notes/{takeaway}/edit" not in seen["bob"] and "Weekly is enough" not in seen["bob"]
    assert fay.act(f"/m/{code}/notes/{takeaway}/delete", {"confirmed": "1"}).status_code == 200
    for screen in ws.values():
        frame = receive_until(screen, lambda f: 'hx-swap-oob="delete"' in f)
        assert f'<div id="note-{takeaway}" hx-swap-oob="delete"></div>' in frame


def test_done_in_the_next_meeting_of_a_series_reaches_the_screens_of_the_first(team, server):
    code, tid, (fay, ann, bob), ws = team
    fay.act(f"/m/{code}/topics/{tid}/notes", {"kind": "action", "text": "Order the chairs", "owner": "Bob"})
    action = note_id(receive_until(ws["bob"], lambda f: "Order the chairs" in f), "Order the chairs")
    for phase in ("voting", "discussing", "done"):
        assert fay.press(code, "phase", {"phase": phase, "confirmed": "1"}).status_code == 200
    ran = fay.act(f"/m/{code}/run-again")
    nxt = ran.headers["HX-Redirect"].rsplit("/", 1)[-1]
    assert ran.status_code == 200 and nxt != code
    bob.join(nxt, "Bob")
    later = bob.socket(nxt)
    assert f'id="action-{action}"' in receive_until(later, lambda f: 'id="actions"' in f)
    old = bob.socket(code)  # the first meeting's board, completed: its action list still follows
    receive_until(old, lambda f: 'id="actions"' in f)
    assert bob.act(f"/m/{nxt}/actions/{action}/done").status_code == 200
    for screen in (later, old):
        frame = receive_until(screen, lambda f: f'id="action-{action}" class="action-row is-done"' in f)
        assert "Reopen" in frame
    # The first meeting's other screens, still open since it finished: its facilitator's and another member's.
    reopen = f"/m/{code}/actions/{action}/reopen"
    seen = {name: receive_until(ws[name], lambda f: f'id="action-{action}" class="action-row is-done"' in f)
            for name in ("fay", "ann", "bob")}
    assert reopen in seen["fay"] and reopen in seen["bob"] and "Reopen" not in seen["ann"]
    assert all("note-done" in frame for frame in seen.values())  # the card's note on the first meeting's board too
    later.close()
    old.close()


def test_reopen_reaches_every_screen_with_the_done_button_for_the_owner_and_the_facilitator_only(team):
    code, tid, (fay, ann, bob), ws = team
    fay.act(f"/m/{code}/topics/{tid}/notes", {"kind": "action", "text": "Book the room", "owner": "Bob"})
    action = note_id(receive_until(ws["bob"], lambda f: "Book the room" in f), "Book the room")
    assert bob.act(f"/m/{code}/actions/{action}/done").status_code == 200
    for screen in ws.values():
        receive_until(screen, lambda f: f'id="action-{action}" class="action-row is-done"' in f)
    assert fay.act(f"/m/{code}/actions/{action}/reopen").status_code == 200
    opened = {name: receive_until(s, lambda f: f'id="action-{action}" class="action-row"' in f) for name, s in ws.items()}
    for name, frame in opened.items():
        assert "note-done" not in frame and "✓ done" not in frame and "Book the room" in frame, name
    done = f"/m/{code}/actions/{action}/done"
    assert done in opened["bob"] and done in opened["fay"] and done not in opened["ann"]
    assert "/reopen" not in "".join(opened.values())


def test_a_carried_action_edited_and_deleted_in_the_next_meeting_reaches_the_screens_of_both(team):
    code, tid, (fay, ann, bob), ws = team
    ann.act(f"/m/{code}/topics/{tid}/notes", {"kind": "action", "text": "Ask legal", "owner": "Bob"})
    action = note_id(receive_until(ws["fay"], lambda f: "Ask legal" in f), "Ask legal")
    for phase in ("voting", "discussing", "done"):
        assert fay.press(code, "phase", {"phase": phase, "confirmed": "1"}).status_code == 200
    nxt = fay.act(f"/m/{code}/run-again").headers["HX-Redirect"].rsplit("/", 1)[-1]
    ann.join(nxt, "Ann")
    bob.join(nxt, "Bob")
    later = {"fay": fay.socket(nxt), "ann": ann.socket(nxt), "bob": bob.socket(nxt)}
    for screen in later.values():
        receive_until(screen, lambda f: f'id="action-{action}"' in f)
    edit = f"/m/{nxt}/notes/{action}/edit"
    assert ann.act(edit, {"text": "Ask legal and HR", "owner": "Bob"}).status_code == 200
    rows = {name: receive_until(s, lambda f: "Ask legal and HR" in f) for name, s in later.items()}
    assert edit in rows["ann"] and edit in rows["fay"] and edit not in rows["bob"]  # its author and the facilitator
    assert f"/m/{nxt}/actions/{action}/done" in rows["bob"]  # its owner's Done stays his
    for name, screen in ws.items():  # the first meeting's screens: the card's note and the list's row
        frame = receive_until(screen, lambda f: "Ask legal and HR" in f)
        assert f'id="note-{action}"' in frame and f'id="action-{action}"' in frame and "/edit" not in frame, name
    assert fay.act(f"/m/{nxt}/notes/{action}/delete", {"confirmed": "1"}).status_code == 200
    for name, screen in [*later.items(), *ws.items()]:
        frame = receive_until(screen, lambda f: f'<div id="action-{action}" hx-swap-oob="delete"></div>' in f)
        assert f'<div id="note-{action}" hx-swap-oob="delete"></div>' in frame, name
    for screen in later.values():
        screen.close()
