"""Issue 21 (1), time for the whole meeting: collecting and voting timeboxes on the shared timer, the planned length's pace;
services, HTTP (without JavaScript too) and the fragments each screen gets."""

from datetime import timedelta

import pytest

from leancoffee.live.fanout import build_push, full_board
from leancoffee.models import DISCUSSED, Meeting, Topic, utcnow
from leancoffee.services import changes, clock, facilitation, meetings, topics
from leancoffee.services.board import load_board
from leancoffee.services.errors import Conflict, Invalid
from leancoffee.services.viewing import Viewer
from tests.helpers import board_expected, form_expected


@pytest.fixture
def timed(app):
    """Fay facilitates a 3-dot meeting (timeboxes 8m 4m 2m) that Ann joined: collecting 5m, voting 3m, planned 60 min."""
    with app.test_request_context():
        fay, ann = meetings.create_user("Fay"), meetings.create_user("Ann")
        m = meetings.create_meeting(fay, "Timed coffee", 3)
        meetings.join_meeting(ann, m.code, "Ann")
        facilitation.update_settings(fay, m.code, False, "8m 4m 2m", collecting="5m", voting="3m", planned="60")
        yield m, fay, ann


def reload(m):
    return Meeting.get_by_id(m.id)


def expire(m):
    """Make the running timebox end now (what the clock would do in a few seconds)."""
    Meeting.update(timer_ends_at=utcnow() - timedelta(seconds=1)).where(Meeting.id == m.id).execute()


def expected_round(m):
    return load_board(m.id).expected("round")


# --- settings ---

@pytest.mark.parametrize("text, seconds", [("5m", 300), ("90s", 90), ("2", 120), (" 1.5m ", 90), ("", None), ("  ", None)])
def test_a_phase_timebox_is_one_length_or_none(text, seconds):
    assert clock.parse_timebox(text, "Collecting timebox") == seconds


@pytest.mark.parametrize("text, message", [
    ("5m 2m", "one length"), ("soon", "Voting timebox: “soon” is not a duration"), ("0s", "between 1 second and 120 minutes"),
    ("121m", "between"), ("5x", "not a duration")])
def test_a_bad_phase_timebox_is_refused_with_its_name(text, message):
    with pytest.raises(Invalid, match=message):
        clock.parse_timebox(text, "Voting timebox")


@pytest.mark.parametrize("planned", ["0", "601", "sixty", "1.5", "-5"])
def test_a_bad_planned_length_is_refused(planned):
    with pytest.raises(Invalid, match="Planned length"):
        clock.clock_settings(planned=planned)


def test_settings_store_the_clock_and_a_form_without_its_fields_leaves_it(timed):
    m, fay, _ = timed
    row = reload(m)
    assert (row.collecting_seconds, row.voting_seconds, row.planned_minutes) == (300, 180, 60)
    facilitation.update_settings(fay, m.code, True, "8m")  # an older form: the clock stays as it was
    assert (reload(m).collecting_seconds, reload(m).planned_minutes) == (300, 60)
    facilitation.update_settings(fay, m.code, False, "8m", collecting="", voting="90s", planned="")
    row = reload(m)
    assert (row.collecting_seconds, row.voting_seconds, row.planned_minutes) == (None, 90, None)
    with pytest.raises(Invalid):
        facilitation.update_settings(fay, m.code, True, "8m", collecting="forever")
    assert reload(m).hidden_voting is False  # a refused form changes nothing


# --- the collecting and voting timeboxes ---

def test_starting_the_collecting_timebox_starts_the_meeting_and_time_up_moves_nothing(timed):
    m, fay, ann = timed
    assert reload(m).status == "planned" and load_board(m.id).phase_timer_shown
    facilitation.control_timer(fay, m.code, "start", expected=expected_round(m))
    row = reload(m)
    assert (row.timer_state, row.timer_round, row.status, row.phase) == ("running", 0, "in_progress", "collecting")
    assert row.started_at is not None and 299 < (row.timer_ends_at - utcnow()).total_seconds() <= 300
    expire(m)
    state = load_board(m.id)
    assert state.timer.expired and state.phase == "collecting" and reload(m).phase == "collecting"
    topics.add_topic(ann, m.code, "Still writing")  # time is up, and people may still add topics
    facilitation.control_timer(fay, m.code, "extend", expected=expected_round(m))
    assert 59 < (reload(m).timer_ends_at - utcnow()).total_seconds() <= 60


def test_the_phase_timer_pauses_resumes_and_stops_like_a_topics(timed):
    m, fay, _ = timed
    at = expected_round(m)
    assert at == "collecting-timebox"
    for action in ("start", "pause", "resume", "stop"):
        facilitation.control_timer(fay, m.code, action, expected=at)
    assert reload(m).timer_state == "idle"
    with pytest.raises(Conflict, match="not running"):
        facilitation.control_timer(fay, m.code, "stop", expected=at)
    with pytest.raises(Invalid):
        facilitation.control_timer(fay, m.code, "rewind", expected=at)


def test_a_phase_without_a_timebox_has_none_to_start(timed):
    m, fay, _ = timed
    facilitation.update_settings(fay, m.code, False, "8m", collecting="")
    assert not load_board(m.id).phase_timer_shown
    with pytest.raises(Conflict, match="no timebox"):
        facilitation.control_timer(fay, m.code, "start", expected=expected_round(m))
    assert reload(m).timer_state == "idle" and reload(m).status == "planned"


def test_a_timer_form_from_the_last_phase_is_refused(timed):
    m, fay, _ = timed
    stale = expected_round(m)  # the collecting timebox's Start, pressed once voting is open
    facilitation.change_phase(fay, m.code, "voting", expected="collecting")
    before = reload(m).timer_ends_at
    with pytest.raises(Conflict, match="“Voting” now"):
        facilitation.control_timer(fay, m.code, "stop", expected=stale)
    assert reload(m).timer_ends_at == before and reload(m).timer_state == "running"


def test_opening_voting_ends_collecting_and_starts_the_voting_timebox(timed):
    m, fay, ann = timed
    facilitation.control_timer(fay, m.code, "start", expected=expected_round(m))
    facilitation.change_phase(fay, m.code, "voting", expected="collecting")
    row = reload(m)
    assert (row.timer_state, row.timer_round) == ("running", 0)
    assert 179 < (row.timer_ends_at - utcnow()).total_seconds() <= 180
    facilitation.change_phase(fay, m.code, "collecting", expected="voting")  # back: the voting timebox ends, nothing starts
    assert reload(m).timer_state == "idle"
    facilitation.update_settings(fay, m.code, False, "8m", voting="")
    facilitation.change_phase(fay, m.code, "voting", expected="collecting")
    assert reload(m).timer_state == "idle"  # no voting timebox set: none runs


def test_closing_voting_gives_the_timer_to_the_first_topic(timed):
    m, fay, ann = timed
    topics.add_topic(ann, m.code, "First")
    facilitation.change_phase(fay, m.code, "voting", expected="collecting")
    facilitation.discuss_next(fay, m.code, expected="none")
    row = reload(m)
    assert (row.timer_round, row.phase) == (1, "discussing")
    assert 479 < (row.timer_ends_at - utcnow()).total_seconds() <= 480


def test_moving_a_topic_to_discussing_while_voting_takes_the_timer_for_the_topic(timed):
    m, fay, ann = timed
    tid = topics.add_topic(ann, m.code, "Urgent").topic_id
    facilitation.change_phase(fay, m.code, "voting", expected="collecting")
    topics.move_topic(fay, m.code, tid, "discussing", expected="to_discuss")
    state = load_board(m.id)
    assert state.timer.state == "idle" and not state.phase_timer_shown and state.expected("round") == f"topic-{tid}-round-0"


def test_the_status_route_back_to_planned_ends_the_voting_timebox(timed):
    m, fay, _ = timed
    facilitation.change_phase(fay, m.code, "voting", expected="collecting")
    meetings.change_meeting_status(fay, m.code, "planned", expected="in_progress")
    assert (reload(m).phase, reload(m).timer_state) == ("collecting", "idle")


def test_time_up_of_the_collecting_timebox_shows_on_every_screen_and_tells_the_facilitators(timed):
    m, fay, ann = timed
    facilitation.control_timer(fay, m.code, "start", expected=expected_round(m))
    expire(m)
    push = build_push(changes.Change(changes.TIME_UP, m.id, None), load_board(m.id), set())
    ann_frame = push.frame_for(Viewer(ann.id, False, True))
    fay_frame = push.frame_for(Viewer(fay.id, True, True))
    room_frame = push.frame_for(Viewer(None, screen="room"))
    for frame in (ann_frame, fay_frame, room_frame):
        assert "Time is up for collecting topics." in frame and "timer-expired" in frame
    assert "Time is up: the facilitator moves on when the room is ready." in ann_frame
    assert "Time is up: open voting when the room is ready, or add a minute." in fay_frame
    assert "Open voting" in fay_frame and "+1 minute" in fay_frame and "+1 minute" not in ann_frame
    assert "👍 Yes" not in ann_frame  # no thumbs: it is no topic's timebox


# --- the planned length's pace ---

def discussed(m, ann, title, seconds):
    tid = topics.add_topic(ann, m.code, title).topic_id
    Topic.update(status=DISCUSSED, discussed_seconds=seconds, first_discussed_at=utcnow()).where(Topic.id == tid).execute()


def started_minutes_ago(m, minutes):
    Meeting.update(status="in_progress", started_at=utcnow() - timedelta(minutes=minutes)).where(Meeting.id == m.id).execute()


def test_before_the_meeting_starts_the_whole_planned_length_is_left(timed):
    m, _, _ = timed
    pace = load_board(m.id).pace()
    assert pace.started_at is None and pace.left_seconds == 3600 and pace.fits == 7  # 60 min ÷ the first timebox, 8 min
    fay_board = full_board(load_board(m.id), Viewer(m.facilitator_id, True, True), set())
    assert "Topics that still fit: <strong class=\"pace-fits\">7</strong>" in fay_board  # shown before the start too


def test_the_pace_is_the_first_timebox_until_a_topic_was_discussed_then_their_average(timed):
    m, fay, ann = timed
    started_minutes_ago(m, 10)
    pace = load_board(m.id).pace()
    assert (pace.minutes, pace.per_topic_seconds, pace.averaged, pace.fits) == (50, 480, False, 6)
    discussed(m, ann, "Five minutes", 300)
    discussed(m, ann, "Seven minutes", 420)
    discussed(m, ann, "Moved straight to Discussed", 0)  # took no time: not in the average
    pace = load_board(m.id).pace()
    assert (pace.per_topic_seconds, pace.averaged, pace.fits) == (360, True, 8)  # 50 min ÷ 6 min


def test_a_meeting_over_its_planned_length_fits_no_more_topics(timed):
    m, _, _ = timed
    started_minutes_ago(m, 64.5)
    pace = load_board(m.id).pace()
    assert pace.over and pace.minutes == 5 and pace.fits == 0  # 4½ min over shows as 5, as a countdown rounds up
    shown = full_board(load_board(m.id), Viewer(m.facilitator_id, True, True), set())
    assert '<strong class="pace-minutes">5</strong> min <span class="pace-left" hidden>left of</span>' in shown
    assert '<span class="pace-over">over</span> 60 min' in shown and '<strong class="pace-fits">0</strong>' in shown


def test_no_planned_length_no_pace(timed):
    m, fay, _ = timed
    facilitation.update_settings(fay, m.code, False, "8m", planned="")
    assert load_board(m.id).pace() is None


def test_only_the_facilitators_see_the_pace(timed):
    m, fay, ann = timed
    started_minutes_ago(m, 10)
    state = load_board(m.id)
    fay_board = full_board(state, Viewer(fay.id, True, True), set())
    ann_board = full_board(state, Viewer(ann.id, False, True), set())
    room_board = full_board(state, Viewer(None, screen="room"), set())
    assert 'id="pace"' in fay_board and "Topics that still fit: <strong class=\"pace-fits\">6</strong>" in fay_board
    assert '<strong class="pace-minutes">50</strong> min' in fay_board
    assert "Topics that still fit" not in ann_board and "Topics that still fit" not in room_board


# --- over HTTP, with and without JavaScript ---

def test_the_settings_form_and_the_timer_work_as_plain_forms(meeting):
    m, fay, ann, _ = meeting
    board = f"/m/{m.code}"
    saved = fay.post(f"{board}/settings", {"timebox_pattern": "8m", "collecting_timebox": "2m", "voting_timebox": "",
                                           "planned_minutes": "45"}, htmx=False)
    assert saved.status_code == 303 and saved.headers["Location"] == board
    page = fay.get(board).text
    assert 'name="collecting_timebox" value="2m"' in page and 'name="planned_minutes" type="number"' in page
    assert 'value="45"' in page and "<strong>45 min</strong>" in page
    started = fay.post(f"{board}/timer", {"action": "start", "expected": form_expected(page, f"{board}/timer")}, htmx=False)
    assert started.status_code == 303
    page = ann.get(board).text
    assert 'data-phase-timer' in page and 'data-state="running"' in page and "Collecting topics" in page
    assert reload(m).status == "in_progress"
    refused = fay.post(f"{board}/settings", {"timebox_pattern": "8m", "collecting_timebox": "2 hours"}, htmx=False)
    assert refused.status_code == 422 and "Collecting timebox" in refused.text
    assert reload(m).collecting_seconds == 120


def test_a_bad_clock_setting_answers_htmx_with_its_reason(meeting):
    m, fay, _, _ = meeting
    answer = fay.post(f"/m/{m.code}/settings", {"timebox_pattern": "8m", "planned_minutes": "9999"})
    assert answer.status_code == 422 and "Planned length must be from 1 to 600." in answer.text


def test_a_participant_cannot_start_the_phase_timer(meeting):
    m, fay, ann, _ = meeting
    fay.post(f"/m/{m.code}/settings", {"timebox_pattern": "8m", "collecting_timebox": "2m"})
    refused = ann.post(f"/m/{m.code}/timer", {"action": "start", "expected": board_expected(fay, m.code, "timer")})
    assert refused.status_code == 403 and reload(m).timer_state == "idle"


def test_run_again_keeps_the_clock_settings(timed):
    from leancoffee.services import series

    m, fay, _ = timed
    facilitation.change_phase(fay, m.code, "voting", expected="collecting")
    meetings.change_meeting_status(fay, m.code, "completed", expected=reload(m).status)
    _, following = series.run_again(fay, m.code)
    assert (following.collecting_seconds, following.voting_seconds, following.planned_minutes) == (300, 180, 60)
