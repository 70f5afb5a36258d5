"""Issue 21 (2), voting progress: "I'm done voting" and the facilitators' counts; hidden voting shows only the done count,
and nothing of dots placed reaches anyone but the voter. Services, HTTP (without JavaScript too) and fragments."""

import pytest

from leancoffee.live.fanout import build_push, full_board
from leancoffee.live.progress_fanout import progress_throttled
from leancoffee.models import Meeting, Participant
from leancoffee.services import changes, facilitation, meetings, progress, roles, topics, votes
from leancoffee.services.board import load_board, load_votes
from leancoffee.services.errors import Conflict, Forbidden, Invalid
from leancoffee.services.progress import VotingProgress
from leancoffee.services.viewing import Viewer


@pytest.fixture
def voting(app):
    """Fay facilitates a 2-dot meeting that Ann and Bob joined; two topics; voting is open."""
    with app.test_request_context():
        fay, ann, bob = (meetings.create_user(n) for n in ("Fay", "Ann", "Bob"))
        m = meetings.create_meeting(fay, "Coffee", 2)
        meetings.join_meeting(ann, m.code, "Ann")
        meetings.join_meeting(bob, m.code, "Bob")
        ids = [topics.add_topic(ann, m.code, t).topic_id for t in ("Alpha", "Beta")]
        facilitation.change_phase(fay, m.code, "voting", expected="collecting")
        yield m, fay, ann, bob, ids


def hide_votes(m, fay):
    facilitation.update_settings(fay, m.code, True, "8m")


def done_of(user, m) -> bool:
    return Participant.get((Participant.meeting == m.id) & (Participant.user == user.id)).done_voting


def frames(push, m, fay, ann, bob):
    """What Fay (facilitator), Ann, Bob and the room screen get from a Push."""
    return {name: push.frame_for(viewer) for name, viewer in (
        ("fay", Viewer(fay.id, True, True)), ("ann", Viewer(ann.id, False, True)), ("bob", Viewer(bob.id, False, True)),
        ("room", Viewer(None, screen="room")))}


def test_done_voting_is_said_and_taken_back_only_while_voting(voting):
    m, fay, ann, bob, _ = voting
    progress.set_done_voting(ann, m.code, "1")
    progress.set_done_voting(ann, m.code, "1")  # said twice is said once
    assert done_of(ann, m) and load_board(m.id).progress.done == 1
    progress.set_done_voting(ann, m.code, "0")
    assert not done_of(ann, m)
    for bad in ("yes", "", None, "2"):
        with pytest.raises(Invalid):
            progress.set_done_voting(ann, m.code, bad)
    facilitation.change_phase(fay, m.code, "collecting", expected="voting")
    with pytest.raises(Conflict, match="voting phase"):
        progress.set_done_voting(ann, m.code, "1")
    assert not done_of(ann, m)


def test_only_members_say_they_are_done_and_not_in_a_finished_meeting(voting, app):
    m, fay, ann, _, _ = voting
    stranger = meetings.create_user("Sam")
    with pytest.raises(Forbidden):
        progress.set_done_voting(stranger, m.code, "1")
    meetings.change_meeting_status(fay, m.code, "completed", expected="in_progress")
    with pytest.raises(Conflict, match="completed"):
        progress.set_done_voting(ann, m.code, "1")


def test_progress_counts_done_and_all_some_or_none_of_the_dots(voting):
    m, fay, ann, bob, (alpha, beta) = voting
    votes.cast_vote(ann, m.code, alpha)
    votes.cast_vote(ann, m.code, beta)
    votes.cast_vote(bob, m.code, alpha)
    progress.set_done_voting(ann, m.code, "1")
    assert load_board(m.id).progress == VotingProgress(people=3, done=1, all_placed=1, some_placed=1, none_placed=1)
    meetings.leave_meeting(bob, m.code)  # people are those in the meeting now
    assert load_board(m.id).progress == VotingProgress(people=2, done=1, all_placed=1, some_placed=0, none_placed=1)


def test_under_hidden_voting_no_dot_count_is_even_read(voting):
    m, fay, ann, _, (alpha, _) = voting
    hide_votes(m, fay)
    votes.cast_vote(ann, m.code, alpha)
    progress.set_done_voting(ann, m.code, "1")
    state = load_board(m.id)
    assert state.progress == VotingProgress(people=3, done=1) and not state.progress.dots_shown
    assert load_votes(m.id, ann.id).progress is None


def test_done_voting_under_hidden_voting_leaves_the_version_alone(voting):
    m, fay, ann, _, _ = voting
    hide_votes(m, fay)
    before = Meeting.get_by_id(m.id).version
    change = progress.set_done_voting(ann, m.code, "1")
    assert change.version is None and Meeting.get_by_id(m.id).version == before
    facilitation.update_settings(fay, m.code, False, "8m")
    assert progress.set_done_voting(ann, m.code, "0").version == before + 2  # public again: a version like any change


def test_opening_voting_again_after_collecting_clears_done_but_going_back_from_discussing_keeps_it(voting):
    m, fay, ann, bob, _ = voting
    progress.set_done_voting(ann, m.code, "1")
    facilitation.discuss_next(fay, m.code, expected="none")
    facilitation.change_phase(fay, m.code, "voting", expected="discussing")
    assert done_of(ann, m)  # closing voting by mistake and stepping back changes nobody's word
    facilitation.change_phase(fay, m.code, "collecting", expected="voting")
    facilitation.change_phase(fay, m.code, "voting", expected="collecting")
    assert not done_of(ann, m)  # new topics may have come in: nobody is done yet


# --- fragments: who sees what ---

def test_done_voting_reaches_the_person_and_the_facilitators_only(voting):
    m, fay, ann, bob, (alpha, _) = voting
    votes.cast_vote(bob, m.code, alpha)
    change = progress.set_done_voting(ann, m.code, "1")
    got = frames(build_push(change, load_board(m.id), set()), m, fay, ann, bob)
    assert "✓ Done voting" in got["ann"] and "Not done yet" in got["ann"] and 'id="voting-progress"' not in got["ann"]
    assert "<strong>1</strong> of 3 people done voting" in got["fay"] and "Some: <strong>1</strong>" in got["fay"]
    assert got["bob"] == "" and got["room"] == ""  # no frame at all, and the room screen shows no progress


def test_a_public_vote_updates_the_facilitators_progress(voting):
    m, fay, ann, bob, (alpha, _) = voting
    change = votes.cast_vote(ann, m.code, alpha)
    got = frames(build_push(change, load_votes(m.id, ann.id, change.meeting, change.actor_dots), set()), m, fay, ann, bob)
    assert "Some: <strong>1</strong>" in got["fay"] and "None yet: <strong>2</strong>" in got["fay"]
    assert 'id="voting-progress"' not in got["bob"] and 'id="voting-progress"' not in got["ann"]


def test_under_hidden_voting_nothing_of_a_vote_or_done_reaches_the_facilitators_at_once(voting):
    m, fay, ann, bob, (alpha, _) = voting
    hide_votes(m, fay)
    vote = votes.cast_vote(ann, m.code, alpha)
    got = frames(build_push(vote, load_votes(m.id, ann.id), set()), m, fay, ann, bob)
    assert got["fay"] == got["bob"] == got["room"] == ""  # not even an empty frame: dots placed are hidden
    done = progress.set_done_voting(ann, m.code, "1")
    state = load_board(m.id)
    got = frames(build_push(done, state, set()), m, fay, ann, bob)
    assert "✓ Done voting" in got["ann"] and got["fay"] == got["bob"] == got["room"] == ""
    assert progress_throttled(done, state)  # the count goes to facilitators through the hub's Throttle
    due = frames(build_push(changes.Change(changes.VOTING_PROGRESS, m.id, None), state, set()), m, fay, ann, bob)
    assert "<strong>1</strong> of 3 people done voting" in due["fay"] and "All dots placed" not in due["fay"]
    assert "Hidden voting: nobody sees who placed their dots." in due["fay"]
    assert due["ann"] == due["bob"] == due["room"] == ""


def test_a_co_facilitator_sees_the_progress_and_a_participant_never(voting):
    m, fay, ann, bob, _ = voting
    roles.set_role(fay, m.code, Participant.get((Participant.meeting == m.id) & (Participant.user == bob.id)).id,
                   "facilitator")
    state = load_board(m.id)
    assert 'id="voting-progress-heading"' in full_board(state, Viewer(bob.id, True, True), set())
    assert 'id="voting-progress-heading"' not in full_board(state, Viewer(ann.id, False, True), set())
    assert "done voting" not in full_board(state, Viewer(None, screen="room"), set())


def test_the_button_shows_to_members_while_voting_only(voting):
    m, fay, ann, _, _ = voting
    state = load_board(m.id)
    assert "I'm done voting" in full_board(state, Viewer(ann.id, False, True), set())
    facilitation.discuss_next(fay, m.code, expected="none")
    assert "done voting" not in full_board(load_board(m.id), Viewer(ann.id, False, True), set())


# --- over HTTP ---

def test_done_voting_works_as_a_plain_form_and_answers_htmx(meeting):
    m, fay, ann, bob = meeting
    board = f"/m/{m.code}"
    fay.post(f"{board}/topics", {"title": "Topic"})
    refused = ann.post(f"{board}/done-voting", {"done": "1"}, htmx=False)
    assert refused.status_code == 409 and "voting phase" in refused.text
    fay.post(f"{board}/phase", {"phase": "voting", "expected": "collecting"})
    page = ann.get(board).text
    assert f'action="/m/{m.code}/done-voting"' in page and "I'm done voting" in page
    said = ann.post(f"{board}/done-voting", {"done": "1"}, htmx=False)
    assert said.status_code == 303 and said.headers["Location"] == board
    assert "✓ Done voting" in ann.get(board).text
    assert "<strong>1</strong> of 3 people done voting" in fay.get(board).text
    assert "done voting</p>" not in bob.get(board).text
    answered = ann.post(f"{board}/done-voting", {"done": "0"})  # htmx, no live socket: the fragment comes back
    assert answered.status_code == 200 and "I'm done voting" in answered.text
    assert ann.post(f"{board}/done-voting", {"done": "maybe"}).status_code == 422
    assert ann.post(f"{board}/done-voting", {"done": "1"}, token=False).status_code in (400, 403)
