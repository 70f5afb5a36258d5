"""Issue 12, "Hidden stays hidden": no vote count leaks through the summary, text cannot lie, exports stay text."""

import csv
import io
import re

import pytest

from leancoffee.models import Meeting, Participant, Topic
from leancoffee.services.errors import Invalid
from leancoffee.services.validation import clean_text
from tests.helpers import board_expected, need

HIDDEN = "votes hidden until voting closes"
COUNT = re.compile(r"\b\d+ votes?\b")


def topic_id(title):
    return Topic.get(Topic.title == title).id


def facilitate(fay, m, action, data=None):
    """Fay presses a control of her board: the form sends the state it names."""
    return fay.post(f"/m/{m.code}/{action}", {**(data or {}), "expected": board_expected(fay, m.code, action)})


def summary_outputs(who, m):
    """The summary page, the Markdown export and the CSV topic rows, as a participant downloads them."""
    page = who.get(f"/m/{m.code}/summary").text
    markdown = who.get(f"/m/{m.code}/summary.md").text
    rows = [r for r in csv.DictReader(io.StringIO(who.get(f"/m/{m.code}/summary.csv").text)) if r["record"] == "topic"]
    return page, markdown, rows


def in_order(text, *parts):
    positions = [text.index(p) for p in parts]
    return positions == sorted(positions)


@pytest.fixture
def hidden_vote(meeting):
    """Hidden voting, topics proposed First, Second, Third, and votes that rank them Third (3), Second (1), First (0)."""
    m, fay, ann, bob = meeting
    assert fay.post(f"/m/{m.code}/settings", {"hidden_voting": "1", "timebox_pattern": "8m"}).status_code == 200
    for title in ("First", "Second", "Third"):
        assert ann.post(f"/m/{m.code}/topics", {"title": title}).status_code == 200
    assert facilitate(fay, m, "phase", {"phase": "voting"}).status_code == 200
    for who, title in ((ann, "Third"), (bob, "Third"), (fay, "Third"), (bob, "Second")):
        assert who.post(f"/m/{m.code}/topics/{topic_id(title)}/vote").status_code == 200
    return m, fay, ann, bob


def assert_counts_hidden(who, m):
    page, markdown, rows = summary_outputs(who, m)
    for output in (page, markdown):
        assert output.count(HIDDEN) == 3 and not COUNT.search(output)
        assert in_order(output, "First", "Second", "Third")  # proposed order, not vote order
    assert [(r["topic"], r["votes"]) for r in rows] == [("First", ""), ("Second", ""), ("Third", "")]


# --- A. hidden votes stay hidden in the summary ---

def test_hidden_counts_and_their_order_stay_out_of_every_summary_output(hidden_vote):
    m, fay, ann, bob = hidden_vote
    for who in (ann, fay):  # not even the facilitator's copy shows them
        assert_counts_hidden(who, m)


def test_hidden_counts_appear_once_voting_closes_and_hide_again_when_it_reopens(hidden_vote):
    m, fay, ann, bob = hidden_vote
    assert facilitate(fay, m, "phase", {"phase": "discussing"}).status_code == 200
    page, markdown, rows = summary_outputs(ann, m)
    for output in (page, markdown):
        assert HIDDEN not in output and in_order(output, "Third", "Second", "First")
        assert "3 votes" in output and "1 vote ·" in output and "0 votes" in output
    assert [(r["topic"], r["votes"]) for r in rows] == [("Third", "3"), ("Second", "1"), ("First", "0")]
    assert facilitate(fay, m, "phase", {"phase": "voting"}).status_code == 200
    assert_counts_hidden(ann, m)


def test_turning_hidden_voting_off_shows_the_counts_while_voting(hidden_vote):
    m, fay, ann, bob = hidden_vote
    assert fay.post(f"/m/{m.code}/settings", {"timebox_pattern": "8m"}).status_code == 200
    page, markdown, rows = summary_outputs(bob, m)
    assert "3 votes" in page and in_order(page, "Third", "Second", "First") and HIDDEN not in markdown
    assert [r["votes"] for r in rows] == ["3", "1", "0"]


def test_hidden_counts_stay_hidden_while_collecting_topics(meeting):
    m, fay, ann, bob = meeting
    fay.post(f"/m/{m.code}/settings", {"hidden_voting": "1", "timebox_pattern": "8m"})
    for title in ("Old", "New"):
        ann.post(f"/m/{m.code}/topics", {"title": title})
    bob.post(f"/m/{m.code}/topics/{topic_id('New')}/vote")  # voting is allowed while collecting
    page, markdown, rows = summary_outputs(ann, m)
    assert not COUNT.search(page) and not COUNT.search(markdown) and in_order(markdown, "Old", "New")
    assert [r["votes"] for r in rows] == ["", ""]


# --- B. text that lies ---

FLAG_ENGLAND = "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u3164", "\u115f", "\u1160", "\uffa0", "\u2800", "\u180e",
             # marks with nothing visible to sit on: variation selectors and combining accents
             "\ufe0f", "\U000e0100", "\u180b", "\u0301", "\u2800\ufe0f", "\u3164\u0301"]


@pytest.mark.parametrize("control", BIDI)
@pytest.mark.parametrize("template", ["{}", "Ann{}", "{}evil.exe", "abc{}txt.exe", " {} "])
def test_every_bidi_control_is_refused_anywhere(control, template):
    with pytest.raises(Invalid, match="Name contains text-direction control characters"):
        clean_text(template.format(control), "Name", 40)


@pytest.mark.parametrize("blank", INVISIBLE)
@pytest.mark.parametrize("padding", ["{}", "{}{}", " {} ", "\t{}\u200b", "{}\u3164{}"])
def test_text_of_only_invisible_characters_is_required_text_missing(blank, padding):
    with pytest.raises(Invalid, match="Title is required"):
        clean_text(padding.format(blank, blank), "Title", 120)
    assert clean_text(padding.format(blank, blank), "Description", 500, required=False, multiline=True) == ""


@pytest.mark.parametrize("blank", INVISIBLE)
def test_invisible_characters_at_either_end_are_stripped(blank):
    assert clean_text(f"{blank} Ann {blank}", "Name", 40) == "Ann"
    assert clean_text(f"{blank}\n  line one\nline two\n{blank}", "Note", 500, multiline=True) == "line one\nline two"


@pytest.mark.parametrize("inside", ["\u200b", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u200d ", " \u200c", "\U000e0041"])
def test_format_characters_inside_text_are_refused(inside):
    with pytest.raises(Invalid, match="invisible characters"):
        clean_text(f"Al{inside}ice", "Name", 40)


@pytest.mark.parametrize("text", [
    "👩\u200d💻 Ann",                      # woman technologist: a ZWJ sequence
    "🏳\ufe0f\u200d🌈",                    # rainbow flag: variation selector, then ZWJ
    "👨\u200d👩\u200d👧\u200d👦",         # family: three joiners
    "👩🏽\u200d🚀",                        # skin tone, then ZWJ
    FLAG_ENGLAND,                          # subdivision flag: tag characters ending in CANCEL TAG
    f"Go {FLAG_ENGLAND}!",
    "می\u200cخواهم",                       # Persian needs the zero-width non-joiner between letters
    "مريم", "שלום עולם", "Ann (אנה) مريم",  # right-to-left scripts are ordinary text
    "a\u3164b",                             # a blank glyph between visible characters is like a space
])
def test_real_text_with_joiners_tags_and_right_to_left_scripts_is_kept(text):
    assert clean_text(f"  {text}  ", "Title", 120) == text


@pytest.mark.parametrize("text", ["x\U000e0067\U000e007f", FLAG_ENGLAND[:-1], "ok \U000e0067\U000e007f"])
def test_tag_characters_only_finish_an_emoji_flag(text):
    with pytest.raises(Invalid):
        clean_text(text + " ok", "Title", 120)


def test_names_that_lie_are_refused_at_join_and_stored_names_are_clean(meeting, person):
    m, fay, ann, bob = meeting
    for name in ("\u202eevil", "\u200b", "\u3164", "Ev\u200be"):
        response = person().post(f"/m/{m.code}/join", {"name": name})
        assert response.status_code == 422 and 'id="flash"' in response.text, repr(name)
    eve = person()
    assert eve.post(f"/m/{m.code}/join", {"name": "\u200bEve\u2800 "}, htmx=False).status_code == 303
    assert [p.name for p in Participant.select().order_by(Participant.id)] == ["Fay", "Ann", "Bob", "Eve"]


def test_names_render_isolated_in_bdi_on_the_board_and_summary(meeting, person):
    m, fay, ann, bob = meeting
    maryam = person()
    assert maryam.post(f"/m/{m.code}/join", {"name": "مريم"}, htmx=False).status_code == 303
    maryam.post(f"/m/{m.code}/topics", {"title": "Roadmap"})
    maryam.post(f"/m/{m.code}/topics/{topic_id('Roadmap')}/notes", {"kind": "action", "text": "Draft", "owner": "אנה"})
    board = fay.get(f"/m/{m.code}").text
    assert '<span class="person-name"><bdi>مريم</bdi></span>' in board and "by <bdi>مريم</bdi>" in board
    assert "owner: <bdi>אנה</bdi>" in board
    summary = fay.get(f"/m/{m.code}/summary").text
    assert "<bdi>Fay</bdi>, <bdi>Ann</bdi>, <bdi>Bob</bdi>, <bdi>مريم</bdi>" in summary
    assert "proposed by <bdi>مريم</bdi>" in summary and "owner: <bdi>אנה</bdi>" in summary
    assert "Signed in on this browser as <strong><bdi>مريم</bdi></strong>" in maryam.get("/").text


# --- C. the Markdown export is text, not markup ---

HOSTILE_TITLES = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[link](javascript:alert(1))",
                  "*bold* and `code` and _em_", "1. item", "> quote", "---", "# not a heading", "a | b | c"]
HOSTILE_DESCRIPTION = "x\n## Attendees\n- Mallory\n    code\n1) two\n===\n+ plus\n<b>&amp;</b>"
APP_PREFIX = re.compile(r"^(# |## |### \d+\. |- \[ \] |- |  )")
MARKUP_START = re.compile(r"^(#|-|>|\+|\*|=|\d+[.)]|\s)")


@pytest.fixture
def hostile(person):
    """A meeting whose every piece of user text tries to be Markdown or HTML; one topic discussed, with notes."""
    fay = person()
    response = fay.post("/meetings", {"title": "<script>x</script> # coffee", "votes_per_person": "3",
                                      "name": "- Fay"}, htmx=False)
    m = Meeting.get(Meeting.code == response.headers["Location"].rsplit("/", 1)[-1])
    mallory = person()
    mallory.post(f"/m/{m.code}/join", {"name": "<img src=x onerror=alert(2)>"}, htmx=False)
    for title in HOSTILE_TITLES:
        assert mallory.post(f"/m/{m.code}/topics", {"title": title, "description": HOSTILE_DESCRIPTION}).status_code == 200
    mallory.post(f"/m/{m.code}/topics/{topic_id('1. item')}/vote")
    assert facilitate(fay, m, "phase", {"phase": "voting"}).status_code == 200
    assert facilitate(fay, m, "discuss-next").status_code == 200
    tid = topic_id("1. item")
    for note in ({"kind": "takeaway", "text": "> quoted\n\n    indented\n## Actions"},
                 {"kind": "action", "text": "[x](javascript:alert(3))", "owner": "**Boss**"}):
        assert mallory.post(f"/m/{m.code}/topics/{tid}/notes", note).status_code == 200
    return m, fay


def test_markdown_export_escapes_every_piece_of_user_text(hostile):
    m, fay = hostile
    response = fay.get(f"/m/{m.code}/summary.md")
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    markdown = response.text
    assert "<" not in markdown and "](" not in markdown and "`code`" not in markdown
    for line in markdown.splitlines():
        user_part = APP_PREFIX.sub("", line, count=1)
        assert not MARKUP_START.match(user_part), line
    assert markdown.startswith("# &lt;script&gt;x&lt;/script&gt; \\# coffee\n")
    # A multi-line note keeps its later lines inside its list item, with no trailing spaces.
    assert "- &gt; quoted\n\n  indented\n  \\#\\# Actions\n" in markdown
    assert "### 1. 1\\. item" in markdown and "- [ ] \\[x\\]\\(javascript:alert\\(3\\)\\) (\\*\\*Boss\\*\\*)" in markdown


def test_markdown_export_renders_as_the_text_people_typed(hostile):
    need(_markdown_it() is not None, "markdown-it-py is not installed (pip install -r requirements-dev.txt)")
    m, fay = hostile
    html = _markdown_it().render(fay.get(f"/m/{m.code}/summary.md").text)
    assert re.findall(r"<h2>(.*?)</h2>", html) == ["Attendees", "Discussed", "Not discussed", "Actions"]
    assert re.findall(r"<h1>(.*?)</h1>", html) == ["&lt;script&gt;x&lt;/script&gt; # coffee"]
    assert len(re.findall(r"<h3>", html)) == len(HOSTILE_TITLES)
    for markup in ("<script", "<img", "<a ", "<em", "<strong", "<code", "<pre", "<blockquote", "<ol", "<hr", "<table",
                   "<b>"):
        assert markup not in html, markup
    for typed in ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;",
                  "[link](javascript:alert(1))", "*bold* and `code` and _em_", "1. item", "&gt; quote", "---",
                  "# not a heading", "a | b | c", "<p>x\n## Attendees\n- Mallory\ncode\n1) two\n===\n+ plus\n"
                  "&lt;b&gt;&amp;amp;&lt;/b&gt;</p>", "<li>- Fay</li>", "<li>&lt;img src=x onerror=alert(2)&gt;</li>",
                  "[x](javascript:alert(3)) (**Boss**)"):
        assert typed in html, typed
    # The takeaway's blank line and indented line stay inside its list item instead of escaping the list.
    assert "<li>\n<p>&gt; quoted</p>\n<p>indented\n## Actions</p>\n</li>" in html


def test_csv_export_says_its_charset_once(hostile):
    m, fay = hostile
    assert fay.get(f"/m/{m.code}/summary.csv").headers["Content-Type"] == "text/csv; charset=utf-8"


def _markdown_it():
    """CommonMark (raw HTML allowed, as most viewers do) plus GFM tables and strikethrough, or None if not installed."""
    try:
        from markdown_it import MarkdownIt
    except ImportError:
        return None
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


@pytest.mark.parametrize("text", ["e\u0301", "Zoe\u0308", "\u2764\ufe0f", "\u2764\ufe0f\u200d\U0001f525", "\u0915\u094d\u0937"])
def test_marks_on_a_visible_character_are_kept_even_at_the_end(text):
    assert clean_text(f" {text} ", "Title", 120) == text
