"""Running a Lean Coffee: phases, hidden voting, discuss next, merges, the timer and thumbs rounds."""

from datetime import timedelta

import pytest

from leancoffee.live.fanout import build_push, full_board
from leancoffee.models import (
    DISCUSSED,
    DISCUSSING,
    TO_DISCUSS,
    Meeting,
    ThumbsRound,
    ThumbsVote,
    Topic,
    Vote,
    utcnow,
)
from leancoffee.services import facilitation, meetings, merging, topics, votes
from leancoffee.services.board import load_board
from leancoffee.services.errors import Conflict, Forbidden, Invalid
from leancoffee.services.timebox import format_clock, parse_pattern, timebox_seconds, timer_view
from leancoffee.services.viewing import Viewer


@pytest.fixture
def lc(app):
    """Fay facilitates a 3-dot meeting with hidden voting and 3s/2s timeboxes; Ann and Bob joined."""
    with app.test_request_context():
        fay, ann, bob = (meetings.create_user(n) for n in ("Fay", "Ann", "Bob"))
        m = meetings.create_meeting(fay, "Coffee", 3, hidden_voting=True, timebox_pattern="3s 2s")
        meetings.join_meeting(ann, m.code, "Ann")
        meetings.join_meeting(bob, m.code, "Bob")
        yield m, fay, ann, bob


def add(user, m, *titles):
    return [topics.add_topic(user, m.code, t).topic_id for t in titles]


def reload(m):
    return Meeting.get_by_id(m.id)


# --- timebox arithmetic (pure) ---

@pytest.mark.parametrize("text, seconds", [("8m 4m 2m", [480, 240, 120]), ("30s, 15s", [30, 15]), ("8 → 4", [480, 240]),
                                           ("1.5m", [90])])
def test_timebox_patterns_parse(text, seconds):
    assert parse_pattern(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "0s", "121m", "1m " * 11, "9" * 400, "9" * 309 + "s", "1" * 4400,
                                  "\U0001d7d7" * 400, "\u0669m", "1e3s", "inf", "nan", "1." + "0" * 50])
def test_bad_timebox_patterns_are_refused(text):
    with pytest.raises(Invalid):
        parse_pattern(text)


def test_timeboxes_follow_the_pattern_then_repeat_the_last():
    assert [timebox_seconds("8m 4m 2m", n) for n in (1, 2, 3, 4, 5)] == [480, 240, 120, 120, 120]


def test_clock_rounds_up_so_zero_means_time_is_up():
    assert (format_clock(0), format_clock(0.2), format_clock(59.5), format_clock(480)) == ("0:00", "0:01", "1:00", "8:00")


def test_timer_view_pause_and_resume_keep_the_remaining_time(lc):
    m, fay, ann, _ = lc
    add(ann, m, "A")
    facilitation.discuss_next(fay, m.code)
    row = reload(m)
    start = utcnow()
    assert 2.5 < timer_view(row, start).remaining <= 3
    facilitation.control_timer(fay, m.code, "pause")
    paused = reload(m)
    later = utcnow() + timedelta(seconds=30)
    view = timer_view(paused, later)
    assert view.state == "paused" and 2 < view.remaining <= 3  # time does not run while paused
    facilitation.control_timer(fay, m.code, "resume")
    resumed = reload(m)
    assert resumed.timer_state == "running"
    assert 2 < (resumed.timer_ends_at - utcnow()).total_seconds() <= 3
    facilitation.control_timer(fay, m.code, "extend")
    assert 62 < (reload(m).timer_ends_at - utcnow()).total_seconds() <= 63
    facilitation.control_timer(fay, m.code, "stop")
    assert reload(m).timer_state == "idle"
    with pytest.raises(Conflict):
        facilitation.control_timer(fay, m.code, "pause")


def test_a_reconnecting_screen_gets_the_same_end_time(lc):
    m, fay, ann, bob = lc
    add(ann, m, "A")
    facilitation.discuss_next(fay, m.code)
    ends = reload(m).timer_ends_at
    first = full_board(load_board(m.id), Viewer(ann.id, False, True), set())
    again = full_board(load_board(m.id), Viewer(bob.id, False, True), set())
    from leancoffee.services.timebox import epoch_ms
    marker = f'data-ends-at="{epoch_ms(ends)}"'
    assert marker in first and marker in again


# --- phases ---

def test_phases_go_one_step_at_a_time_and_can_step_back(lc):
    m, fay, ann, _ = lc
    with pytest.raises(Conflict):
        facilitation.change_phase(fay, m.code, "discussing")
    with pytest.raises(Forbidden):
        facilitation.change_phase(ann, m.code, "voting")
    facilitation.change_phase(fay, m.code, "voting")
    assert (reload(m).phase, reload(m).status) == ("voting", "in_progress") and reload(m).started_at
    facilitation.change_phase(fay, m.code, "collecting")
    assert reload(m).phase == "collecting"


def test_stepping_back_from_discussing_undoes_the_discussion(lc):
    m, fay, ann, _ = lc
    (tid,) = add(ann, m, "A")
    facilitation.discuss_next(fay, m.code)
    assert Topic.get_by_id(tid).status == DISCUSSING and reload(m).timer_state == "running"
    facilitation.change_phase(fay, m.code, "voting")
    assert Topic.get_by_id(tid).status == TO_DISCUSS and reload(m).timer_state == "idle"
    votes.cast_vote(ann, m.code, tid)  # voting is open again


def test_done_completes_the_meeting_and_closes_the_current_topic(lc):
    m, fay, ann, _ = lc
    (tid,) = add(ann, m, "A")
    facilitation.discuss_next(fay, m.code)
    facilitation.change_phase(fay, m.code, "done")
    row = reload(m)
    assert (row.phase, row.status) == ("done", "completed") and row.ended_at
    assert Topic.get_by_id(tid).status == DISCUSSED
    with pytest.raises(Conflict):
        topics.add_topic(ann, m.code, "Late")


def test_votes_close_once_discussion_starts(lc):
    m, fay, ann, _ = lc
    a, b = add(ann, m, "A", "B")
    facilitation.discuss_next(fay, m.code)
    with pytest.raises(Conflict, match="closed"):
        votes.cast_vote(ann, m.code, b)


# --- hidden voting ---

def test_hidden_counts_never_reach_a_participant(lc):
    m, fay, ann, bob = lc
    a, b = add(ann, m, "Alpha", "Beta")
    facilitation.change_phase(fay, m.code, "voting")
    change = votes.cast_vote(bob, m.code, b)
    state = load_board(m.id)
    push = build_push(change, state, set())
    ann_frame = push.frame_for(Viewer(ann.id, False, True))
    bob_frame = push.frame_for(Viewer(bob.id, False, True))
    assert ann_frame == ""  # nothing about Bob's dot reaches Ann
    assert "Remove vote" in bob_frame and 'id="votes-' not in bob_frame and "list-to_discuss" not in bob_frame
    for viewer in (Viewer(ann.id, False, True), Viewer(fay.id, True, True)):
        page = full_board(state, viewer, set())
        assert "votes hidden" in page and "<strong>1</strong>" not in page
        assert page.index("Alpha") < page.index("Beta")  # order by age, not by votes
    assert [t.title for t in state.column(TO_DISCUSS)] == ["Alpha", "Beta"]


def test_counts_appear_for_everyone_when_voting_closes(lc):
    m, fay, ann, bob = lc
    a, b, c = add(ann, m, "Alpha", "Beta", "Gamma")
    facilitation.change_phase(fay, m.code, "voting")
    for user, tid in ((ann, b), (bob, b), (ann, c), (bob, c), (fay, a)):
        votes.cast_vote(user, m.code, tid)
    change = facilitation.change_phase(fay, m.code, "discussing")
    state = load_board(m.id)
    frame = build_push(change, state, set()).frame_for(Viewer(ann.id, False, True))
    assert "votes hidden" not in frame and frame.count("tied 1st") == 2 and "3rd" in frame
    assert [t.title for t in state.column(TO_DISCUSS)] == ["Beta", "Gamma", "Alpha"]


# --- discuss next, merge ---

def test_discuss_next_takes_the_top_topic_and_retires_the_current_one(lc):
    m, fay, ann, bob = lc
    a, b = add(ann, m, "A", "B")
    votes.cast_vote(bob, m.code, b)
    facilitation.discuss_next(fay, m.code)
    assert Topic.get_by_id(b).status == DISCUSSING and reload(m).phase == "discussing"
    facilitation.discuss_next(fay, m.code)
    assert (Topic.get_by_id(b).status, Topic.get_by_id(a).status) == (DISCUSSED, DISCUSSING)
    assert Topic.select().where(Topic.status == DISCUSSING).count() == 1
    with pytest.raises(Conflict, match="no topics left"):
        facilitation.discuss_next(fay, m.code)
    with pytest.raises(Forbidden):
        facilitation.discuss_next(ann, m.code)


def test_moving_a_topic_into_discussing_retires_the_current_one(lc):
    m, fay, ann, _ = lc
    a, b = add(ann, m, "A", "B")
    topics.move_topic(fay, m.code, a, DISCUSSING)
    topics.move_topic(fay, m.code, b, DISCUSSING)
    assert (Topic.get_by_id(a).status, Topic.get_by_id(b).status) == (DISCUSSED, DISCUSSING)


def test_merge_moves_votes_and_returns_the_double_dot(lc):
    m, fay, ann, bob = lc
    dup, keep = add(ann, m, "Remote work", "Working remotely")
    votes.cast_vote(ann, m.code, dup)
    votes.cast_vote(ann, m.code, keep)  # Ann voted for both
    votes.cast_vote(bob, m.code, dup)   # Bob only for the duplicate
    change = merging.merge_topics(fay, m.code, dup, keep)
    assert Topic.get_or_none(Topic.id == dup) is None
    assert sorted(v.user.name for v in Vote.select().where(Vote.topic == keep)) == ["Ann", "Bob"]
    assert Vote.select().where(Vote.user == ann.id).count() == 1  # her extra dot came back
    assert set(change.affected_user_ids) == {ann.id, bob.id}
    with pytest.raises(Forbidden):
        merging.merge_topics(ann, m.code, keep, keep)
    with pytest.raises(Invalid):
        merging.merge_topics(fay, m.code, keep, keep)


# --- thumbs ---

def expire(m):
    """Make the running timebox end now (what the clock would do in a few seconds)."""
    Meeting.update(timer_ends_at=utcnow() - timedelta(seconds=1)).where(Meeting.id == m.id).execute()


def test_thumbs_open_only_when_time_is_up_and_count_once_per_person(lc):
    m, fay, ann, bob = lc
    (tid,) = add(ann, m, "A")
    facilitation.discuss_next(fay, m.code)
    with pytest.raises(Conflict, match="runs out"):
        facilitation.cast_thumb(ann, m.code, "up")
    expire(m)
    facilitation.cast_thumb(ann, m.code, "up")
    facilitation.cast_thumb(ann, m.code, "down")  # a change of mind, not a second thumb
    facilitation.cast_thumb(bob, m.code, "up")
    assert facilitation.thumbs_counts(tid, 1) == {"up": 1, "neutral": 0, "down": 1}
    assert ThumbsVote.select().count() == 2
    with pytest.raises(Invalid):
        facilitation.cast_thumb(bob, m.code, "sideways")


def test_continue_starts_the_next_shorter_timebox_and_records_the_round(lc):
    m, fay, ann, bob = lc
    (tid,) = add(ann, m, "A")
    facilitation.discuss_next(fay, m.code)
    with pytest.raises(Conflict):
        facilitation.decide_round(fay, m.code, "continue")
    expire(m)
    facilitation.cast_thumb(ann, m.code, "up")
    facilitation.decide_round(fay, m.code, "continue")
    row = reload(m)
    assert row.timer_round == 2 and 1.5 < (row.timer_ends_at - utcnow()).total_seconds() <= 2
    expire(m)
    facilitation.cast_thumb(bob, m.code, "down")
    facilitation.decide_round(fay, m.code, "move_on")
    rounds = list(ThumbsRound.select().order_by(ThumbsRound.round))
    assert [(r.round, r.up, r.down, r.outcome, r.timebox_seconds) for r in rounds] == [
        (1, 1, 0, "continue", 3), (2, 0, 1, "move_on", 2)]
    assert Topic.get_by_id(tid).status == DISCUSSED and reload(m).timer_state == "idle"


def test_time_up_push_shows_the_prompt_to_everyone_and_decisions_to_the_facilitator(lc):
    from leancoffee.services import changes

    m, fay, ann, _ = lc
    add(ann, m, "A")
    facilitation.discuss_next(fay, m.code)
    expire(m)
    push = build_push(changes.Change(changes.TIME_UP, m.id, None), load_board(m.id), set())
    ann_frame = push.frame_for(Viewer(ann.id, False, True))
    fay_frame = push.frame_for(Viewer(fay.id, True, True))
    assert "Time is up" in ann_frame and "👍 Yes" in ann_frame and "Your thumb" in ann_frame
    # The decision is the facilitator's alone, above their own thumb.
    assert "Continue for 2 s" in fay_frame and "Continue for" not in ann_frame and "Move on" not in ann_frame
    assert fay_frame.index("Move on") < fay_frame.index("Your thumb") < fay_frame.index("👍 Yes")
