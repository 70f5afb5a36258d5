"""HTTP actions through the Flask test client: status, redirects, fragments and database state."""

import logging
import re

import pytest

from leancoffee.models import IN_PROGRESS, Meeting, Participant, Topic, User, Vote
from tests.helpers import board_expected


def ids_in(html: str) -> set[str]:
    """Ids of elements marked as out-of-band swaps in a fragment response."""
    return set(re.findall(r'id="([^"]+)"[^>]*hx-swap-oob', html))


def test_home_page_offers_to_start_a_meeting(person):
    html = person().get("/").text
    assert 'action="/meetings"' in html and "Start meeting" in html and 'value="3"' in html


def test_starting_a_meeting_makes_the_creator_facilitator_and_lands_on_the_board(person):
    fay = person()
    response = fay.post("/meetings", {"title": "Retro", "votes_per_person": "4", "name": "Fay"}, htmx=False)
    assert response.status_code == 303
    code = response.headers["Location"].rsplit("/m/", 1)[1]
    meeting = Meeting.get(Meeting.code == code)
    assert (meeting.title, meeting.votes_per_person, meeting.facilitator.name) == ("Retro", 4, "Fay")
    page = fay.get(f"/m/{code}").text
    assert "Retro" in page and "Open voting" in page and f"/m/{code}" in page and 'id="join-link"' in page
    assert Participant.get(meeting=meeting.id).role == "facilitator"


def test_a_visitor_sees_the_join_form_and_joins_by_name(meeting, person):
    m, *_ = meeting
    eve = person()
    page = eve.get(f"/m/{m.code}").text
    assert 'id="join-form"' in page and 'id="add-topic"' not in page
    response = eve.post(f"/m/{m.code}/join", {"name": "Eve"}, htmx=False)
    assert response.status_code == 303 and response.headers["Location"] == f"/m/{m.code}"
    assert 'id="add-topic"' in eve.get(f"/m/{m.code}").text
    assert Participant.select().where(Participant.meeting == m.id).count() == 4


def test_the_same_browser_comes_back_as_the_same_person(meeting, app):
    m, _, ann, _ = meeting
    remember = ann.client.get_cookie("remember_token")
    assert remember is not None and remember.http_only and remember.expires is not None
    assert (remember.expires.timestamp() - __import__("time").time()) > 300 * 24 * 3600
    restarted = app.test_client()  # the browser was closed: only the long-lived cookie survives
    restarted.set_cookie("remember_token", remember.value)
    page = restarted.get(f"/m/{m.code}").text
    assert 'id="add-topic"' in page and "Ann" in page and 'id="join-form"' not in page


def test_leave_then_rejoin_is_the_same_participant(meeting):
    m, _, ann, _ = meeting
    before = Participant.get(meeting=m.id, user=User.get(name="Ann").id)
    assert ann.post(f"/m/{m.code}/leave", {"confirmed": "1"}, htmx=False).status_code == 303
    assert "Rejoin" in ann.get(f"/m/{m.code}").text
    ann.post(f"/m/{m.code}/join", {"name": "Ann"}, htmx=False)
    after = Participant.get(meeting=m.id, user=before.user_id)
    assert after.id == before.id and after.is_active


def test_adding_a_topic_answers_with_the_card_and_stores_it(meeting):
    m, _, ann, _ = meeting
    response = ann.post(f"/m/{m.code}/topics", {"title": "Remote work", "description": "Fridays?"})
    assert response.status_code == 200
    topic = Topic.get(Topic.title == "Remote work")
    assert {"flash", "list-to_discuss", "count-to_discuss"} <= ids_in(response.text)
    assert f'id="topic-{topic.id}"' in response.text and "Fridays?" in response.text
    assert f'id="tools-{topic.id}"' in response.text and "Delete" in response.text  # the author may edit


def test_a_live_page_gets_only_the_message_area_back(meeting):
    m, _, ann, _ = meeting
    response = ann.post(f"/m/{m.code}/topics", {"title": "Via socket"}, live=True)
    assert response.status_code == 200 and ids_in(response.text) == {"flash"}
    assert Topic.select().where(Topic.title == "Via socket").count() == 1


def test_without_javascript_actions_redirect_back_to_the_board(meeting):
    m, _, ann, _ = meeting
    response = ann.post(f"/m/{m.code}/topics", {"title": "Plain form"}, htmx=False)
    topic = Topic.get(Topic.title == "Plain form")
    assert response.status_code == 303 and response.headers["Location"] == f"/m/{m.code}#topic-{topic.id}"
    response = ann.post(f"/m/{m.code}/topics/{topic.id}/vote", htmx=False)
    assert response.status_code == 303
    page = ann.get(f"/m/{m.code}").text
    assert "Remove vote" in page and "<strong>1</strong> of 2 votes left" in page


def test_plain_form_refusal_shows_the_message_and_a_way_back_without_writing_the_session(meeting):
    m, _, ann, _ = meeting
    response = ann.post(f"/m/{m.code}/topics", {"title": ""}, htmx=False)
    assert response.status_code == 422 and "Set-Cookie" not in response.headers
    assert "Topic title is required." in response.text and f'href="/m/{m.code}">Back to the board' in response.text
    assert Topic.select().count() == 0


def test_vote_answers_with_count_order_and_my_state(meeting):
    m, _, ann, bob = meeting
    ann.post(f"/m/{m.code}/topics", {"title": "T"})
    topic = Topic.get(Topic.title == "T")
    response = bob.post(f"/m/{m.code}/topics/{topic.id}/vote")
    assert response.status_code == 200
    assert {f"votes-{topic.id}", "list-to_discuss", f"my-vote-{topic.id}", "my-dots"} <= ids_in(response.text)
    assert "<strong>1</strong> vote " in response.text and "Remove vote" in response.text
    assert 'data-left="1"' in response.text
    assert Vote.select().where(Vote.topic == topic.id).count() == 1


@pytest.mark.parametrize(
    "data, message",
    [({"title": ""}, "Topic title is required."), ({"title": "x" * 121}, "at most 120 characters")],
)
def test_bad_text_gets_a_clear_message_and_stores_nothing(meeting, data, message):
    m, _, ann, _ = meeting
    response = ann.post(f"/m/{m.code}/topics", data)
    assert response.status_code == 422 and message in response.text and ids_in(response.text) == {"flash"}
    assert Topic.select().count() == 0


def test_unknown_meeting_and_topic_are_404(meeting, person):
    m, _, ann, _ = meeting
    assert person().get("/m/nope").status_code == 404
    response = ann.post("/m/nope/topics", {"title": "T"})
    assert response.status_code == 404 and "No meeting has this link" in response.text
    response = ann.post(f"/m/{m.code}/topics/424242/vote")
    assert response.status_code == 404 and "does not exist" in response.text


def test_refusals_by_role_change_nothing(meeting, person):
    m, fay, ann, bob = meeting
    ann.post(f"/m/{m.code}/topics", {"title": "Ann's"})
    topic = Topic.get(Topic.title == "Ann's")
    eve = person()
    assert eve.post(f"/m/{m.code}/topics", {"title": "Spam"}).status_code == 403
    assert eve.post(f"/m/{m.code}/topics/{topic.id}/vote").status_code == 403
    response = bob.post(f"/m/{m.code}/topics/{topic.id}/edit", {"title": "Bob's now"})
    assert response.status_code == 403 and "author or a facilitator" in response.text
    assert bob.post(f"/m/{m.code}/topics/{topic.id}/delete").status_code == 403
    response = ann.post(f"/m/{m.code}/topics/{topic.id}/move", {"status": "discussing"})
    assert response.status_code == 403 and "Only a facilitator" in response.text
    assert ann.post(f"/m/{m.code}/status", {"status": "in_progress"}).status_code == 403
    topic = Topic.get_by_id(topic.id)
    assert (topic.title, topic.status) == ("Ann's", "to_discuss")
    assert Meeting.get_by_id(m.id).status == "planned" and Topic.select().count() == 1


def test_identity_comes_from_the_session_not_the_form(meeting):
    m, fay, ann, _ = meeting
    ann.post(f"/m/{m.code}/topics", {"title": "T"})
    topic = Topic.get(Topic.title == "T")
    fay_id = User.get(name="Fay").id
    ann.post(f"/m/{m.code}/topics/{topic.id}/vote", {"user_id": fay_id, "user": fay_id})
    assert [v.user.name for v in Vote.select()] == ["Ann"]


def test_facilitator_changes_status_and_moves_topics(meeting):
    m, fay, ann, _ = meeting
    ann.post(f"/m/{m.code}/topics", {"title": "T"})
    topic = Topic.get(Topic.title == "T")
    # No button posts status (opening voting starts the meeting): posted directly, it names the status the page shows.
    response = fay.post(f"/m/{m.code}/status", {"status": "in_progress", "expected": "planned"})
    assert response.status_code == 200 and 'data-status="in_progress"' in response.text
    assert Meeting.get_by_id(m.id).status == IN_PROGRESS and Meeting.get_by_id(m.id).started_at
    move = f"topics/{topic.id}/move"
    response = fay.post(f"/m/{m.code}/{move}", {"status": "discussing", "expected": board_expected(fay, m.code, move)})
    assert response.status_code == 200 and {"list-discussing", "list-to_discuss"} <= ids_in(response.text)
    assert response.text.index('id="list-discussing"') < response.text.index('id="list-to_discuss"')
    assert Topic.get_by_id(topic.id).status == "discussing"
    nowhere = {"status": "nowhere", "expected": board_expected(fay, m.code, move)}
    assert fay.post(f"/m/{m.code}/{move}", nowhere).status_code == 422


def test_completed_meeting_refuses_changes(meeting):
    m, fay, ann, _ = meeting
    fay.post(f"/m/{m.code}/status", {"status": "completed", "expected": "planned", "confirmed": "1"})
    response = ann.post(f"/m/{m.code}/topics", {"title": "Late"})
    assert response.status_code == 409 and "read-only" in response.text
    opened = ann.get(f"/m/{m.code}")
    assert opened.status_code == 303 and opened.headers["Location"] == f"/m/{m.code}/summary"
    page = ann.get(f"/m/{m.code}?board=1").text
    assert "Completed" in page and "read-only" in page and 'action="/m/' + m.code + '/topics/' not in page
    assert Topic.select().count() == 0


def test_post_without_csrf_token_is_refused(meeting):
    m, _, ann, _ = meeting
    response = ann.post(f"/m/{m.code}/topics", {"title": "Forged"}, token=False)
    assert response.status_code == 400 and "Reload the page" in response.text
    assert Topic.select().count() == 0


def test_limits_are_stated_in_the_ui(meeting):
    m, _, ann, _ = meeting
    page = ann.get(f"/m/{m.code}").text
    assert 'maxlength="120"' in page and "up to 120 characters" in page and "up to 500 characters" in page


def test_user_text_is_escaped_everywhere(meeting):
    m, _, ann, _ = meeting
    evil = '<img src=x onerror=alert(1)><div hx-get=/x hx-trigger=load>'
    response = ann.post(f"/m/{m.code}/topics", {"title": evil[:100], "description": evil})
    page = ann.get(f"/m/{m.code}").text
    for html in (response.text, page):
        assert "<img src=x" not in html and "<div hx-get=/x" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize("form", [
    {"title": "", "name": "Newcomer"},
    {"title": "Coffee", "name": "Newcomer", "votes_per_person": "99"},
    {"title": "Coffee", "name": "Newcomer", "timebox_pattern": "forever"},
    {"title": "Coffee", "name": "Newcomer", "timebox_pattern": "9" * 400},
    {"title": "Coffee", "name": ""},
])
def test_a_refused_start_leaves_no_identity_and_no_cookie_behind(person, form):
    newcomer = person()
    users_before = User.select().count()
    response = newcomer.post("/meetings", form, htmx=False)
    assert response.status_code == 422 and "Set-Cookie" not in response.headers
    assert User.select().count() == users_before and Meeting.select().count() == 0
    assert "Signed in on this browser" not in newcomer.get("/").text


def statements_of(caplog, request) -> list[str]:
    """The SQL statements a request ran (peewee logs each one), transaction control left out."""
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        request()
    sql = [r.msg[0] for r in caplog.records if r.name == "peewee" and isinstance(r.msg, tuple)]
    return [s for s in sql if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"))]


def test_a_vote_reads_only_what_its_transaction_did_not(meeting, caplog):
    m, fay, ann, _ = meeting
    tid = int(re.search(r'topic-(\d+)', fay.post(f"/m/{m.code}/topics", {"title": "Counted"}).text)[1])
    live = statements_of(caplog, lambda: ann.post(f"/m/{m.code}/topics/{tid}/vote", live=True))
    # The user, the version bump (which returns the meeting), membership, the topic, the voter's dots and
    # the vote: the meeting and the dots are not read again, and with no screen of the meeting here and
    # the voter's page live, nothing is rendered, so no count is read either.
    assert len(live) == 6, live
    assert sum("FROM \"meeting\"" in s for s in live) == 0 and sum("FROM \"vote\" AS" in s for s in live) == 1
    ann.post(f"/m/{m.code}/topics/{tid}/unvote", live=True)
    answered = statements_of(caplog, lambda: ann.post(f"/m/{m.code}/topics/{tid}/vote", live=False))
    # A page without a live socket gets the fragments: every topic's count, and its membership for its own.
    assert len(answered) == 8, answered
    assert Vote.select().where(Vote.topic == tid).count() == 1
