"""Issue 18 over HTTP (Flask test client) and in the fan-out: beyond CROWD_SIZE people the board shows counts, the
facilitators and a link to everyone; the people page lists everyone to members only; a plain member's whole board is
rendered once for all of them."""

import re

import pytest

from leancoffee.live.boards import BOARD_REGIONS, WholeBoards, full_board
from leancoffee.live.fanout import build_push
from leancoffee.live.push import Push
from leancoffee.models import Meeting, Participant, Topic
from leancoffee.services import changes
from leancoffee.services.board import load_board
from leancoffee.services.changes import Change
from leancoffee.services.people import CROWD_SIZE
from leancoffee.services.viewing import Viewer
from tests.crowd_helpers import seed_people

ROWS = re.compile(r'<li class="person[^"]*" id="person-(\d+)"')


@pytest.fixture
def crowd(meeting, tmp_path):
    """Fay, Ann and Bob, and 60 more people: a crowd of 63."""
    m, fay, ann, bob = meeting
    ids = seed_people(tmp_path / "test.db", m.code, 60)
    return m, fay, ann, bob, ids


def test_a_crowd_board_shows_counts_the_facilitators_and_a_link_to_everyone_not_a_row_each(crowd):
    m, fay, ann, bob, ids = crowd
    page = ann.get(f"/m/{m.code}").text
    assert 'id="participants-list"' not in page
    assert ROWS.findall(page) == [str(m.facilitator_id)]  # the facilitator, named
    assert re.search(r'id="participants-count" class="people-count"><span class="count">63</span>', page)
    assert f'href="/m/{m.code}/people"' in page and "See everyone" in page
    # The owner field's suggestions: the facilitators and the viewer only; a typed name still finds anyone.
    names = re.search(r'<datalist id="owner-names">(.*?)</datalist>', page, re.S).group(1)
    assert re.findall(r'value="([^"]*)"', names) == ["Fay", "Ann"]
    assert "Crowd 0007" not in page


def test_at_the_crowd_size_everyone_still_has_a_row(meeting, tmp_path):
    m, fay, ann, bob = meeting
    seed_people(tmp_path / "test.db", m.code, CROWD_SIZE - 3)
    page = ann.get(f"/m/{m.code}").text
    assert len(ROWS.findall(page)) == CROWD_SIZE and 'id="participants-list"' in page and "See everyone" not in page
    assert page.count("<option value=") >= CROWD_SIZE


def test_the_people_page_lists_everyone_to_a_member_and_refuses_anyone_else(crowd, person):
    m, fay, ann, bob, ids = crowd
    page = ann.get(f"/m/{m.code}/people")
    assert page.status_code == 200
    listed = re.findall(r'id="everyone-(\d+)"', page.text)
    assert len(listed) == 63 and "Crowd 0059" in page.text and "Make co-facilitator" not in page.text
    stranger = person()
    refused = stranger.get(f"/m/{m.code}/people")
    assert refused.status_code == 403 and "Only the people in this meeting see who is in it" in refused.text
    assert "Crowd 0001" not in refused.text
    assert person().get("/m/nosuchmeeting1/people").status_code == 404


def test_a_facilitator_makes_a_co_facilitator_on_the_people_page_and_comes_back_to_it(crowd):
    m, fay, ann, bob, ids = crowd
    page = fay.get(f"/m/{m.code}/people").text
    assert page.count("Make co-facilitator") == 62  # everyone but Fay
    board = fay.get(f"/m/{m.code}").text
    assert f'href="/m/{m.code}/people">Make a co-facilitator from the list of everyone' in board
    assert 'id="co-facilitator"' not in board  # no select of everyone on the board
    answer = fay.post(f"/m/{m.code}/role", {"person": ids[4], "role": "facilitator", "back": "people"}, htmx=False)
    assert answer.status_code == 303 and answer.headers["Location"] == f"/m/{m.code}/people"
    assert Participant.get(user=ids[4], meeting=m.id).role == "facilitator"
    page = fay.get(f"/m/{m.code}/people").text
    assert page.count("Take back") == 1 and page.count("Step down") == 1  # two leads now
    # With htmx, the same button goes back to the people page too.
    answer = fay.post(f"/m/{m.code}/role", {"person": ids[4], "role": "participant", "back": "people"})
    assert answer.headers.get("HX-Redirect") == f"/m/{m.code}/people"


def test_a_crowd_card_links_to_its_own_note_page_and_the_discussed_topic_keeps_its_form(crowd):
    m, fay, ann, bob, ids = crowd
    for title in ("Coffee", "Tea"):
        fay.post(f"/m/{m.code}/topics", {"title": title})
    coffee, tea = (Topic.get(title=t).id for t in ("Coffee", "Tea"))
    fay.post(f"/m/{m.code}/topics/{tea}/move", {"status": "discussing", "expected": "to_discuss"})
    page = ann.get(f"/m/{m.code}").text
    assert f'id="note-text-{tea}"' in page and f'id="note-text-{coffee}"' not in page
    assert f'href="/m/{m.code}/topics/{coffee}/notes/new"' in page
    form = ann.get(f"/m/{m.code}/topics/{coffee}/notes/new")
    assert form.status_code == 200 and f'action="/m/{m.code}/topics/{coffee}/notes"' in form.text
    assert "hx-post" not in form.text.split('id="note-text')[0].rsplit("<form", 1)[1]  # a plain form: back to the board
    saved = ann.post(f"/m/{m.code}/topics/{coffee}/notes", {"kind": "action", "text": "Descale it", "owner": "Crowd 0003"},
                     htmx=False)
    assert saved.status_code == 303 and saved.headers["Location"].endswith(f"#topic-{coffee}")
    page = ann.get(f"/m/{m.code}").text
    assert "Descale it" in page and "Crowd 0003" in page  # the typed owner is the participant of that name
    assert ann.get(f"/m/{m.code}/topics/999999/notes/new").status_code == 404


def test_presence_in_a_crowd_reaches_screens_as_counts_and_a_join_as_the_short_section(crowd, app):
    m, fay, ann, bob, ids = crowd
    with app.test_request_context():
        state = load_board(m.id)
        present = {ids[0], ids[1], m.facilitator_id}
        came = build_push(Change(changes.PRESENCE_CHANGED, m.id, None, affected_user_ids=(ids[0], ids[1])), state, present)
        html = came.frame_for(Viewer(ann_id(m), False, True))
        assert 'id="participants-count"' in html and "3 here" in html and "person-" not in html
        assert 'id="participants"' not in html  # just the counts
        # A facilitator coming or going changes the named rows: the (short) section again.
        fac = build_push(Change(changes.PRESENCE_CHANGED, m.id, None, affected_user_ids=(m.facilitator_id,)), state, present)
        html = fac.frame_for(Viewer(ann_id(m), False, True))
        assert 'id="participants"' in html and len(ROWS.findall(html)) == 1 and len(html) < 3000


def ann_id(m: Meeting) -> int:
    return Participant.get(meeting=m.id, name="Ann").user_id


def test_a_plain_members_whole_board_is_rendered_once_and_is_exactly_their_own(crowd, app):
    """Everyone's first frame from WholeBoards is what full_board renders for them alone (votes, notes, thumbs,
    anonymous and "done voting" included)."""
    m, fay, ann, bob, ids = crowd
    fay.post(f"/m/{m.code}/topics", {"title": "Coffee"})
    bob.post(f"/m/{m.code}/topics", {"title": "Tea"})
    coffee = Topic.get(title="Coffee").id
    ann.post(f"/m/{m.code}/topics/{coffee}/vote")
    bob.post(f"/m/{m.code}/topics/{coffee}/notes", {"kind": "action", "text": "Buy beans", "owner": "Crowd 0002"})
    with app.test_request_context():
        state = load_board(m.id)
        boards, present = WholeBoards(state), {ids[0], ids[5]}
        viewers = [Viewer(p.user_id, p.role == "facilitator", True) for p in state.participants]
        own = {v.user_id: boards.own_regions_of(v) for v in viewers}
        assert {uid for uid, regions in own.items() if regions} == {m.facilitator_id, ann_id(m), bob_id(m), ids[2]}
        assert own[ann_id(m)] == ["_action_bar.html", "_columns.html"]  # her dots and vote
        assert own[bob_id(m)] == ["_columns.html"] and own[ids[2]] == ["_actions.html"]  # his topic and note; a Done
        for viewer in viewers + [Viewer(None, screen="room")]:
            assert boards.render(viewer, present) == full_board(state, viewer, present), viewer
        assert len(boards._plain) == len(BOARD_REGIONS)  # each region rendered once for the plain members


def bob_id(m: Meeting) -> int:
    return Participant.get(meeting=m.id, name="Bob").user_id


def test_a_whole_board_push_renders_a_plain_members_board_once(crowd, app, monkeypatch):
    m, fay, ann, bob, ids = crowd
    calls = []
    import leancoffee.live.boards as boards

    real = boards.oob
    monkeypatch.setattr(boards, "oob", lambda template, *a, **k: calls.append(template) or real(template, *a, **k))
    with app.test_request_context():
        push: Push = build_push(Change(changes.PHASE_CHANGED, m.id, 2), load_board(m.id), set())
        frames = {push.frame_for(Viewer(uid, False, True)) for uid in ids}
    assert len(frames) == 1 and sorted(c for c in calls if c in BOARD_REGIONS) == sorted(BOARD_REGIONS)


def test_leaving_a_crowd_of_51_brings_every_row_back_and_joining_it_folds_them(meeting, tmp_path, app, person):
    m, fay, ann, bob = meeting
    seed_people(tmp_path / "test.db", m.code, CROWD_SIZE - 2)  # 51 with Fay, Ann and Bob
    with app.test_request_context():
        state = load_board(m.id)
        assert state.crowd
    bob.post(f"/m/{m.code}/leave", {"confirmed": "1"})
    with app.test_request_context():
        state = load_board(m.id)
        push = build_push(Change(changes.PARTICIPANT_LEFT, m.id, state.version, actor_id=bob_id(m)), state, set())
        html = push.frame_for(Viewer(ann_id(m), False, True))
    assert 'id="participants-list"' in html and len(ROWS.findall(html)) == CROWD_SIZE
    newcomer = person()
    newcomer.post(f"/m/{m.code}/join", {"name": "Nia"}, htmx=False)
    nia = Participant.get(meeting=m.id, name="Nia").user_id
    with app.test_request_context():
        state = load_board(m.id)
        push = build_push(Change(changes.PARTICIPANT_JOINED, m.id, state.version, actor_id=nia), state, set())
        html = push.frame_for(Viewer(ann_id(m), False, True))
    assert 'id="participants-list"' not in html and "See everyone" in html and "Nia" not in html


def test_the_people_and_note_pages_speak_german(crowd):
    m, fay, ann, bob, ids = crowd
    ann.client.set_cookie("lang", "de")
    people = ann.get(f"/m/{m.code}/people").text
    assert "Alle in diesem Meeting" in people and "Everyone in this meeting" not in people
    board = ann.get(f"/m/{m.code}").text
    assert "Alle ansehen" in board and "Moderiert von" in board
    fay.post(f"/m/{m.code}/topics", {"title": "Coffee"})
    form = ann.get(f"/m/{m.code}/topics/{Topic.get(title='Coffee').id}/notes/new").text
    assert "Erkenntnis oder Aufgabe zu „Coffee“ hinzufügen" in form
