"""Bad input gets a clear message and stores nothing: every text field, number, id and body size."""

import re

import pytest

from leancoffee.models import (
    NAME_MAX,
    NOTE_MAX,
    TIMEBOX_PATTERN_MAX,
    TOPIC_DESCRIPTION_MAX,
    TOPIC_TITLE_MAX,
    Meeting,
    Note,
    Participant,
    Topic,
    User,
    Vote,
)

BAD_TEXT = [
    ("", "is required"),
    ("   \t  ", "is required"),
    ("\x00", "not allowed"),
    ("nul\x00inside", "not allowed"),
    ("bell\x07", "not allowed"),
    ("escape\x1b[31m", "not allowed"),
    ("bad \ufffd bytes", "not allowed"),
]


def counts():
    return (User.select().count(), Meeting.select().count(), Participant.select().count(), Topic.select().count(),
            Vote.select().count(), Note.select().count(), [m.version for m in Meeting.select()])


@pytest.fixture
def topic(meeting):
    m, fay, ann, bob = meeting
    ann.post(f"/m/{m.code}/topics", {"title": "Existing", "description": "Kept"})
    return m, fay, ann, bob, Topic.get().id


def field_cases(m, tid):
    """(label, url, base form, field under test, its max length)."""
    return [
        ("topic title", f"/m/{m.code}/topics", {}, "title", 120),
        ("description", f"/m/{m.code}/topics", {"title": "ok"}, "description", 500),
        ("edited title", f"/m/{m.code}/topics/{tid}/edit", {}, "title", 120),
        ("note", f"/m/{m.code}/topics/{tid}/notes", {"kind": "takeaway"}, "text", 500),
        ("action owner", f"/m/{m.code}/topics/{tid}/notes", {"kind": "action", "text": "ok"}, "owner", 40),
        ("join name", f"/m/{m.code}/join", {}, "name", 40),
    ]


@pytest.mark.parametrize("value, message", BAD_TEXT + [("x" * 2000, "at most")])
def test_bad_text_in_every_field_is_refused_with_a_message(topic, value, message):
    m, fay, ann, bob, tid = topic
    for label, url, base, field, _limit in field_cases(m, tid):
        if field in ("description", "owner") and message == "is required":
            continue  # optional fields may be empty
        before = counts()
        response = ann.post(url, {**base, field: value})
        assert response.status_code == 422, (label, response.status_code)
        assert message in response.text and 'id="flash"' in response.text, label
        assert counts() == before, label
    assert Topic.get_by_id(tid).title == "Existing"


def test_just_over_each_limit_is_refused_and_at_the_limit_accepted(topic):
    m, fay, ann, bob, tid = topic
    for label, url, base, field, limit in field_cases(m, tid):
        assert ann.post(url, {**base, field: "y" * (limit + 1)}).status_code == 422, label
        assert ann.post(url, {**base, field: "y" * limit}).status_code in (200, 303), label


@pytest.mark.parametrize("votes", ["abc", "0", "11", "3.5", "-2", "1e3", "99999999999999999999"])
def test_bad_votes_per_person_is_refused(person, votes):
    fay = person()
    response = fay.post("/meetings", {"title": "T", "votes_per_person": votes, "name": "Fay"})
    assert response.status_code == 422 and "Votes per person" in response.text
    assert Meeting.select().count() == 0


def test_missing_fields_are_refused(topic, person):
    m, fay, ann, bob, tid = topic
    before = counts()
    for who, url, data in ((ann, f"/m/{m.code}/topics", {}), (ann, f"/m/{m.code}/topics/{tid}/edit", {}),
                           (ann, f"/m/{m.code}/topics/{tid}/notes", {}), (fay, f"/m/{m.code}/status", {}),
                           (fay, f"/m/{m.code}/phase", {}), (fay, f"/m/{m.code}/timer", {}), (ann, f"/m/{m.code}/thumbs", {}),
                           (fay, f"/m/{m.code}/decide", {}), (fay, f"/m/{m.code}/topics/{tid}/move", {}),
                           (fay, f"/m/{m.code}/merge", {}), (fay, f"/m/{m.code}/settings", {}), (person(), "/meetings", {})):
        response = who.post(url, data)
        assert response.status_code in (404, 409, 422), url
        assert 'id="flash"' in response.text and "</p>" in response.text, url
    assert counts() == before


@pytest.mark.parametrize("value", ["nope", "1; DROP TABLE vote", "9999999999999999999999", "-1", "1.5", ""])
def test_wrong_or_unknown_ids_are_404(topic, value):
    m, fay, ann, bob, tid = topic
    before = counts()
    assert ann.post(f"/m/{m.code}/topics/{value}/vote").status_code == 404
    response = fay.post(f"/m/{m.code}/merge", {"source": value, "target": tid, "confirmed": "1"})
    if value == "":  # nothing chosen (the form preselects nothing)
        assert response.status_code == 422 and "Choose the topic to merge" in response.text
    else:
        assert response.status_code == 404 and "does not exist" in response.text
    assert counts() == before


def test_wrong_types_for_choices_are_refused(topic):
    m, fay, ann, bob, tid = topic
    before = counts()
    for who, url, data in ((fay, f"/m/{m.code}/status", {"status": "1"}), (fay, f"/m/{m.code}/phase", {"phase": ["a", "b"]}),
                           (fay, f"/m/{m.code}/topics/{tid}/move", {"status": "<b>"}),
                           (fay, f"/m/{m.code}/timer", {"action": "rewind"}), (ann, f"/m/{m.code}/thumbs", {"choice": "42"}),
                           (fay, f"/m/{m.code}/decide", {"outcome": "maybe"}),
                           (ann, f"/m/{m.code}/topics/{tid}/notes", {"kind": "secret", "text": "x"})):
        response = who.post(url, data)
        assert response.status_code in (409, 422), (url, response.status_code)
    assert counts() == before


@pytest.mark.parametrize("body", [b"title=caf%E9+%FF%FE", b"title=caf\xe9", b"title=ok&description=%C3%28"])
def test_invalid_utf8_is_refused(topic, body):
    m, fay, ann, bob, tid = topic
    before = counts()
    response = ann.client.post(
        f"/m/{m.code}/topics", data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true", "X-CSRFToken": ann.token},
    )
    assert response.status_code == 422 and "not valid UTF-8" in response.text
    assert counts() == before


def test_oversized_bodies_are_refused_with_413(topic):
    m, fay, ann, bob, tid = topic
    before = counts()
    response = ann.post(f"/m/{m.code}/topics", {"title": "big", "description": "z" * 100_000})
    assert response.status_code == 413 and "too much" in response.text
    plain = ann.post(f"/m/{m.code}/topics", {"title": "big", "description": "z" * 100_000}, htmx=False)
    assert plain.status_code == 413 and "too much" in plain.text
    assert counts() == before


def test_unknown_meeting_codes_are_404_everywhere(person):
    visitor = person()
    for path in ("/m/zzzzzzzzzzzz", "/m/zzzzzzzzzzzz/summary", "/m/zzzzzzzzzzzz/room", "/m/%00", "/m/" + "a" * 500):
        assert visitor.get(path).status_code == 404, path
    response = visitor.post("/m/zzzzzzzzzzzz/join", {"name": "Eve"})
    assert response.status_code == 404 and "No meeting has this link" in response.text
    assert User.select().count() == 0  # a wrong link does not even create a user


def test_forms_state_the_limits_the_schema_enforces(meeting):
    m, fay, ann, _ = meeting
    ann.post(f"/m/{m.code}/topics", {"title": "Limits"})
    fay.post(f"/m/{m.code}/phase", {"phase": "voting", "expected": "collecting"})
    fay.post(f"/m/{m.code}/discuss-next", {"expected": "0"})
    board = fay.get(f"/m/{m.code}").text
    stated = {name: {int(n) for n in re.findall(rf'name="{name}"[^>]*maxlength="(\d+)"', board)}
              for name in ("title", "description", "text", "owner", "timebox_pattern")}
    assert stated == {"title": {TOPIC_TITLE_MAX}, "description": {TOPIC_DESCRIPTION_MAX}, "text": {NOTE_MAX},
                      "owner": {NAME_MAX}, "timebox_pattern": {TIMEBOX_PATTERN_MAX}}
    too_long = ann.post(f"/m/{m.code}/topics", {"title": "x" * (TOPIC_TITLE_MAX + 1)})
    assert too_long.status_code == 422 and Topic.select().where(Topic.title.startswith("xxx")).count() == 0
