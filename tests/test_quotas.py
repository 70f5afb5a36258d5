"""A meeting holds only so much, and a note travels alone (issue 15, point 3)."""

import re

import pytest

from leancoffee.live.fanout import build_push
from leancoffee.models import Note, Participant, Topic
from leancoffee.services import notes
from leancoffee.services.board import load_board
from leancoffee.services.viewing import Viewer
from tests.helpers import HttpPerson, receive_until


@pytest.fixture
def small(app, meeting):
    """The meeting fixture's app with small limits: 3 topics, 2 notes a topic, 4 participants."""
    app.config.update(MAX_TOPICS_PER_MEETING=3, MAX_NOTES_PER_TOPIC=2, MAX_PARTICIPANTS_PER_MEETING=4)
    return meeting


def test_topics_stop_at_the_meetings_limit_with_a_clear_refusal(small):
    m, fay, ann, bob = small
    for n in range(3):
        assert ann.post(f"/m/{m.code}/topics", {"title": f"Topic {n}"}).status_code == 200
    refused = bob.post(f"/m/{m.code}/topics", {"title": "One too many"})
    assert refused.status_code == 409
    assert "This meeting already has 3 topics, as many as a meeting holds: merge or delete some first." in refused.text
    assert Topic.select().where(Topic.meeting == m.id).count() == 3
    plain = bob.post(f"/m/{m.code}/topics", {"title": "One too many"}, htmx=False)  # the no-JS form says it too
    assert plain.status_code == 409 and "merge or delete some first" in plain.text
    topic = Topic.get(Topic.title == "Topic 0")
    assert fay.post(f"/m/{m.code}/topics/{topic.id}/delete", {"confirmed": "1"}).status_code == 200  # room again
    assert bob.post(f"/m/{m.code}/topics", {"title": "Now it fits"}).status_code == 200


def test_notes_stop_at_the_topics_limit(small):
    m, fay, ann, bob = small
    assert ann.post(f"/m/{m.code}/topics", {"title": "Rota"}).status_code == 200
    tid = Topic.get(Topic.title == "Rota").id
    for n in range(2):
        assert ann.post(f"/m/{m.code}/topics/{tid}/notes", {"kind": "takeaway", "text": f"Note {n}"}).status_code == 200
    refused = bob.post(f"/m/{m.code}/topics/{tid}/notes", {"kind": "action", "text": "Third", "owner": "Bob"})
    assert refused.status_code == 409
    assert "This topic already has 2 takeaways and actions, as many as a topic holds." in refused.text
    assert Note.select().where(Note.topic == tid).count() == 2
    assert ann.post(f"/m/{m.code}/topics", {"title": "Other"}).status_code == 200
    other = Topic.get(Topic.title == "Other").id
    assert ann.post(f"/m/{m.code}/topics/{other}/notes", {"kind": "takeaway", "text": "Fits"}).status_code == 200


def test_a_full_meeting_takes_no_new_participant_but_lets_anyone_rejoin(small, person):
    m, fay, ann, bob = small
    cid = person()
    assert cid.post(f"/m/{m.code}/join", {"name": "Cid"}, htmx=False).status_code == 303  # the fourth
    dan = person()
    refused = dan.post(f"/m/{m.code}/join", {"name": "Dan"}, htmx=False)
    assert refused.status_code == 409 and "This meeting is full: it already has 4 participants." in refused.text
    assert Participant.select().where(Participant.meeting == m.id).count() == 4
    assert ann.post(f"/m/{m.code}/leave", {"confirmed": "1"}).status_code == 200
    assert ann.post(f"/m/{m.code}/join", {"name": "Ann again"}, htmx=False).status_code == 303  # her seat is hers


def user_named(m, name):
    """The user behind a participant's name in a meeting."""
    return Participant.get((Participant.meeting == m.id) & (Participant.name == name)).user


def test_a_note_travels_as_itself_not_as_its_topics_whole_list(app, meeting):
    m, fay, ann, bob = meeting
    assert ann.post(f"/m/{m.code}/topics", {"title": "Rota"}).status_code == 200
    tid = Topic.get(Topic.title == "Rota").id
    for n in range(30):
        said = ann.post(f"/m/{m.code}/topics/{tid}/notes", {"kind": "takeaway", "text": f"Earlier note number {n}"})
        assert said.status_code == 200
    with app.test_request_context():
        change = notes.add_note(user_named(m, "Ann"), m.code, tid, "action", "Ship it", "Bob")
        frame = build_push(change, load_board(m.id), set()).frame_for(Viewer(None, False, True))
    note_id = Note.get(Note.text == "Ship it").id
    assert f'<ul hx-swap-oob="beforeend:#notes-{tid}"><li id="note-{note_id}" class="note note-action">' in frame
    assert "Ship it" in frame and "Earlier note" not in frame  # the new note, none of the 30 before it
    assert len(frame) < 1500


@pytest.mark.server
def test_a_note_pushed_to_a_live_page_is_one_row(server):
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = fay.start_meeting()
    ann.join(code, "Ann")
    added = ann.act(f"/m/{code}/topics", {"title": "Rota"}, live=False).text
    tid = int(re.search(r'<li id="topic-(\d+)" class="card"', added)[1])
    watcher = fay.socket(code)
    receive_until(watcher, lambda f: 'id="columns"' in f)
    ann.act(f"/m/{code}/topics/{tid}/notes", {"kind": "takeaway", "text": "First"})
    ann.act(f"/m/{code}/topics/{tid}/notes", {"kind": "takeaway", "text": "Second"})
    frame = receive_until(watcher, lambda f: "Second" in f)
    assert "First" not in frame and frame.count("<li ") == 1
    watcher.close()
