"""Meeting rules on SQLite and PostgreSQL: a completed meeting is frozen, a topic discussed again keeps its thumbs
rounds apart, and facilitator forms name the state they act on (a press the meeting has moved past is refused)."""

import re
import threading
from datetime import timedelta

import pytest

from leancoffee.db import db
from leancoffee.factory import create_app
from leancoffee.live.fanout import build_push
from leancoffee.models import DISCUSSED, DISCUSSING, TO_DISCUSS, Meeting, ThumbsRound, Topic, utcnow
from leancoffee.services import changes, facilitation, meetings, merging, notes, topics, votes
from leancoffee.services.board import load_board
from leancoffee.services.errors import Conflict
from leancoffee.services.viewing import Viewer
from tests.backends import fresh_postgres_database, need_postgres
from tests.conftest import Person
from tests.helpers import board_expected, page_token

MOVED_ON = "The meeting has moved on since your page was loaded"


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path, monkeypatch):
    """The app on a temporary SQLite file, then on a fresh PostgreSQL database (overrides conftest's)."""
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    monkeypatch.delenv("REDIS_URL", raising=False)
    config = {"TESTING": True, "PRESENCE_GRACE_SECONDS": 0.2, "DB_POOL_SIZE": 8}
    if request.param == "sqlite":
        yield create_app({**config, "DATABASE_URL": f"sqlite:///{tmp_path / 'rules.db'}"})
        return
    need_postgres()
    with fresh_postgres_database() as url:
        yield create_app({**config, "DATABASE_URL": url})
        db.close()
        db.obj.close_all()


@pytest.fixture
def lc(app):
    """At service level: Fay facilitates a 3-dot meeting with 3s/2s/1s timeboxes; Ann and Bob joined."""
    with app.test_request_context():
        fay, ann, bob = (meetings.create_user(n) for n in ("Fay", "Ann", "Bob"))
        m = meetings.create_meeting(fay, "Coffee", 3, timebox_pattern="3s 2s 1s")
        meetings.join_meeting(ann, m.code, "Ann")
        meetings.join_meeting(bob, m.code, "Bob")
        yield m, fay, ann, bob


def expire(m):
    """The running timebox ends now (what the clock would do)."""
    Meeting.update(timer_ends_at=utcnow() - timedelta(seconds=1)).where(Meeting.id == m.id).execute()


def tid_of(title):
    return Topic.get(Topic.title == title).id


def flash(response) -> str:
    """The message in the page's message area."""
    return re.search(r'<div id="flash"[^>]*>(.*?)</div>', response.text, re.S).group(1)


def press(who, m, action, data=None, expected=None):
    """`who` presses a control of their board: its form sends the state it names (or `expected`, read earlier)."""
    expected = board_expected(who, m.code, action) if expected is None else expected
    return who.post(f"/m/{m.code}/{action}", {**(data or {}), "expected": expected})


def snapshot():
    """Every row of every table: what the database holds."""
    return {t: db.execute_sql(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in sorted(db.get_tables())}


# --- 5. Completed means frozen ---

@pytest.mark.parametrize("route", ["status", "phase"])
def test_completing_by_either_route_closes_the_discussion_with_its_time(meeting, route):
    m, fay, ann, _ = meeting
    ann.post(f"/m/{m.code}/topics", {"title": "Hiring"})
    press(fay, m, "phase", {"phase": "voting"})
    press(fay, m, "discuss-next")
    Topic.update(discussion_started_at=utcnow() - timedelta(seconds=90)).where(Topic.title == "Hiring").execute()
    # No button posts status=completed: posted directly, it names the status the page shows, as a form would.
    stale = fay.post(f"/m/{m.code}/status", {"status": "completed", "expected": "planned", "confirmed": "1"})
    assert stale.status_code == 409 and f"{MOVED_ON}: it is in progress now." in flash(stale)
    response = (fay.post(f"/m/{m.code}/status", {"status": "completed", "expected": "in_progress", "confirmed": "1"})
                if route == "status" else press(fay, m, "phase", {"phase": "done", "confirmed": "1"}))
    # The facilitator lands on the summary (htmx 4 follows HX-Redirect).
    assert response.status_code == 200 and response.headers["HX-Redirect"] == f"/m/{m.code}/summary"
    topic, row = Topic.get(Topic.title == "Hiring"), Meeting.get_by_id(m.id)
    assert topic.status == DISCUSSED and 90 <= topic.discussed_seconds < 100 and topic.discussion_started_at is None
    assert (row.status, row.phase, row.timer_state, row.timer_round, row.timer_ends_at) == ("completed", "done", "idle", 0, None)
    assert row.ended_at is not None and re.search(r"1 min 3[01] s", fay.get(f"/m/{m.code}/summary").text)


def test_a_completed_meeting_cannot_be_joined_rejoined_or_left(meeting, person):
    m, fay, ann, bob = meeting
    ann.post(f"/m/{m.code}/leave", {"confirmed": "1"}, htmx=False)
    fay.post(f"/m/{m.code}/status", {"status": "completed", "expected": "planned", "confirmed": "1"})
    before, eve = snapshot(), person()
    response = eve.post(f"/m/{m.code}/join", {"name": "Eve"})
    assert response.status_code == 409 and "This meeting has ended, so it can no longer be joined." in flash(response)
    response = ann.post(f"/m/{m.code}/join", {"name": "Ann"})
    assert response.status_code == 409 and "can no longer be rejoined" in flash(response)
    response = bob.post(f"/m/{m.code}/leave")
    assert response.status_code == 409 and "cannot leave it now" in flash(response)
    assert snapshot() == before  # not even an identity was made for Eve
    for who in (eve, ann):  # the link of a finished meeting shows what it produced, and adds nobody
        page = who.get(f"/m/{m.code}").text
        assert "This meeting has ended: here is what it produced." in page and 'id="join-form"' not in page
    assert snapshot() == before


def test_every_write_to_a_completed_meeting_is_refused_and_changes_nothing(lc):
    m, fay, ann, bob = lc
    tid, other = (topics.add_topic(ann, m.code, t).topic_id for t in ("Hiring", "Budget"))
    votes.cast_vote(ann, m.code, other)
    meetings.leave_meeting(bob, m.code)
    facilitation.discuss_next(fay, m.code)
    expire(m)
    meetings.change_meeting_status(fay, m.code, "completed")
    eve, code = meetings.create_user("Eve"), m.code
    writes = {
        "add topic": lambda: topics.add_topic(ann, code, "Late"), "edit": lambda: topics.edit_topic(ann, code, tid, "New"),
        "delete": lambda: topics.delete_topic(fay, code, tid), "move": lambda: topics.move_topic(fay, code, tid, DISCUSSED),
        "vote": lambda: votes.cast_vote(fay, code, other), "unvote": lambda: votes.remove_vote(ann, code, other),
        "note": lambda: notes.add_note(ann, code, tid, "takeaway", "Late"),
        "settings": lambda: facilitation.update_settings(fay, code, True, "1m"),
        "discuss next": lambda: facilitation.discuss_next(fay, code),
        "timer": lambda: facilitation.control_timer(fay, code, "start"),
        "thumb": lambda: facilitation.cast_thumb(ann, code, "up"),
        "decide": lambda: facilitation.decide_round(fay, code, "continue"),
        "merge": lambda: merging.merge_topics(fay, code, other, tid),
        "complete again": lambda: meetings.change_meeting_status(fay, code, "completed"),
        "phase forward": lambda: facilitation.change_phase(fay, code, "voting"),
        "join": lambda: meetings.join_meeting(eve, code, "Eve"), "rejoin": lambda: meetings.join_meeting(bob, code, "Bob"),
        "leave": lambda: meetings.leave_meeting(ann, code),
    }
    before = snapshot()
    for name, write in writes.items():
        with pytest.raises(Conflict):
            write()
        assert snapshot() == before, name
    # Only the facilitator's reopen changes it, by either route; then it takes writes again.
    facilitation.change_phase(fay, code, "discussing")
    topics.add_topic(ann, code, "Open again")
    facilitation.change_phase(fay, code, "done")
    meetings.change_meeting_status(fay, code, "planned")
    assert (Meeting.get_by_id(m.id).status, Meeting.get_by_id(m.id).phase) == ("planned", "collecting")
    meetings.leave_meeting(ann, code)


# --- 6. Rounds are numbered per topic and continue when a topic is discussed again ---

def hiring_discussed_until_time_is_up(m, fay, ann) -> None:
    """Ann proposes "Hiring", Fay opens voting and discusses it, and its timebox runs out."""
    ann.post(f"/m/{m.code}/topics", {"title": "Hiring"})
    press(fay, m, "phase", {"phase": "voting"})
    press(fay, m, "discuss-next")
    expire(m)


def test_a_topic_discussed_again_gets_a_fresh_thumbs_round(meeting):
    m, fay, ann, bob = meeting
    hiring_discussed_until_time_is_up(m, fay, ann)
    ann.post(f"/m/{m.code}/thumbs", {"choice": "down"})
    assert press(fay, m, "decide", {"outcome": "move_on"}).status_code == 200
    press(fay, m, "phase", {"phase": "voting"})
    press(fay, m, f"topics/{tid_of('Hiring')}/move", {"status": "to_discuss"})
    assert press(fay, m, "discuss-next").status_code == 200
    row = Meeting.get_by_id(m.id)
    assert row.timer_round == 2 and 235 < (row.timer_ends_at - utcnow()).total_seconds() <= 240  # the pattern's 2nd timebox
    expire(m)
    page = ann.get(f"/m/{m.code}").text
    assert "Time is up" in page and 'aria-pressed="true"' not in page  # last round's thumb is not shown as cast
    assert ann.post(f"/m/{m.code}/thumbs", {"choice": "up"}).status_code == 200
    assert press(fay, m, "decide", {"outcome": "move_on"}).status_code == 200
    rounds = [(r.round, r.up, r.down, r.outcome, r.timebox_seconds) for r in ThumbsRound.select().order_by(ThumbsRound.round)]
    assert rounds == [(1, 0, 1, "move_on", 480), (2, 1, 0, "move_on", 240)]
    assert "Round 2 (4 min): 👍 1 ✋ 0 👎 0 → move on" in fay.get(f"/m/{m.code}/summary").text


def test_a_topic_moved_back_into_discussing_starts_after_its_last_thumbs(lc):
    m, fay, ann, _ = lc
    tid = topics.add_topic(ann, m.code, "Hiring").topic_id
    facilitation.discuss_next(fay, m.code)
    expire(m)
    facilitation.decide_round(fay, m.code, "continue")
    expire(m)
    facilitation.cast_thumb(ann, m.code, "up")  # round 2 has a thumb but was never decided
    topics.move_topic(fay, m.code, tid, TO_DISCUSS)
    topics.move_topic(fay, m.code, tid, DISCUSSING)
    assert (Meeting.get_by_id(m.id).timer_state, Meeting.get_by_id(m.id).timer_round) == ("idle", 0)
    facilitation.control_timer(fay, m.code, "start")
    row = Meeting.get_by_id(m.id)
    assert row.timer_round == 3 and 0 < (row.timer_ends_at - utcnow()).total_seconds() <= 1  # the pattern's 3rd timebox
    expire(m)
    assert load_board(m.id).my_thumb(Viewer(ann.id, False, True)) is None
    facilitation.decide_round(fay, m.code, "move_on")
    assert [r.round for r in ThumbsRound.select().order_by(ThumbsRound.round)] == [1, 3]


def test_deciding_a_decided_round_is_refused_not_a_crash(meeting):
    m, fay, ann, _ = meeting
    hiring_discussed_until_time_is_up(m, fay, ann)
    press(fay, m, "decide", {"outcome": "continue"})
    # A round number that went back (as before this fix) must meet a refusal, not the unique index.
    Meeting.update(timer_round=1).where(Meeting.id == m.id).execute()
    expire(m)
    response = press(fay, m, "decide", {"outcome": "move_on"})
    assert response.status_code == 409 and "Timebox 1 of “Hiring” has already been decided" in flash(response)
    assert ThumbsRound.select().count() == 1 and Topic.get(Topic.title == "Hiring").status == DISCUSSING


@pytest.mark.parametrize("remove", ["delete", "merge"])
def test_a_discussed_topic_that_is_removed_takes_its_timer_along(lc, remove):
    m, fay, ann, _ = lc
    a, b = (topics.add_topic(ann, m.code, t).topic_id for t in ("A", "B"))
    votes.cast_vote(ann, m.code, a)
    facilitation.discuss_next(fay, m.code)
    expire(m)
    facilitation.decide_round(fay, m.code, "continue")
    topics.delete_topic(fay, m.code, a) if remove == "delete" else merging.merge_topics(fay, m.code, a, b)
    assert (Meeting.get_by_id(m.id).timer_state, Meeting.get_by_id(m.id).timer_round) == ("idle", 0)
    facilitation.discuss_next(fay, m.code)
    assert Topic.get_by_id(b).status == DISCUSSING and Meeting.get_by_id(m.id).timer_round == 1


# --- 7. Facilitator forms name the state they act on ---

def second_device(app, who):
    """The same person on another device: the same login, its own cookies from now on."""
    other = Person(app)
    other.client.set_cookie("remember_token", who.client.get_cookie("remember_token").value)
    other.token = page_token(other.client.get("/").text)
    return other


def started(meeting):
    """Fay discussing “Hiring” (2 votes) with “Budget” next, its timebox up."""
    m, fay, ann, bob = meeting
    for title in ("Hiring", "Budget"):
        ann.post(f"/m/{m.code}/topics", {"title": title})
    press(fay, m, "phase", {"phase": "voting"})
    for who in (ann, bob):
        who.post(f"/m/{m.code}/topics/{tid_of('Hiring')}/vote")
    press(fay, m, "discuss-next")
    expire(m)
    return m, fay


# What the facilitator presses; what another device pressed first (None: the field is missing); the refusal's news.
STALE_PRESSES = [
    ("discuss-next", {}, ("discuss-next", {}), "“Budget” is being discussed now"),
    ("phase", {"phase": "voting"}, ("phase", {"phase": "voting"}), "it is in “Voting” now"),
    ("phase", {"phase": "done", "confirmed": "1"}, ("phase", {"phase": "done", "confirmed": "1"}), "it is in “Done” now"),
    ("decide", {"outcome": "continue"}, ("decide", {"outcome": "continue"}), "“Hiring” is in its timebox 2 now"),
    # Moving on started the next top topic in the same step.
    ("decide", {"outcome": "move_on"}, ("decide", {"outcome": "move_on"}), "“Budget” is in its timebox 1 now"),
    ("timer", {"action": "stop"}, ("discuss-next", {}), "“Budget” is in its timebox 1 now"),
    ("move", {"status": "to_discuss"}, ("discuss-next", {}), "“Hiring” is in Discussed now"),
] + [(action, data, None, "") for action, data in (("phase", {"phase": "done", "confirmed": "1"}), ("discuss-next", {}),
                                                   ("timer", {"action": "stop"}), ("move", {"status": "to_discuss"}))]


@pytest.mark.parametrize("action, data, first, news", STALE_PRESSES)
def test_a_press_naming_a_state_the_meeting_has_left_is_refused_saying_what_changed(meeting, app, action, data, first, news):
    m, fay = started(meeting)
    action = f"topics/{tid_of('Hiring')}/move" if action == "move" else action
    seen = board_expected(fay, m.code, action) if first else None
    if first:  # the other device's page showed the same state, and was quicker
        tablet = second_device(app, fay)
        assert board_expected(tablet, m.code, first[0]) == board_expected(fay, m.code, first[0])
        assert press(tablet, m, *first).status_code == 200
    before = snapshot()
    response = fay.post(f"/m/{m.code}/{action}", {**data, **({"expected": seen} if seen else {})})
    assert response.status_code == 409 and MOVED_ON in flash(response) and news in flash(response)
    assert snapshot() == before and Topic.select().where(Topic.status == DISCUSSING).count() <= 1


def test_discuss_next_pressed_at_the_same_moment_on_two_devices_advances_one_topic(meeting, app):
    m, fay = started(meeting)
    seen, barrier, answers = board_expected(fay, m.code, "discuss-next"), threading.Barrier(2), []

    def tap(device):
        barrier.wait()
        answers.append(press(device, m, "discuss-next", expected=seen))

    threads = [threading.Thread(target=tap, args=(d,)) for d in (fay, second_device(app, fay))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.status_code for a in answers) == [200, 409]
    refusal = next(a for a in answers if a.status_code == 409)
    assert f"{MOVED_ON}: “Budget” is being discussed now. Nothing was changed" in flash(refusal)
    assert [t.title for t in Topic.select().where(Topic.status == DISCUSSING)] == ["Budget"]
    assert [t.title for t in Topic.select().where(Topic.status == DISCUSSED)] == ["Hiring"]


FORM_KINDS = {"status": "status", "phase": "phase", "discuss-next": "discussion", "timer": "round", "decide": "round"}


def forms_naming(html: str) -> list[tuple[str, str | None]]:
    """(endpoint, expected value) of every facilitator form in a fragment."""
    forms = re.findall(r'<form[^>]*action="/m/[^/"]+/([a-z-]+)"[^>]*>(.*?)</form>', html, re.S)
    named = [(path, re.search(r'name="expected" value="([^"]*)"', body)) for path, body in forms if path in FORM_KINDS]
    return [(path, match.group(1) if match else None) for path, match in named]


def test_facilitator_controls_are_re_sent_with_the_state_they_name(lc):
    m, fay, ann, _ = lc
    a, b = (topics.add_topic(ann, m.code, t).topic_id for t in ("A", "B"))
    votes.cast_vote(ann, m.code, a)  # A is the top topic: no tie to settle
    time_up = changes.Change(changes.TIME_UP, m.id, None)
    steps = [lambda: facilitation.change_phase(fay, m.code, "voting"), lambda: facilitation.discuss_next(fay, m.code),
             lambda: expire(m) or time_up, lambda: facilitation.decide_round(fay, m.code, "continue"),
             lambda: topics.move_topic(fay, m.code, b, DISCUSSING), lambda: facilitation.control_timer(fay, m.code, "start"),
             lambda: expire(m) or time_up, lambda: facilitation.decide_round(fay, m.code, "move_on")]
    for step in steps:
        change = step()
        state = load_board(m.id)
        named = forms_naming(build_push(change, state, set()).frame_for(Viewer(fay.id, True, True)))
        assert named and all(value == state.expected(FORM_KINDS[path]) for path, value in named), (change.kind, named)


@pytest.mark.parametrize("gap", ["move", "discuss next", "delete", "merge"])
def test_forms_are_re_sent_when_the_state_they_name_changes(lc, gap):
    m, fay, ann, _ = lc
    a, b = (topics.add_topic(ann, m.code, t).topic_id for t in ("A", "B"))
    votes.cast_vote(ann, m.code, a)
    facilitation.discuss_next(fay, m.code)
    change = {"move": lambda: topics.move_topic(fay, m.code, b, DISCUSSING),
              "discuss next": lambda: facilitation.discuss_next(fay, m.code),
              "delete": lambda: topics.delete_topic(fay, m.code, a),
              "merge": lambda: merging.merge_topics(fay, m.code, a, b)}[gap]()
    frame = build_push(change, load_board(m.id), set()).frame_for(Viewer(fay.id, True, True))
    if gap in ("move", "discuss next"):  # A went to Discussed, B to Discussing: both cards' Move forms
        for tid, column in ((a, DISCUSSED), (b, DISCUSSING)):
            assert re.search(rf'id="tools-{tid}".*?name="expected" value="{column}"', frame, re.S)
    else:
        assert ("discuss-next", "none") in forms_naming(frame)
