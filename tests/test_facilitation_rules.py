"""Issue 16, the facilitator's flows over HTTP: ties are asked, Move on starts the next topic, confirmations,
the merge trace and who is told, Finish lands on the summary, one way to start."""

import json
import re
from datetime import timedelta
from html import unescape

import pytest

from leancoffee.live.fanout import build_push
from leancoffee.models import DISCUSSED, DISCUSSING, TO_DISCUSS, Meeting, Participant, ThumbsRound, Topic, User, Vote, utcnow
from leancoffee.services import merging, topics
from leancoffee.services.board import load_board
from leancoffee.services.viewing import Viewer
from tests.helpers import board_expected


def add(who, m, *titles):
    for title in titles:
        assert who.post(f"/m/{m.code}/topics", {"title": title}).status_code == 200
    return [Topic.get(Topic.title == t).id for t in titles]


def vote(who, m, tid):
    assert who.post(f"/m/{m.code}/topics/{tid}/vote").status_code == 200


def press(who, m, action, data=None, htmx=True):
    """A control of `who`'s board, pressed: its form sends the state it names."""
    return who.post(f"/m/{m.code}/{action}", {**(data or {}), "expected": board_expected(who, m.code, action)}, htmx=htmx)


def expire(m):
    Meeting.update(timer_ends_at=utcnow() - timedelta(seconds=1)).where(Meeting.id == m.id).execute()


def buttons(html: str) -> list[str]:
    """The visible words of every button on a page or fragment."""
    return [unescape(re.sub(r"<[^>]+>", "", b)).strip() for b in re.findall(r"<button[^>]*>(.*?)</button>", html, re.S)]


def choices(html: str) -> list[str]:
    """The tie choice's buttons in an answer."""
    return [b for b in buttons(html) if b.startswith("Discuss “")]


def column_of(title):
    return Topic.get(Topic.title == title).status


@pytest.fixture
def tied(meeting):
    """Voting is open on three topics: Alpha and Beta tied at the top with two votes each, Gamma with one."""
    m, fay, ann, bob = meeting
    a, b, g = add(ann, m, "Alpha", "Beta", "Gamma")
    press(fay, m, "phase", {"phase": "voting"})
    for who, tid in ((ann, a), (bob, a), (ann, b), (bob, b), (fay, g)):
        vote(who, m, tid)
    return m, fay, ann, bob, (a, b, g)


def test_a_tie_while_discussing_is_asked_never_settled_silently(tied):
    m, fay, ann, bob, (a, b, g) = tied
    Topic.update(status=DISCUSSED).where(Topic.id == g).execute()  # Gamma was discussed already
    Meeting.update(phase="discussing").where(Meeting.id == m.id).execute()
    version = Meeting.get_by_id(m.id).version
    response = press(fay, m, "discuss-next")
    assert response.status_code == 409
    assert "“Alpha” and “Beta” are tied with 2 votes each." in unescape(response.text)
    assert choices(response.text) == ["Discuss “Alpha”", "Discuss “Beta”"]
    assert [column_of(t) for t in ("Alpha", "Beta")] == [TO_DISCUSS, TO_DISCUSS]
    assert Meeting.get_by_id(m.id).version == version  # nothing changed
    # The choice is a discuss-next naming the topic (and the state the page showed).
    chosen = fay.post(f"/m/{m.code}/discuss-next", {"topic": b, "expected": "none"})
    assert chosen.status_code == 200 and column_of("Beta") == DISCUSSING and column_of("Alpha") == TO_DISCUSS


def test_while_a_tie_waits_for_the_facilitator_everyone_is_told_so(tied):
    m, fay, ann, bob, (a, b, g) = tied
    assert press(fay, m, "discuss-next").status_code in (200, 409)  # closes voting, then asks which first
    assert Meeting.get_by_id(m.id).phase == "discussing" and column_of("Alpha") == TO_DISCUSS
    assert "The facilitator is choosing the next topic." in ann.get(f"/m/{m.code}").text
    assert "Choose the next topic." in fay.get(f"/m/{m.code}").text
    assert fay.post(f"/m/{m.code}/discuss-next", {"topic": a, "expected": "none"}).status_code == 200
    assert "choosing the next topic" not in ann.get(f"/m/{m.code}").text


def test_only_a_topic_tied_at_the_top_may_be_chosen(tied):
    m, fay, ann, bob, (a, b, g) = tied
    response = fay.post(f"/m/{m.code}/discuss-next", {"topic": g, "expected": "none"})
    # Gamma is not at the top (it may have been when the choice was shown): the choice as it is now comes back.
    assert response.status_code == 409 and choices(response.text) == ["Discuss “Alpha”", "Discuss “Beta”"]
    assert column_of("Gamma") == TO_DISCUSS
    for junk in ("nope", "1.5"):
        assert fay.post(f"/m/{m.code}/discuss-next", {"topic": junk, "expected": "none"}).status_code == 422
    Vote.delete().where(Vote.topic == b).execute()  # now Alpha alone is at the top
    response = fay.post(f"/m/{m.code}/discuss-next", {"topic": b, "expected": "none"})
    assert response.status_code == 409 and "“Alpha” is" in unescape(response.text)


def test_closing_hidden_voting_on_a_tie_reveals_nothing_before_and_asks_after(meeting):
    m, fay, ann, bob = meeting
    Meeting.update(hidden_voting=True).where(Meeting.id == m.id).execute()
    a, b = add(ann, m, "Alpha", "Beta")
    press(fay, m, "phase", {"phase": "voting"})
    for who, tid in ((ann, a), (bob, b)):
        vote(who, m, tid)
    before = fay.get(f"/m/{m.code}").text
    assert "tied" not in before and "1 vote" not in before and "votes hidden" in before
    assert "Close voting and discuss the top topic" in buttons(before)
    response = press(fay, m, "discuss-next", htmx=False)
    # Voting closed (the counts are public now) and the facilitator chooses: nothing is being discussed yet.
    assert response.status_code == 200 and "“Alpha” and “Beta” are tied with 1 vote each." in unescape(response.text)
    assert choices(response.text) == ["Discuss “Alpha”", "Discuss “Beta”"]
    assert Meeting.get_by_id(m.id).phase == "discussing" and column_of("Alpha") == column_of("Beta") == TO_DISCUSS
    page = ann.get(f"/m/{m.code}").text
    assert "votes hidden" not in page and "tied 1st" in page


def time_up(meeting, *titles, votes_for=()):
    """`titles` proposed, voting open, the first discussed (it has the most votes) and its timebox over."""
    m, fay, ann, bob = meeting
    ids = add(ann, m, *titles)
    press(fay, m, "phase", {"phase": "voting"})
    for who, index in votes_for:
        vote((ann, bob, fay)[who], m, ids[index])
    assert press(fay, m, "discuss-next").status_code == 200 and column_of(titles[0]) == DISCUSSING
    expire(m)
    return ids


def test_move_on_records_the_round_and_starts_the_next_top_topic_in_one_step(meeting):
    m, fay, ann, bob = meeting
    first, second, _ = time_up(meeting, "Hiring", "Budget", "Offsite", votes_for=((0, 0), (1, 0), (0, 1)))
    version = Meeting.get_by_id(m.id).version
    assert press(fay, m, "decide", {"outcome": "move_on"}).status_code == 200
    row = Meeting.get_by_id(m.id)
    assert row.version == version + 1  # one transaction
    assert (column_of("Hiring"), column_of("Budget"), column_of("Offsite")) == (DISCUSSED, DISCUSSING, TO_DISCUSS)
    assert (row.timer_state, row.timer_round) == ("running", 1)
    assert [(r.topic_id, r.outcome) for r in ThumbsRound.select()] == [(first, "move_on")]


def test_move_on_with_a_tie_next_records_the_round_and_asks(meeting):
    m, fay, ann, bob = meeting
    time_up(meeting, "Hiring", "Budget", "Offsite", votes_for=((0, 0),))
    page = fay.get(f"/m/{m.code}").text
    assert "Move on closes this topic and asks which of the tied topics is next." in page
    response = press(fay, m, "decide", {"outcome": "move_on"})
    assert response.status_code == 200 and choices(response.text) == ["Discuss “Budget”", "Discuss “Offsite”"]
    assert (column_of("Hiring"), column_of("Budget"), column_of("Offsite")) == (DISCUSSED, TO_DISCUSS, TO_DISCUSS)
    assert ThumbsRound.get().outcome == "move_on"


def test_move_on_with_nothing_left_just_closes_the_topic(meeting):
    m, fay, ann, bob = meeting
    time_up(meeting, "Hiring")
    assert "Move on closes this topic: nothing is left in To Discuss." in fay.get(f"/m/{m.code}").text
    assert press(fay, m, "decide", {"outcome": "move_on"}).status_code == 200
    assert column_of("Hiring") == DISCUSSED and Meeting.get_by_id(m.id).timer_state == "idle"


def test_time_up_shows_the_decision_first_and_your_thumb_with_no_two_buttons_alike(meeting):
    m, fay, ann, bob = meeting
    time_up(meeting, "Is Friday deploy OK?", "Budget", votes_for=((0, 0),))
    page = fay.get(f"/m/{m.code}").text
    thumbs = re.search(r'<section id="thumbs".*?</section>', page, re.S).group(0)
    assert "Keep talking about “Is Friday deploy OK?”</h2>" in unescape(thumbs)  # not “…?”?
    assert buttons(thumbs) == ["Continue for 4 min", "Move on", "👍 Yes", "✋ Neutral", "👎 No"]
    assert thumbs.index("Your decision") < thumbs.index("Your thumb")
    assert "Move on closes this topic and starts “Budget”." in unescape(thumbs)
    controls = buttons(re.search(r'<div id="meeting-status".*?</section>', page, re.S).group(0))
    assert len(controls) == len(set(controls)), controls  # the facilitator's controls and the prompt: no label twice
    assert buttons(page).count("Move on") == 1
    participant = re.search(r'<section id="thumbs".*?</section>', ann.get(f"/m/{m.code}").text, re.S).group(0)
    assert buttons(participant) == ["👍 Yes", "✋ Neutral", "👎 No"] and "Your thumb" in participant


CONFIRMED = [  # (who, path, form, what the question says)
    ("fay", "topics/{a}/delete", {}, "Delete “Alpha”?"),
    ("fay", "merge", {"source": "{a}", "target": "{b}"}, "Merge “Alpha” into “Beta”?"),
    ("fay", "phase", {"phase": "done", "expected": "discussing"}, "Finish the meeting?"),
    ("fay", "status", {"status": "completed", "expected": "in_progress"}, "Finish the meeting?"),
    ("ann", "leave", {}, "Leave “Team coffee”?"),
]


@pytest.mark.parametrize("who, path, form, question", CONFIRMED)
def test_without_confirmation_the_server_asks_and_changes_nothing(meeting, who, path, form, question):
    m, fay, ann, bob = meeting
    a, b = add(ann, m, "Alpha", "Beta")
    press(fay, m, "phase", {"phase": "voting"})
    if path == "phase":
        press(fay, m, "phase", {"phase": "discussing"})
    person = {"fay": fay, "ann": ann}[who]
    url = f"/m/{m.code}/" + path.format(a=a)
    form = {k: v.format(a=a, b=b) for k, v in form.items()}
    version = Meeting.get_by_id(m.id).version
    page = person.post(url, form, htmx=False)  # what a browser without JavaScript sends
    text = unescape(page.text)
    assert page.status_code == 200 and f">{question}</h1>" in text and 'href="/m/' + m.code + '?board=1">Cancel</a>' in text
    assert re.search(rf'<form method="post" action="{re.escape(url)}"', text)
    assert '<input type="hidden" name="confirmed" value="1">' in text
    for key, value in form.items():
        assert f'<input type="hidden" name="{key}" value="{value}">' in text
    assert Meeting.get_by_id(m.id).version == version and Topic.select().count() == 2
    fragment = person.post(url, form)  # htmx without the dialog's confirmed=1: asked in the message area
    assert fragment.status_code == 200 and 'id="flash"' in fragment.text and question in unescape(fragment.text)
    done = person.post(url, {**form, "confirmed": "1"}, htmx=False)
    assert done.status_code == 303 and Meeting.get_by_id(m.id).version == version + 1


def test_a_refused_action_is_refused_before_any_question(meeting):
    m, fay, ann, bob = meeting
    (a,) = add(fay, m, "Fay's topic")
    response = ann.post(f"/m/{m.code}/topics/{a}/delete", htmx=False)
    assert response.status_code == 403 and "Only the topic's author or a facilitator" in unescape(response.text)
    assert fay.post(f"/m/{m.code}/merge", {"source": a, "target": a}).status_code == 422


def test_finish_sends_the_facilitator_to_the_summary(meeting):
    m, fay, ann, bob = meeting
    add(ann, m, "Alpha")
    press(fay, m, "phase", {"phase": "voting"})
    assert press(fay, m, "discuss-next").status_code == 200
    plain = press(fay, m, "phase", {"phase": "done", "confirmed": "1"}, htmx=False)
    assert plain.status_code == 303 and plain.headers["Location"] == f"/m/{m.code}/summary"
    assert Meeting.get_by_id(m.id).status == "completed"
    assert fay.post(f"/m/{m.code}/phase", {"phase": "discussing", "expected": "done"}).status_code == 200  # reopened
    htmx = press(fay, m, "phase", {"phase": "done", "confirmed": "1"})
    assert htmx.status_code == 200 and htmx.headers["HX-Redirect"] == f"/m/{m.code}/summary"


def test_an_outsider_opening_a_finished_meeting_reads_its_summary_and_is_not_added(meeting, person):
    m, fay, ann, bob = meeting
    add(ann, m, "Alpha")
    fay.post(f"/m/{m.code}/status", {"status": "completed", "expected": "planned", "confirmed": "1"})
    eve, attendees = person(), Participant.select().count()
    for path in ("", "?board=1", "/summary"):
        page = eve.get(f"/m/{m.code}{path}")
        assert page.status_code == 200 and "This meeting has ended: here is what it produced." in page.text
        assert "<h1>Summary</h1>" in page.text and "Alpha" in page.text and 'id="join-form"' not in page.text
        assert "Export Markdown" not in page.text and "?board=1" not in page.text
    assert Participant.select().count() == attendees


def test_merge_leaves_a_trace_and_tells_only_those_whose_dot_came_back(meeting, app):
    m, fay, ann, bob = meeting
    Meeting.update(hidden_voting=True).where(Meeting.id == m.id).execute()
    dup, keep = add(ann, m, "remote fridays", "Remote Fridays")
    for who, tid in ((ann, dup), (ann, keep), (bob, dup)):  # Ann voted for both, Bob for the duplicate only
        vote(who, m, tid)
    merge_form = re.search(r'<form[^>]*action="/m/[^"]+/merge".*?</form>', fay.get(f"/m/{m.code}").text, re.S).group(0)
    # Nothing preselected: each list starts on its "Choose a topic…" placeholder.
    assert merge_form.count(" selected") == 2 and merge_form.count('<option value="" selected disabled>') == 2
    fay_id, ann_id, bob_id = (Participant.get(name=n).user_id for n in ("Fay", "Ann", "Bob"))
    with app.test_request_context():
        change = merging.merge_topics(User.get_by_id(fay_id), m.code, dup, keep)
        assert change.returned_user_ids == (ann_id,) and set(change.affected_user_ids) == {ann_id, bob_id}
        push = build_push(change, load_board(m.id), set())
    told = "“remote fridays” was merged into “Remote Fridays”: your vote for it came back."
    assert told in unescape(push.frame_for(Viewer(ann_id, False, True)))
    for other in (Viewer(bob_id, False, True), Viewer(fay_id, True, True), Viewer(None, False, True)):
        assert "came back" not in push.frame_for(other)  # nobody else learns how Ann voted
    assert "Merged from “remote fridays”" in unescape(push.frame_for(Viewer(None, False, True)))
    assert "Merged from “remote fridays”" in unescape(ann.get(f"/m/{m.code}").text)
    assert json.loads(Topic.get_by_id(keep).merged_from) == ["remote fridays"]
    Meeting.update(status="completed", phase="done").where(Meeting.id == m.id).execute()
    assert "Merged from “remote fridays”" in unescape(ann.get(f"/m/{m.code}/summary").text)
    assert "Merged from “remote fridays”" in ann.get(f"/m/{m.code}/summary.md").text


def test_a_merged_topic_brings_its_own_trace_along(trio):
    m, fay, ann, bob = trio
    a, b, c = (topics.add_topic(ann, m.code, t).topic_id for t in ("A", "B", "C"))
    merging.merge_topics(fay, m.code, a, b)
    merging.merge_topics(fay, m.code, b, c)
    assert merging.merged_titles(Topic.get_by_id(c)) == ["A", "B"]


def test_a_new_meetings_board_offers_one_way_to_start(meeting):
    m, fay, ann, bob = meeting
    labels = buttons(fay.get(f"/m/{m.code}").text)
    assert "Open voting" in labels and "Start meeting" not in labels
    press(fay, m, "phase", {"phase": "voting"})
    row = Meeting.get_by_id(m.id)
    assert (row.status, row.phase) == ("in_progress", "voting") and row.started_at is not None
