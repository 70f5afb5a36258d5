"""Each format's body against a fixture of the shape its receiver accepts (Slack, Mattermost, Teams Workflows, our JSON)."""

import json

import pytest

from leancoffee.models import Note
from leancoffee.services import facilitation, notes, series, topics, votes
from leancoffee.webhooks import payloads
from leancoffee.webhooks.tables import MEETING_FINISHED, TOPIC_DISCUSSED
from tests.helpers import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "webhooks"
TYPES = {str: "string", int: "number", float: "number", bool: "boolean", type(None): "null", dict: "object", list: "array"}


def fixture(name: str) -> dict:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    data.pop("_source")
    return data


def conforms(ours, theirs, where="$") -> list[str]:
    """Where `ours` leaves the fixture's shape: a key it lacks or adds, a type it changes (null may stand for a value)."""
    if isinstance(theirs, dict):
        if not isinstance(ours, dict):
            return [f"{where}: {TYPES[type(ours)]}, not an object"]
        problems = [f"{where}.{key}: missing" for key in theirs if key not in ours and theirs[key] is not None]
        problems += [f"{where}.{key}: not in the fixture" for key in ours if key not in theirs]
        return problems + [p for key in ours if key in theirs for p in conforms(ours[key], theirs[key], f"{where}.{key}")]
    if isinstance(theirs, list):
        if not isinstance(ours, list):
            return [f"{where}: {TYPES[type(ours)]}, not an array"]
        if not theirs:
            return []  # the fixture shows no item: any list will do
        # Each item matches one of the fixture's items (an Adaptive Card's text blocks differ in their optional keys).
        return [p for i, item in enumerate(ours)
                if all(conforms(item, candidate) for candidate in theirs) for p in conforms(item, theirs[0], f"{where}[{i}]")]
    if ours is None or theirs is None or TYPES[type(ours)] == TYPES[type(theirs)]:
        return []
    return [f"{where}: {TYPES[type(ours)]}, the fixture has {TYPES[type(theirs)]}"]


@pytest.fixture
def finished(app, trio):
    """A meeting with a discussed topic (takeaway, an owned action, one done) and one not discussed, finished; its two
    documents."""
    m, fay, ann, bob = trio
    with app.test_request_context():
        first = topics.add_topic(ann, m.code, "Ship <on> Fridays? [x](javascript:y) & *bold*", "").topic_id
        topics.add_topic(bob, m.code, "Budget", "")
        facilitation.change_phase(fay, m.code, "voting")
        votes.cast_vote(bob, m.code, first)
        facilitation.discuss_next(fay, m.code)
        notes.add_note(ann, m.code, first, "takeaway", "Not on Fridays, tell @channel and @all")
        notes.add_note(ann, m.code, first, "action", "Write it down", owner="Ann")
        notes.add_note(ann, m.code, first, "action", "Tell ops", owner="Bob")
        notes.mark_action(fay, m.code, Note.get(Note.text == "Tell ops").id, True)
        facilitation.change_phase(fay, m.code, "done")
        meeting = type(m).get_by_id(m.id)
        yield payloads.document(MEETING_FINISHED, meeting), payloads.document(TOPIC_DISCUSSED, meeting, first)


def test_the_json_documents_have_the_documented_shape(finished):
    done, topic = finished
    assert conforms(done, fixture("json-meeting-finished")) == []
    assert conforms(topic, fixture("json-topic-discussed")) == []
    first = done["meeting"]["discussed"][0]
    assert first["votes"] == 1 and first["takeaways"][0]["text"] == "Not on Fridays, tell @channel and @all"
    # Each action says whether it is done, in its topic and in the meeting's list of every action (as the summary page).
    assert [(n["text"], n["owner"], n["done"]) for n in first["actions"]] == [("Write it down", "Ann", False),
                                                                             ("Tell ops", "Bob", True)]
    assert [(n["text"], n["done"], n["carried"]) for n in done["meeting"]["actions"]] == [("Write it down", False, False),
                                                                                        ("Tell ops", True, False)]
    assert [n["done"] for n in topic["topic"]["actions"]] == [False, True] and done["meeting"]["series"] is None


def test_slack_gets_mrkdwn_text_with_its_links_and_user_text_escaped(app, finished):
    done, topic = finished
    with app.test_request_context():
        for doc in finished:
            body = json.loads(payloads.render("slack", doc))
            assert conforms(body, fixture("slack")) == [] and list(body) == ["text"]
        text = json.loads(payloads.render("slack", done))["text"]
    summary = done["meeting"]["links"]["summary"]
    assert f"<{summary}|Coffee>" in text and "Ship &lt;on&gt; Fridays? [x](javascript:y) &amp; *bold*" in text
    assert "Takeaway: Not on Fridays" in text and "Action: Write it down (Ann)\n" in text and "<on>" not in text
    assert "Action: Tell ops (Bob) ✓ done" in text and "earlier meetings" not in text


def test_mattermost_gets_markdown_text_with_markdown_links_and_nothing_of_the_users_as_markup(app, finished):
    done, topic = finished
    with app.test_request_context():
        for doc in finished:
            assert conforms(json.loads(payloads.render("mattermost", doc)), fixture("mattermost")) == []
        text = json.loads(payloads.render("mattermost", done))["text"]
    assert f"[Coffee]({done['meeting']['links']['summary']})" in text
    assert "\\[x\\]\\(javascript:y\\)" in text and "&lt;on&gt;" in text and "\\*bold\\*" in text
    # A typed mention notifies nobody: a word joiner after each @ (the reader sees the same text).
    assert "@channel" not in text and "@all" not in text and "tell @\u2060channel and @\u2060all" in text


def test_teams_gets_an_adaptive_card_in_an_attachment(app, finished):
    done, topic = finished
    with app.test_request_context():
        cards = [json.loads(payloads.render("teams", doc)) for doc in finished]
    for card in cards:
        assert conforms(card, fixture("teams")) == []
        attachment = card["attachments"][0]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert attachment["content"]["actions"][0]["url"] == done["meeting"]["links"]["summary"]
    texts = [block["text"] for block in cards[1]["attachments"][0]["content"]["body"]]
    assert any("Not on Fridays" in t for t in texts) and "- Action: Write it down (Ann)" in texts
    assert "- Action: Tell ops (Bob) ✓ done" in texts


def test_links_start_with_public_url(app, trio):
    m, fay, ann, bob = trio
    app.config["PUBLIC_URL"] = "https://coffee.example.org"
    with app.test_request_context():
        facilitation.change_phase(fay, m.code, "voting")
        facilitation.change_phase(fay, m.code, "discussing")
        facilitation.change_phase(fay, m.code, "done")
        doc = payloads.document(MEETING_FINISHED, type(m).get_by_id(m.id))
    assert doc["meeting"]["links"] == {"board": f"https://coffee.example.org/m/{m.code}",
                                       "summary": f"https://coffee.example.org/m/{m.code}/summary"}


def test_a_series_meeting_s_messages_list_the_actions_carried_into_it_with_their_done_state(app, finished, trio):
    m, fay, ann, bob = trio
    with app.test_request_context():
        _, following = series.run_again(fay, m.code)
        notes.mark_action(fay, following.code, Note.get(Note.text == "Write it down").id, True)
        for phase in ("voting", "discussing", "done"):
            facilitation.change_phase(fay, following.code, phase)
        doc = payloads.document(MEETING_FINISHED, type(m).get_by_id(following.id))
        assert conforms(doc, fixture("json-meeting-finished")) == []
        # Only the open action came along ("Tell ops" was done), and it is done now, in this meeting.
        assert [(n["text"], n["done"], n["carried"], n["topic"]) for n in doc["meeting"]["actions"]] == [
            ("Write it down", True, True, "Ship <on> Fridays? [x](javascript:y) & *bold*")]
        slack = json.loads(payloads.render("slack", doc))["text"]
        card = json.loads(payloads.render("teams", doc))["attachments"][0]["content"]["body"]
    assert slack.endswith("Actions from earlier meetings:\n• Action: Write it down (Ann) ✓ done")
    assert [b["text"] for b in card[-2:]] == ["**Actions from earlier meetings:**", "- Action: Write it down (Ann) ✓ done"]
