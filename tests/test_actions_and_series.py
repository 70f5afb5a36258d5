"""Issue 20: takeaways and actions that last (edit, delete, owners, done), My actions, and meeting series, over HTTP."""

import csv
import io
import re

import pytest

from leancoffee.models import CarriedNote, Meeting, Note, Participant, Topic, Vote
from leancoffee.services import notes, series
from leancoffee.services.errors import Conflict, Forbidden, Invalid
from tests.helpers import board_expected


def topic_id(title):
    return Topic.get(Topic.title == title).id


def participant(m, name):
    return Participant.get((Participant.meeting == m.id) & (Participant.name == name))


def facilitate(fay, m, action, data=None):
    """Fay presses a control of her board: the form sends the state it names."""
    return fay.post(f"/m/{m.code}/{action}", {**(data or {}), "expected": board_expected(fay, m.code, action)})


@pytest.fixture
def discussed(meeting):
    """Ann's "Rota" under discussion, "Budget" waiting with a vote; Fay's action for Bob (picked), Ann's takeaway."""
    m, fay, ann, bob = meeting
    ann.post(f"/m/{m.code}/topics", {"title": "Rota"})
    bob.post(f"/m/{m.code}/topics", {"title": "Budget", "description": "Next year"})
    assert bob.post(f"/m/{m.code}/topics/{topic_id('Budget')}/vote").status_code == 200
    assert fay.post(f"/m/{m.code}/topics/{topic_id('Rota')}/move",
                    {"status": "discussing", "expected": "to_discuss"}).status_code == 200
    rota = topic_id("Rota")
    bob_id = participant(m, "Bob").id
    assert fay.post(f"/m/{m.code}/topics/{rota}/notes",
                    {"kind": "action", "text": "Draft the rota", "owner_participant": bob_id}).status_code == 200
    assert ann.post(f"/m/{m.code}/topics/{rota}/notes", {"kind": "takeaway", "text": "Weekly is enough"}).status_code == 200
    return m, fay, ann, bob


def note(text):
    return Note.get(Note.text == text)


def finish(fay, m):
    """Fay finishes the meeting the way her board offers it: one phase at a time, up to Done."""
    phases = ["collecting", "voting", "discussing", "done"]
    for phase in phases[phases.index(Meeting.get_by_id(m.id).phase) + 1:]:
        assert facilitate(fay, m, "phase", {"phase": phase, "confirmed": "1"}).status_code == 200
    assert Meeting.get_by_id(m.id).status == "completed"


def test_every_id_on_a_board_with_notes_is_unique(discussed):
    """The facilitator's board holds each topic's new-note form and each note's edit form: their fields' ids differ."""
    m, fay, ann, bob = discussed
    board = fay.get(f"/m/{m.code}").text
    ids = re.findall(r'\sid="([^"]+)"', board)
    assert f"new-note-{topic_id('Rota')}-owner" in ids and f"note-edit-{note('Draft the rota').id}-owner" in ids
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []


def test_an_owner_is_picked_from_the_participants_or_typed_never_both(discussed):
    m, fay, ann, bob = discussed
    action = note("Draft the rota")
    assert (action.owner_participant_id, action.owner) == (participant(m, "Bob").id, "")
    board = ann.get(f"/m/{m.code}").text
    assert "owner: <bdi>Bob</bdi>" in board
    # The board lists the names once; each owner field suggests from that list.
    names = re.search(r'<datalist id="owner-names">(.*?)</datalist>', board, re.S).group(1)
    assert re.findall(r'<option value="([^"]+)">', names) == ["Fay", "Ann", "Bob"]
    # One owner field per topic's new-note form (Fay's action is not Ann's to edit), each suggesting from the list.
    assert board.count('list="owner-names"') == board.count('name="owner"') == 2
    assert 'name="owner_participant"' not in board
    rota = topic_id("Rota")
    # A name typed as the board shows it (case aside) is that participant; any other name is typed as it is.
    booked = ann.post(f"/m/{m.code}/topics/{rota}/notes", {"kind": "action", "text": "Book a room", "owner": " bob "})
    assert booked.status_code == 200
    assert (note("Book a room").owner, note("Book a room").owner_participant_id) == ("", participant(m, "Bob").id)
    both = ann.post(f"/m/{m.code}/topics/{rota}/notes",
                    {"kind": "action", "text": "Both", "owner": "Zoe", "owner_participant": participant(m, "Ann").id})
    assert both.status_code == 422 and "not both" in both.text
    for stranger in ("999999", "abc", "-1", "9" * 40):
        refused = ann.post(f"/m/{m.code}/topics/{rota}/notes", {"kind": "action", "text": "Who", "owner_participant": stranger})
        assert refused.status_code == 422 and "not in this meeting" in refused.text
    typed = ann.post(f"/m/{m.code}/topics/{rota}/notes", {"kind": "action", "text": "Ask legal", "owner": "Zoe"})
    assert typed.status_code == 200 and (note("Ask legal").owner, note("Ask legal").owner_participant_id) == ("Zoe", None)
    assert Note.select().where(Note.text.in_(["Both", "Who"])).count() == 0


def test_authors_and_the_facilitator_edit_and_delete_notes_others_cannot(discussed):
    m, fay, ann, bob = discussed
    takeaway = note("Weekly is enough")
    refused = bob.post(f"/m/{m.code}/notes/{takeaway.id}/edit", {"text": "Mine now"})
    assert refused.status_code == 403 and note("Weekly is enough").text == "Weekly is enough"
    assert ann.post(f"/m/{m.code}/notes/{takeaway.id}/edit", {"text": "Weekly, on Mondays"}).status_code == 200
    assert Note.get_by_id(takeaway.id).text == "Weekly, on Mondays"
    assert ann.post(f"/m/{m.code}/notes/{takeaway.id}/edit", {"text": "   "}).status_code == 422
    action = note("Draft the rota")
    edit = {"text": "Draft the rota by Friday", "owner": "Zoe"}
    assert fay.post(f"/m/{m.code}/notes/{action.id}/edit", edit).status_code == 200
    edited = Note.get_by_id(action.id)
    assert (edited.text, edited.owner, edited.owner_participant_id) == ("Draft the rota by Friday", "Zoe", None)
    # Delete asks first; without confirmed=1 nothing goes.
    asked = ann.post(f"/m/{m.code}/notes/{takeaway.id}/delete")
    assert asked.status_code == 200 and "Delete this note?" in asked.text and Note.get_or_none(Note.id == takeaway.id)
    assert bob.post(f"/m/{m.code}/notes/{takeaway.id}/delete", {"confirmed": "1"}).status_code == 403
    assert ann.post(f"/m/{m.code}/notes/{takeaway.id}/delete", {"confirmed": "1"}).status_code == 200
    assert Note.get_or_none(Note.id == takeaway.id) is None
    assert ann.post(f"/m/{m.code}/notes/{takeaway.id}/edit", {"text": "Gone"}).status_code == 404
    assert "Weekly" not in ann.get(f"/m/{m.code}").text


def test_the_owner_or_the_facilitator_marks_done_also_once_completed_and_nothing_else_changes(discussed):
    m, fay, ann, bob = discussed
    action, takeaway = note("Draft the rota"), note("Weekly is enough")
    assert ann.post(f"/m/{m.code}/actions/{action.id}/done").status_code == 403  # neither owner nor facilitator
    assert bob.post(f"/m/{m.code}/actions/{takeaway.id}/done").status_code == 422  # a takeaway is never done
    finish(fay, m)
    # Completed: the board is frozen, but the owner still marks the action done (without JavaScript: back to the summary).
    assert ann.post(f"/m/{m.code}/notes/{takeaway.id}/edit", {"text": "Late"}).status_code == 409
    done = bob.post(f"/m/{m.code}/actions/{action.id}/done", {"back": "summary"}, htmx=False)
    assert done.status_code == 303 and done.headers["Location"] == f"/m/{m.code}/summary"
    row = Note.get_by_id(action.id)
    assert row.done is True and row.done_at is not None
    page = bob.get(f"/m/{m.code}/summary").text
    assert "All actions (1)" in page and "✓ yes" in page and "Reopen" in page
    assert "Reopen" not in ann.get(f"/m/{m.code}/summary").text  # Ann may not change it: no button
    assert fay.post(f"/m/{m.code}/actions/{action.id}/reopen").status_code == 200
    assert Note.get_by_id(action.id).done is False and Note.get_by_id(action.id).done_at is None


def test_the_summary_and_exports_list_every_action_with_owner_topic_and_done(discussed):
    m, fay, ann, bob = discussed
    ann.post(f"/m/{m.code}/topics/{topic_id('Rota')}/notes", {"kind": "action", "text": "=Ask legal", "owner": "Zoe"})
    assert bob.post(f"/m/{m.code}/actions/{note('Draft the rota').id}/done").status_code == 200
    finish(fay, m)
    page = ann.get(f"/m/{m.code}/summary").text
    table = page[page.index("All actions (2)"):]
    assert table.index("Draft the rota") < table.index("<bdi>Bob</bdi>") < table.index("Rota") < table.index("✓ yes")
    markdown = ann.get(f"/m/{m.code}/summary.md").text
    assert "## Actions\n\n- [x] Draft the rota — Bob · Rota\n- [ ] \\=Ask legal — Zoe · Rota\n" in markdown
    assert "- [x] Draft the rota (Bob)" in markdown  # the topic's own list says it too
    rows = [r for r in csv.DictReader(io.StringIO(ann.get(f"/m/{m.code}/summary.csv").text)) if r["record"] == "action"]
    assert [(r["text"], r["owner"], r["topic"], r["column"], r["done"]) for r in rows] == [
        ("Draft the rota", "Bob", "Rota", "Discussed", "yes"), ("'=Ask legal", "Zoe", "Rota", "Discussed", "no")]


def test_my_actions_lists_the_open_actions_a_person_owns_across_meetings(discussed, person):
    m, fay, ann, bob = discussed
    home = bob.get("/").text
    assert "My actions (1)" in home and f'href="/m/{m.code}#action-{note("Draft the rota").id}"' in home
    assert "My actions" not in ann.get("/").text
    done = bob.post(f"/m/{m.code}/actions/{note('Draft the rota').id}/done", {"back": "home"}, htmx=False)
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert "My actions" not in bob.get("/").text


def test_run_again_carries_settings_topics_not_discussed_and_open_actions(discussed):
    m, fay, ann, bob = discussed
    Meeting.update(hidden_voting=True, timebox_pattern="5m 3m").where(Meeting.id == m.id).execute()
    assert fay.post(f"/m/{m.code}/run-again").status_code == 409  # not finished yet
    finish(fay, m)
    assert ann.post(f"/m/{m.code}/run-again").status_code == 403
    ran = fay.post(f"/m/{m.code}/run-again", htmx=False)
    nxt = Meeting.select().order_by(Meeting.id.desc()).get()
    assert ran.status_code == 303 and ran.headers["Location"] == f"/m/{nxt.code}"
    first = Meeting.get_by_id(m.id)
    assert nxt.series_id == first.series_id is not None and nxt.status == "planned"
    assert (nxt.title, nxt.votes_per_person, nxt.hidden_voting, nxt.timebox_pattern, nxt.facilitator_id) == (
        first.title, first.votes_per_person, True, "5m 3m", first.facilitator_id)
    assert [(p.name, p.role) for p in Participant.select().where(Participant.meeting == nxt.id)] == [("Fay", "facilitator")]
    carried = Topic.get(Topic.meeting == nxt.id)
    budget = Topic.get((Topic.meeting == m.id) & (Topic.title == "Budget"))
    assert (carried.title, carried.description, carried.author_id, carried.status) == ("Budget", "Next year", budget.author_id,
                                                                                       "to_discuss")
    assert Vote.select().where(Vote.topic == carried.id).count() == 0
    assert Vote.select().where(Vote.topic == budget.id).count() == 1
    # Bob proposed it and has not joined the next meeting yet: his board still names him, not "someone".
    board = fay.get(f"/m/{nxt.code}").text
    assert "by <bdi>Bob</bdi>" in board and "by <bdi>someone</bdi>" not in board
    action = note("Draft the rota")
    assert [c.note_id for c in CarriedNote.select().where(CarriedNote.meeting == nxt.id)] == [action.id]
    # A second press on the same meeting starts nothing more; the series goes on from its newest meeting.
    assert fay.post(f"/m/{m.code}/run-again").status_code == 409
    assert Meeting.select().count() == 2


def test_an_action_marked_done_in_the_next_meeting_is_done_in_the_series(discussed):
    m, fay, ann, bob = discussed
    finish(fay, m)
    fay.post(f"/m/{m.code}/run-again")
    nxt = Meeting.select().order_by(Meeting.id.desc()).get()
    action = note("Draft the rota")
    assert bob.post(f"/m/{nxt.code}/actions/{action.id}/done").status_code == 403  # Bob has not joined it yet
    assert bob.post(f"/m/{nxt.code}/join", {"name": "Bob"}, htmx=False).status_code == 303
    board = bob.get(f"/m/{nxt.code}").text
    assert f'id="action-{action.id}"' in board and "from an earlier meeting" in board
    assert f'href="/m/{nxt.code}#action-{action.id}"' in bob.get("/").text  # My actions points at the newest meeting
    assert bob.post(f"/m/{nxt.code}/actions/{action.id}/done").status_code == 200
    assert Note.get_by_id(action.id).done is True
    assert "✓ yes" in bob.get(f"/m/{m.code}/summary").text
    series_code = Meeting.get_by_id(m.id).series.code
    listed = ann.get(f"/s/{series_code}/meetings").text
    assert "Open actions (0)" in listed and "Meetings (2)" in listed and f"/m/{m.code}/summary" in listed
    # A done action stays behind when the series runs again.
    finish(fay, nxt)
    fay.post(f"/m/{nxt.code}/run-again")
    third = Meeting.select().order_by(Meeting.id.desc()).get()
    assert CarriedNote.select().where(CarriedNote.meeting == third.id).count() == 0


def test_the_series_link_always_opens_the_current_meeting(discussed, person):
    m, fay, ann, bob = discussed
    finish(fay, m)
    assert "Run again" in fay.get(f"/m/{m.code}/summary").text and "Run again" not in ann.get(f"/m/{m.code}/summary").text
    fay.post(f"/m/{m.code}/run-again")
    nxt = Meeting.select().order_by(Meeting.id.desc()).get()
    code = Meeting.get_by_id(m.id).series.code
    stranger = person()
    opened = stranger.get(f"/s/{code}")
    assert opened.status_code == 303 and opened.headers["Location"] == f"/m/{nxt.code}"
    assert "Join" in stranger.get(opened.headers["Location"]).text
    assert "Run again" not in fay.get(f"/m/{m.code}/summary").text  # only the newest meeting runs again
    # The series page is for people in one of its meetings; to anyone else it reads like no series at all.
    assert stranger.get(f"/s/{code}/meetings").status_code == 404
    assert "Draft the rota" not in stranger.get(f"/m/{m.code}/summary").text.split("Summary")[0]
    listed = ann.get(f"/s/{code}/meetings").text
    assert "Open actions (1)" in listed and "Draft the rota" in listed and "<bdi>Bob</bdi>" in listed
    assert listed.index(f"/m/{nxt.code}/summary") < listed.index(f"/m/{m.code}/summary")  # newest first
    for bad in ("nope", "x" * 200, "%00"):
        assert stranger.get(f"/s/{bad}").status_code == 404 and stranger.get(f"/s/{bad}/meetings").status_code == 404


def test_run_again_keeps_every_facilitator_anonymity_and_the_meeting_settings(discussed):
    m, fay, ann, bob = discussed
    ann_id = participant(m, "Ann").user_id
    assert fay.post(f"/m/{m.code}/role", {"person": str(ann_id), "role": "facilitator"}, htmx=False).status_code == 303
    form = {"hidden_voting": "0", "timebox_pattern": "8m", "show_authors": ["0"], "private_writing": ["0"]}
    assert fay.post(f"/m/{m.code}/settings", form, htmx=False).status_code == 303
    bob.post(f"/m/{m.code}/topics", {"title": "Pay gap"})  # written while nobody's name is shown
    finish(fay, m)
    assert ann.post(f"/m/{m.code}/run-again", htmx=False).status_code == 303  # a co-facilitator runs it again
    nxt = Meeting.select().order_by(Meeting.id.desc()).get()
    assert sorted((p.name, p.role) for p in Participant.select().where(Participant.meeting == nxt.id)) == [
        ("Ann", "facilitator"), ("Fay", "facilitator")]
    assert (nxt.show_authors, nxt.private_writing) == (False, False)
    carried = Topic.get((Topic.meeting == nxt.id) & (Topic.title == "Pay gap"))
    assert carried.anonymous and not Topic.get((Topic.meeting == nxt.id) & (Topic.title == "Budget")).anonymous
    assert bob.post(f"/m/{nxt.code}/join", {"name": "Bob"}, htmx=False).status_code == 303
    assert "by <bdi>Bob</bdi>" not in fay.get(f"/m/{nxt.code}").text.split('id="topic-' + str(carried.id))[1][:600]


def test_an_owner_picked_by_an_odd_id_is_refused_not_a_crash(discussed):
    m, fay, ann, bob = discussed
    rota = topic_id("Rota")
    for odd in ("²", "٣", "-1", "0", "9" * 40, "1.5", " "):
        answer = ann.post(f"/m/{m.code}/topics/{rota}/notes", {"kind": "action", "text": f"odd {odd}", "owner_participant": odd})
        assert answer.status_code in (404, 422) and Note.select().where(Note.text == f"odd {odd}").count() == 0, odd


def test_services_refuse_with_typed_errors_and_change_nothing(app, discussed):
    m, fay, ann, bob = discussed
    users = {name: participant(m, name).user for name in ("Fay", "Ann", "Bob")}
    action = note("Draft the rota")
    with app.test_request_context():
        with pytest.raises(Forbidden):
            notes.mark_action(users["Ann"], m.code, action.id, True)
        with pytest.raises(Invalid):
            notes.edit_note(users["Fay"], m.code, action.id, "x" * 501)
        with pytest.raises(Conflict):
            series.run_again(users["Fay"], m.code)
        change = notes.mark_action(users["Bob"], m.code, action.id, True)
    assert change.kind == "ActionDone" and change.note_id == action.id and change.also == ()
    assert Note.get_by_id(action.id).done and Meeting.get_by_id(m.id).version == change.version


@pytest.mark.parametrize("how", ["stepped down", "left"])
def test_a_co_facilitator_runs_again_with_exactly_the_facilitators_present_at_the_end(discussed, how):
    """The creator who stepped down or left before the end is a plain participant of the next meeting."""
    m, fay, ann, bob = discussed
    fay_id, ann_id = (participant(m, name).user_id for name in ("Fay", "Ann"))
    assert fay.post(f"/m/{m.code}/role", {"person": str(ann_id), "role": "facilitator"}, htmx=False).status_code == 303
    if how == "stepped down":
        assert fay.post(f"/m/{m.code}/role", {"person": str(fay_id), "role": "participant"}, htmx=False).status_code == 303
    else:
        assert fay.post(f"/m/{m.code}/leave", {"confirmed": "1"}, htmx=False).status_code == 303
    finish(ann, m)
    assert fay.post(f"/m/{m.code}/run-again").status_code == 403  # no longer a facilitator, or no longer here
    ran = ann.post(f"/m/{m.code}/run-again", htmx=False)
    nxt = Meeting.select().order_by(Meeting.id.desc()).get()
    assert ran.status_code == 303 and ran.headers["Location"] == f"/m/{nxt.code}"
    assert nxt.facilitator_id == ann_id  # the creator field names someone who facilitates it
    assert [(p.name, p.role, p.is_active) for p in Participant.select().where(Participant.meeting == nxt.id)] == [
        ("Ann", "facilitator", True)]
    # Fay joins the next meeting as anyone does: as a participant, without the facilitators' controls.
    assert fay.post(f"/m/{nxt.code}/join", {"name": "Fay"}, htmx=False).status_code == 303
    assert participant(nxt, "Fay").role == "participant"
    board = fay.get(f"/m/{nxt.code}").text
    assert "Open voting" not in board and "Open voting" in ann.get(f"/m/{nxt.code}").text
    assert fay.post(f"/m/{nxt.code}/status", {"status": "in_progress", "expected": "planned"}).status_code == 403


def test_without_javascript_a_note_is_edited_and_deleted_by_plain_forms(discussed):
    """Plain form posts: each answers 303 back to the board, which shows the change; delete asks on a page first."""
    m, fay, ann, bob = discussed
    takeaway = note("Weekly is enough")
    edited = ann.post(f"/m/{m.code}/notes/{takeaway.id}/edit", {"text": "Weekly, on Mondays"}, htmx=False)
    assert edited.status_code == 303 and edited.headers["Location"] == f"/m/{m.code}#note-{takeaway.id}"
    assert Note.get_by_id(takeaway.id).text == "Weekly, on Mondays"
    board = ann.get(f"/m/{m.code}").text
    assert "Weekly, on Mondays" in board and "Weekly is enough" not in board
    action = note("Draft the rota")
    owned = fay.post(f"/m/{m.code}/notes/{action.id}/edit", {"text": "Draft the rota by Friday", "owner": "Ann"}, htmx=False)
    assert owned.status_code == 303 and owned.headers["Location"] == f"/m/{m.code}#note-{action.id}"
    assert Note.get_by_id(action.id).owner_participant_id == participant(m, "Ann").id
    assert "Draft the rota by Friday <span class=\"note-owner\">owner: <bdi>Ann</bdi>" in bob.get(f"/m/{m.code}").text
    refused = bob.post(f"/m/{m.code}/notes/{takeaway.id}/edit", {"text": "Mine now"}, htmx=False)
    assert refused.status_code == 403 and "Only the note" in refused.text and f'href="/m/{m.code}"' in refused.text
    # Delete: without confirmed=1 a page asks (its form sends confirmed=1) and nothing goes.
    asked = ann.post(f"/m/{m.code}/notes/{takeaway.id}/delete", htmx=False)
    assert asked.status_code == 200 and "Delete this note?" in asked.text and 'name="confirmed" value="1"' in asked.text
    assert Note.get_or_none(Note.id == takeaway.id) is not None
    deleted = ann.post(f"/m/{m.code}/notes/{takeaway.id}/delete", {"confirmed": "1"}, htmx=False)
    assert deleted.status_code == 303 and deleted.headers["Location"] == f"/m/{m.code}"
    assert Note.get_or_none(Note.id == takeaway.id) is None
    assert "Weekly" not in ann.get(f"/m/{m.code}").text and f'id="note-{takeaway.id}"' not in fay.get(f"/m/{m.code}").text


def run_again(fay, m) -> Meeting:
    """Fay finishes the meeting and runs it again: the next meeting of its series."""
    finish(fay, m)
    assert fay.post(f"/m/{m.code}/run-again").status_code == 200
    return Meeting.select().order_by(Meeting.id.desc()).get()


def test_a_carried_action_is_edited_in_the_next_meeting_by_its_author_or_that_meetings_facilitators(discussed):
    m, fay, ann, bob = discussed
    ask_legal = {"kind": "action", "text": "Ask legal", "owner": "Zoe"}
    assert ann.post(f"/m/{m.code}/topics/{topic_id('Rota')}/notes", ask_legal).status_code == 200
    mine, fays = note("Ask legal"), note("Draft the rota")
    nxt = run_again(fay, m)
    assert ann.post(f"/m/{m.code}/notes/{mine.id}/edit", {"text": "Late"}).status_code == 409  # its own meeting is done
    assert ann.post(f"/m/{nxt.code}/notes/{mine.id}/edit", {"text": "Not yet"}).status_code == 403  # not in the next one
    for who, name in ((ann, "Ann"), (bob, "Bob")):
        assert who.post(f"/m/{nxt.code}/join", {"name": name}, htmx=False).status_code == 303
    # The row of a carried action holds its Edit (its card is on the first meeting's board), for its author and Fay.
    row = re.compile(rf'<li id="action-{mine.id}".*?</li>', re.S)
    assert f"/m/{nxt.code}/notes/{mine.id}/edit" in row.search(ann.get(f"/m/{nxt.code}").text)[0]
    assert f"/m/{nxt.code}/notes/{mine.id}/edit" in row.search(fay.get(f"/m/{nxt.code}").text)[0]
    assert "/edit" not in row.search(bob.get(f"/m/{nxt.code}").text)[0]
    assert bob.post(f"/m/{nxt.code}/notes/{mine.id}/edit", {"text": "Mine now"}).status_code == 403
    assert ann.post(f"/m/{nxt.code}/notes/{fays.id}/edit", {"text": "Mine now", "owner": "Bob"}).status_code == 403
    edited = ann.post(f"/m/{nxt.code}/notes/{mine.id}/edit", {"text": "Ask legal and HR", "owner": "Zoe"}, htmx=False)
    assert edited.status_code == 303 and edited.headers["Location"] == f"/m/{nxt.code}#action-{mine.id}"
    assert Note.get_by_id(mine.id).text == "Ask legal and HR"
    assert "Ask legal and HR" in bob.get(f"/m/{nxt.code}").text and "Ask legal and HR" in bob.get(f"/m/{m.code}/summary").text
    # A co-facilitator of the next meeting only (Bob) edits it too; a facilitator who left it no longer does.
    bob_id = participant(nxt, "Bob").user_id
    assert fay.post(f"/m/{nxt.code}/role", {"person": str(bob_id), "role": "facilitator"}, htmx=False).status_code == 303
    assert bob.post(f"/m/{nxt.code}/notes/{fays.id}/edit", {"text": "Draft the rota, v2", "owner": "Bob"}).status_code == 200
    assert fay.post(f"/m/{nxt.code}/leave", {"confirmed": "1"}, htmx=False).status_code == 303
    assert fay.post(f"/m/{nxt.code}/notes/{mine.id}/edit", {"text": "Fay's"}).status_code == 403
    assert Note.get_by_id(mine.id).text == "Ask legal and HR" and Note.get_by_id(fays.id).text == "Draft the rota, v2"


def test_a_carried_actions_owner_is_kept_unless_changed_and_then_is_someone_in_the_next_meeting(discussed):
    m, fay, ann, bob = discussed
    action = note("Draft the rota")
    bob_first = participant(m, "Bob")
    nxt = run_again(fay, m)  # Bob, its owner, has not joined the next meeting
    assert fay.post(f"/m/{nxt.code}/notes/{action.id}/edit", {"text": "Draft the rota soon", "owner": "Bob"}).status_code == 200
    assert Note.get_by_id(action.id).owner_participant_id == bob_first.id  # still Bob's: his Done and My actions stay
    assert "My actions (1)" in bob.get("/").text and "Draft the rota soon" in bob.get("/").text
    # Changed to someone in the next meeting: that participant, who may then press Done.
    assert ann.post(f"/m/{nxt.code}/join", {"name": "Ann"}, htmx=False).status_code == 303
    assert fay.post(f"/m/{nxt.code}/notes/{action.id}/edit", {"text": "Draft the rota soon", "owner": "ann"}).status_code == 200
    row = Note.get_by_id(action.id)
    assert (row.owner, row.owner_participant_id) == ("", participant(nxt, "Ann").id)
    assert "My actions" not in bob.get("/").text and f'href="/m/{nxt.code}#action-{action.id}"' in ann.get("/").text
    assert "<bdi>Ann</bdi>" in fay.get(f"/m/{m.code}/summary").text  # the first meeting's summary names her too
    assert ann.post(f"/m/{nxt.code}/actions/{action.id}/done").status_code == 200 and Note.get_by_id(action.id).done


def test_a_carried_action_deleted_in_the_next_meeting_is_gone_from_the_series(app, discussed):
    m, fay, ann, bob = discussed
    action = note("Draft the rota")
    nxt = run_again(fay, m)
    asked = fay.post(f"/m/{nxt.code}/notes/{action.id}/delete")
    assert asked.status_code == 200 and "Delete this note?" in asked.text and Note.get_or_none(Note.id == action.id)
    with app.test_request_context():
        change = notes.delete_note(participant(m, "Fay").user, nxt.code, action.id)
    assert [(c.kind, c.meeting_id) for c in change.also] == [("NoteDeleted", m.id)]  # the first meeting's screens follow
    assert Note.get_or_none(Note.id == action.id) is None and CarriedNote.select().count() == 0
    assert "Draft the rota" not in fay.get(f"/m/{nxt.code}").text and "Draft the rota" not in bob.get(f"/m/{m.code}/summary").text
    assert Meeting.get_by_id(m.id).version == change.also[0].version


def test_a_completed_next_meeting_freezes_its_carried_actions_text_but_not_done(discussed):
    m, fay, ann, bob = discussed
    action = note("Draft the rota")
    nxt = run_again(fay, m)
    finish(fay, nxt)
    assert fay.post(f"/m/{nxt.code}/notes/{action.id}/edit", {"text": "Late", "owner": "Bob"}).status_code == 409
    assert fay.post(f"/m/{nxt.code}/notes/{action.id}/delete", {"confirmed": "1"}).status_code == 409
    assert "/edit" not in fay.get(f"/m/{nxt.code}?board=1").text
    assert fay.post(f"/m/{nxt.code}/actions/{action.id}/done").status_code == 200
    assert Note.get_by_id(action.id).text == "Draft the rota" and Note.get_by_id(action.id).done


def test_a_carried_actions_author_gets_its_edit_in_the_whole_board_a_page_opens_with(app, discussed):
    """A page's socket first sends its whole board: an author's carried action keeps its Edit there too."""
    from leancoffee.live.boards import WholeBoards, full_board
    from leancoffee.services.board import load_board
    from leancoffee.services.viewing import Viewer

    m, fay, ann, bob = discussed
    ask_legal = {"kind": "action", "text": "Ask legal", "owner": "Zoe"}
    assert ann.post(f"/m/{m.code}/topics/{topic_id('Rota')}/notes", ask_legal).status_code == 200
    nxt = run_again(fay, m)
    assert ann.post(f"/m/{nxt.code}/join", {"name": "Ann"}, htmx=False).status_code == 303
    with app.test_request_context():
        state = load_board(nxt.id)
        author = Viewer(participant(nxt, "Ann").user_id, is_member=True)
        assert f"/notes/{note('Ask legal').id}/edit" in full_board(state, author, set())
        assert WholeBoards(state).render(author, set()) == full_board(state, author, set())


def test_the_next_meetings_summary_and_exports_list_carried_actions_as_from_an_earlier_meeting(discussed):
    m, fay, ann, bob = discussed
    nxt = run_again(fay, m)
    budget = Topic.get((Topic.meeting == nxt.id) & (Topic.title == "Budget")).id
    assert fay.post(f"/m/{nxt.code}/topics/{budget}/notes", {"kind": "action", "text": "Send the agenda", "owner": "Fay"}
                    ).status_code == 200
    assert bob.post(f"/m/{nxt.code}/join", {"name": "Bob"}, htmx=False).status_code == 303
    assert bob.post(f"/m/{nxt.code}/actions/{note('Draft the rota').id}/done").status_code == 200
    finish(fay, nxt)
    page = bob.get(f"/m/{nxt.code}/summary").text
    table = page[page.index("All actions (2)"):]
    carried = re.search(r'<tr id="summary-action-\d+" class="is-done">.*?</tr>', table, re.S)[0]
    assert "Draft the rota" in carried and "<bdi>Bob</bdi>" in carried
    assert 'Rota <span class="hint">(earlier meeting)' in carried
    own = table[table.index("Send the agenda"):]
    assert "<bdi>Fay</bdi>" in own and "Budget</td>" in own and "(earlier meeting)" not in own
    markdown = bob.get(f"/m/{nxt.code}/summary.md").text
    assert ("## Actions\n\n- [x] Draft the rota — Bob · Rota, an earlier meeting\n- [ ] Send the agenda — Fay · Budget\n"
            in markdown)
    topics = markdown[:markdown.index("## Actions")]
    assert "- [ ] Send the agenda (Fay)" in topics and "Draft the rota" not in topics  # its topic is the first meeting's
    rows = [r for r in csv.DictReader(io.StringIO(bob.get(f"/m/{nxt.code}/summary.csv").text)) if r["record"] == "action"]
    assert [(r["text"], r["owner"], r["topic"], r["column"], r["done"]) for r in rows] == [
        ("Draft the rota", "Bob", "Rota", "earlier meeting", "yes"), ("Send the agenda", "Fay", "Budget", "To Discuss", "no")]


def test_the_series_link_to_a_completed_current_meeting_opens_its_summary(discussed, person):
    """Its members land on the summary; anyone else reads it without being added."""
    m, fay, ann, bob = discussed
    nxt = run_again(fay, m)
    assert bob.post(f"/m/{nxt.code}/join", {"name": "Bob"}, htmx=False).status_code == 303
    finish(fay, nxt)
    code = Meeting.get_by_id(nxt.id).series.code
    action = note("Draft the rota")
    for who in (fay, bob):
        opened = who.get(f"/s/{code}")
        assert opened.status_code == 303 and opened.headers["Location"] == f"/m/{nxt.code}"
        landed = who.get(opened.headers["Location"])
        assert landed.status_code == 303 and landed.headers["Location"] == f"/m/{nxt.code}/summary"
    summary = bob.get(f"/m/{nxt.code}/summary").text
    assert "Draft the rota" in summary and f"/m/{nxt.code}/actions/{action.id}/done" in summary  # its owner's Mark done
    assert "Run again" in fay.get(f"/m/{nxt.code}/summary").text and "Run again" not in summary
    for outsider in (ann, person()):  # Ann was in the first meeting only; the other was in none
        read = outsider.get(f"/s/{code}")
        assert read.status_code == 303 and read.headers["Location"] == f"/m/{nxt.code}"
        page = outsider.get(read.headers["Location"])
        assert page.status_code == 200 and "Draft the rota" in page.text and "Budget" in page.text
        assert 'id="join-form"' not in page.text and "/actions/" not in page.text and "Run again" not in page.text
    assert [p.name for p in Participant.select().where(Participant.meeting == nxt.id)] == ["Fay", "Bob"]


def test_the_room_screen_marks_a_done_action(app, discussed):
    from leancoffee.live.boards import full_board
    from leancoffee.services.board import load_board
    from leancoffee.services.viewing import Viewer

    m, fay, ann, bob = discussed
    room = Viewer(None, screen="room")
    action = note("Draft the rota")
    with app.test_request_context():
        assert "✓ done" not in full_board(load_board(m.id), room, set())
    assert bob.post(f"/m/{m.code}/actions/{action.id}/done").status_code == 200
    with app.test_request_context():
        shown = full_board(load_board(m.id), room, set())
    # The mark comes before the words: a long action is cut short on the projector, never its mark.
    assert '<span class="room-owner">✓ done</span> Draft the rota <span class="room-owner">owner: <bdi>Bob</bdi></span>' in shown
