"""Summary page, Markdown and CSV exports, "My meetings", the room screen, and the new actions over HTTP."""

import csv
import io
from datetime import timedelta

from leancoffee.models import Meeting, Note, Topic, utcnow
from tests.helpers import board_expected


def topic_id(title):
    return Topic.get(Topic.title == title).id


def facilitate(fay, m, action, data=None):
    """Fay presses a control of her board: the form sends the state it names."""
    return fay.post(f"/m/{m.code}/{action}", {**(data or {}), "expected": board_expected(fay, m.code, action)})


def run_meeting(meeting):
    """Collect, vote, discuss one topic through a thumbs round, capture notes, finish."""
    m, fay, ann, bob = meeting
    ann.post(f"/m/{m.code}/topics", {"title": "Hiring <plan>", "description": "=cmd|' /C calc'!A0"})
    bob.post(f"/m/{m.code}/topics", {"title": "Budget"})
    bob.post(f"/m/{m.code}/topics", {"title": "Offsite"})  # tied with Budget: moving on asks, so neither starts
    assert facilitate(fay, m, "phase", {"phase": "voting"}).status_code == 200
    ann.post(f"/m/{m.code}/topics/{topic_id('Hiring <plan>')}/vote")
    bob.post(f"/m/{m.code}/topics/{topic_id('Hiring <plan>')}/vote")
    assert facilitate(fay, m, "discuss-next").status_code == 200
    Meeting.update(timer_ends_at=utcnow() - timedelta(seconds=1)).where(Meeting.id == m.id).execute()
    assert ann.post(f"/m/{m.code}/thumbs", {"choice": "up"}).status_code == 200
    assert bob.post(f"/m/{m.code}/thumbs", {"choice": "neutral"}).status_code == 200
    assert facilitate(fay, m, "decide", {"outcome": "move_on"}).status_code == 200
    hid = topic_id("Hiring <plan>")
    assert ann.post(f"/m/{m.code}/topics/{hid}/notes", {"kind": "takeaway", "text": "Hire two juniors"}).status_code == 200
    action = {"kind": "action", "text": "Post the ad", "owner": "Bob"}
    assert bob.post(f"/m/{m.code}/topics/{hid}/notes", action).status_code == 200
    assert facilitate(fay, m, "phase", {"phase": "done", "confirmed": "1"}).status_code == 200
    return m, fay, ann, bob


def test_completed_meeting_opens_on_its_summary_with_everything(meeting):
    m, fay, ann, bob = run_meeting(meeting)
    response = ann.get(f"/m/{m.code}")
    assert response.status_code == 303 and response.headers["Location"] == f"/m/{m.code}/summary"
    page = ann.get(f"/m/{m.code}/summary").text
    for text in ("<bdi>Fay</bdi>, <bdi>Ann</bdi>, <bdi>Bob</bdi>", "Hiring &lt;plan&gt;", "2 votes", "Round 1 (8 min)",
                 "👍 1 ✋ 1 👎 0 → move on", "Hire two juniors", "Post the ad", "owner: <bdi>Bob</bdi>",
                 "Not discussed", "Budget"):
        assert text in page, text
    assert page.index("Discussed") < page.index("Hiring") < page.index("Not discussed") < page.index("Budget")


def test_exports_contain_what_the_summary_shows(meeting):
    m, fay, ann, bob = run_meeting(meeting)
    md = ann.get(f"/m/{m.code}/summary.md")
    assert md.status_code == 200 and md.mimetype == "text/markdown" and "attachment" in md.headers["Content-Disposition"]
    for text in ("# Team coffee", "- Fay", "### 1. Hiring &lt;plan&gt;", "2 votes", "Round 1 (8 min): 👍 1 ✋ 1 👎 0 → move on",
                 "- Hire two juniors", "- [ ] Post the ad (Bob)", "## Not discussed", "Budget"):
        assert text in md.text, text
    response = ann.get(f"/m/{m.code}/summary.csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert response.mimetype == "text/csv"
    by_record = {}
    for row in rows:
        by_record.setdefault(row["record"], []).append(row)
    assert [r["text"] for r in by_record["attendee"]] == ["Fay", "Ann", "Bob"]
    hiring = next(r for r in by_record["topic"] if r["topic"] == "Hiring <plan>")
    assert hiring["votes"] == "2" and hiring["column"] == "Discussed" and int(hiring["time_spent_seconds"]) >= 0
    assert hiring["text"].startswith("'=")  # a spreadsheet will not run it as a formula
    assert [(r["round"], r["thumbs_up"], r["neutral"], r["outcome"]) for r in by_record["thumbs"]] == [("1", "1", "1", "move on")]
    assert [r["text"] for r in by_record["takeaway"]] == ["Hire two juniors"]
    assert [(r["text"], r["owner"]) for r in by_record["action"]] == [("Post the ad", "Bob")]


def test_summary_and_exports_need_a_participant(meeting, person):
    m, *_ = meeting
    eve = person()
    for path in ("summary", "summary.md", "summary.csv", "room"):
        page = eve.get(f"/m/{m.code}/{path}")
        assert page.status_code == 200 and 'id="join-form"' in page.text and "Team coffee" in page.text
    assert eve.get(f"/m/{m.code}/summary.pdf").status_code == 404


def test_my_meetings_lists_created_and_joined_newest_first(meeting, person):
    m, fay, ann, _ = meeting
    ann.post("/meetings", {"title": "Ann's own", "votes_per_person": "3", "name": "Ann"}, htmx=False)
    home = ann.get("/").text
    assert "My meetings" in home
    assert home.index("Ann&#39;s own") < home.index("Team coffee")
    assert "you facilitate" in home.split("Ann&#39;s own")[1].split("</li>")[0]
    assert "My meetings" not in person().get("/").text


def test_room_screen_is_read_only_with_a_qr_code_of_the_join_link(meeting):
    m, fay, ann, _ = meeting
    ann.post(f"/m/{m.code}/topics", {"title": "Projected"})
    facilitate(fay, m, "phase", {"phase": "voting"})
    assert facilitate(fay, m, "discuss-next").status_code == 200
    page = fay.get(f"/m/{m.code}/room").text
    assert 'hx-ws:connect="/m/' + m.code + '/ws?screen=room"' in page
    assert '<h2 class="room-topic">Projected</h2>' in page and 'id="timer"' in page
    assert "<svg" in page and f'/m/<wbr><span class="room-code">{m.code}</span></strong>' in page
    assert "<form" not in page.split("<main", 1)[1]  # nothing to press on the projector


def test_notes_validation_and_rights(meeting, person):
    m, fay, ann, _ = meeting
    ann.post(f"/m/{m.code}/topics", {"title": "T"})
    tid = topic_id("T")
    assert ann.post(f"/m/{m.code}/topics/{tid}/notes", {"kind": "takeaway", "text": "  "}).status_code == 422
    assert ann.post(f"/m/{m.code}/topics/{tid}/notes", {"kind": "gossip", "text": "x"}).status_code == 422
    assert ann.post(f"/m/{m.code}/topics/{tid}/notes", {"kind": "takeaway", "text": "x" * 501}).status_code == 422
    assert person().post(f"/m/{m.code}/topics/{tid}/notes", {"kind": "takeaway", "text": "spam"}).status_code == 403
    response = ann.post(f"/m/{m.code}/topics/{tid}/notes", {"kind": "takeaway", "text": "<b>kept</b>"})
    assert response.status_code == 200 and f'beforeend:#notes-{tid}"' in response.text
    assert "&lt;b&gt;kept&lt;/b&gt;" in response.text
    assert [n.text for n in Note.select()] == ["<b>kept</b>"]


def test_facilitator_only_actions_are_refused_to_participants(meeting):
    m, fay, ann, _ = meeting
    ann.post(f"/m/{m.code}/topics", {"title": "A"})
    ann.post(f"/m/{m.code}/topics", {"title": "B"})
    for path, data in (("phase", {"phase": "voting"}), ("discuss-next", {}), ("timer", {"action": "start"}),
                       ("decide", {"outcome": "continue"}), ("settings", {"timebox_pattern": "1m"}),
                       ("merge", {"source": topic_id("A"), "target": topic_id("B")})):
        response = ann.post(f"/m/{m.code}/{path}", data)
        assert response.status_code == 403 and "Only a facilitator" in response.text, path
    row = Meeting.get_by_id(m.id)
    assert (row.phase, row.timer_state, row.timebox_pattern) == ("collecting", "idle", "8m 4m 2m")
    assert Topic.select().count() == 2


def test_settings_change_hidden_voting_and_timeboxes(meeting):
    m, fay, ann, _ = meeting
    response = fay.post(f"/m/{m.code}/settings", {"hidden_voting": "1", "timebox_pattern": "5m, 3m"})
    assert response.status_code == 200
    row = Meeting.get_by_id(m.id)
    assert row.hidden_voting and row.timebox_pattern == "5m 3m"
    response = fay.post(f"/m/{m.code}/settings", {"timebox_pattern": "whenever"})
    assert response.status_code == 422 and "not a duration" in response.text
    assert Meeting.get_by_id(m.id).timebox_pattern == "5m 3m"


def test_the_csv_names_the_topics_merged_into_another(meeting):
    m, fay, ann, bob = meeting
    for title in ("Hiring", "Hiring juniors"):
        assert ann.post(f"/m/{m.code}/topics", {"title": title}).status_code == 200
    source, target = (Topic.get(Topic.title == t).id for t in ("Hiring juniors", "Hiring"))
    assert fay.post(f"/m/{m.code}/merge", {"source": source, "target": target, "confirmed": "1"}).status_code == 200
    rows = list(csv.DictReader(io.StringIO(fay.get(f"/m/{m.code}/summary.csv").text)))
    assert [(r["topic"], r["text"]) for r in rows if r["record"] == "merged_from"] == [("Hiring", "Hiring juniors")]
