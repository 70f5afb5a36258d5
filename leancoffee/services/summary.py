"""The meeting summary: attendees, topics in discussion order, time, thumbs rounds, takeaways and actions."""

import csv
import io
import re
from dataclasses import dataclass, field

from flask_babel import gettext, lazy_gettext, ngettext

from leancoffee.i18n import local_datetime, rendering_in
from leancoffee.models import ACTION, TAKEAWAY, Meeting, Participant, ThumbsRound
from leancoffee.services.board import COLUMN_LABELS, BoardState, load_board
from leancoffee.services.timebox import format_duration
from leancoffee.services.viewing import TopicView

HIDDEN_VOTES_LABEL = lazy_gettext("votes hidden until voting closes")


@dataclass
class TopicSummary:
    """One topic as the summary shows it."""

    id: int
    title: str
    description: str
    author: str
    status: str
    # None while hidden voting keeps the counts secret, so no output can show them by mistake.
    votes: int | None
    seconds: int
    rounds: list = field(default_factory=list)
    takeaways: list = field(default_factory=list)
    actions: list = field(default_factory=list)
    merged_from: list = field(default_factory=list)

    @property
    def time_spent(self) -> str:
        return format_duration(self.seconds) if self.seconds else gettext("not discussed")

    @property
    def votes_label(self) -> str:
        if self.votes is None:
            return str(HIDDEN_VOTES_LABEL)
        return ngettext("%(num)d vote", "%(num)d votes", self.votes)


@dataclass
class Summary:
    """Everything a meeting produced, in the order it happened."""

    meeting: Meeting
    attendees: list[str]
    discussed: list[TopicSummary]
    not_discussed: list[TopicSummary]
    # Every action the meeting lists (those carried into it, then its own), and the board it was read from.
    actions: list = field(default_factory=list)
    board: BoardState | None = None

    @property
    def topics(self) -> list[TopicSummary]:
        return self.discussed + self.not_discussed


def build_summary(meeting_id: int) -> Summary:
    """Read a meeting into its summary."""
    return summary_of(load_board(meeting_id))


def summary_of(state: BoardState) -> Summary:
    """The summary of a board already read (the API renders both from one read)."""
    meeting_id = state.meeting.id
    people = Participant.select().where(Participant.meeting == meeting_id).order_by(Participant.joined_at, Participant.id)
    rounds: dict[int, list] = {}
    for r in ThumbsRound.select().where(ThumbsRound.meeting == meeting_id).order_by(ThumbsRound.round):
        rounds.setdefault(r.topic_id, []).append(r)
    first_discussed = {t.id: t.first_discussed_at for t in state.meeting.topics}
    discussed = sorted((t for t in state.topics.values() if first_discussed.get(t.id)),
                       key=lambda t: (first_discussed[t.id], t.id))
    waiting = [t for t in state.topics.values() if not first_discussed.get(t.id)]
    if state.counts_hidden:
        # An order by votes would reveal the counts: list by when each topic was proposed.
        waiting.sort(key=lambda t: (t.created_at, t.id))
    else:
        waiting.sort(key=lambda t: (-t.votes, t.created_at, t.id))
    return Summary(
        meeting=state.meeting, attendees=[p.label for p in people],
        discussed=[_topic_summary(state, t, rounds) for t in discussed],
        not_discussed=[_topic_summary(state, t, rounds) for t in waiting],
        actions=state.actions, board=state,
    )


def _topic_summary(state: BoardState, topic: TopicView, rounds: dict[int, list]) -> TopicSummary:
    """One topic with its rounds and notes; no vote count while counts are hidden."""
    notes = state.notes.get(topic.id, [])
    return TopicSummary(
        id=topic.id, title=topic.title, description=topic.description, author=topic.author_name or gettext("anonymous"),
        status=topic.status,
        votes=None if state.counts_hidden else topic.votes, seconds=state.spent_seconds(topic),
        rounds=rounds.get(topic.id, []), merged_from=topic.merged_from,
        takeaways=[n for n in notes if n.kind == TAKEAWAY], actions=[n for n in notes if n.kind == ACTION],
    )


OUTCOME_LABELS = {"continue": lazy_gettext("continue"), "move_on": lazy_gettext("move on")}


# Characters Markdown (CommonMark, GFM and common extensions) gives a meaning to anywhere in a line.
MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-!|~$=^])")
# A number followed by . or ) opens an ordered list at the start of a line.
LIST_NUMBER = re.compile(r"^(\d+)([.)])")
HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def md_text(text: str) -> str:
    """User text for Markdown: shown as typed, never as headings, lists, quotes, code, links or HTML."""
    lines = []
    for line in text.split("\n"):
        # Leading indentation would make a code block (4 spaces) or nest the line under a list item.
        line = MARKDOWN_PUNCTUATION.sub(r"\\\1", line.lstrip())
        line = LIST_NUMBER.sub(r"\1\\\2", line)
        lines.append("".join(HTML_ENTITIES.get(ch, ch) for ch in line))
    return "\n".join(lines)


def md_item(prefix: str, text: str) -> str:
    """A list item of user text; its further lines are indented so they stay inside the item."""
    first, *rest = md_text(text).split("\n")
    return "\n".join([prefix + first] + [f"  {line}" if line else "" for line in rest])


def to_markdown(summary: Summary) -> str:
    """The summary as Markdown."""
    lines = _markdown_header(summary)
    for heading, topics in ((gettext("Discussed"), summary.discussed), (gettext("Not discussed"), summary.not_discussed)):
        if topics:
            lines += [f"## {heading}", ""]
            for number, topic in enumerate(topics, 1):
                lines += _markdown_topic(number, topic)
    if summary.actions:
        # A task list rather than a table: GitHub ticks it, and a multi-line action stays whole.
        lines += ["## " + gettext("Actions"), ""] + [md_item(f"- [{'x' if n.done else ' '}] ", n.text) + _markdown_action_tail(n)
                                       for n in summary.actions] + [""]
    return "\n".join(lines).rstrip() + "\n"


def _markdown_action_tail(note) -> str:
    """Who owns an action and which topic it came from (an earlier meeting's, when carried)."""
    owner = md_text(note.owner_name) if note.owner_name else gettext("no owner")
    earlier = gettext(", an earlier meeting") if note.carried else ""
    return f" — {owner} · {md_text(note.topic_title)}{earlier}"


def _markdown_header(summary: Summary) -> list[str]:
    """Title, start and end, and attendees."""
    m = summary.meeting
    lines = [f"# {md_text(m.title)}", ""]
    if m.started_at:
        started = local_datetime(m.started_at)
        lines += [gettext("Started %(started)s, ended %(ended)s", started=started, ended=local_datetime(m.ended_at)) if m.ended_at
                  else gettext("Started %(started)s", started=started), ""]
    return lines + ["## " + gettext("Attendees"), ""] + [md_item("- ", name) for name in summary.attendees] + [""]


def _markdown_topic(number: int, t: TopicSummary) -> list[str]:
    """One topic: its heading, votes, time, author, description, thumbs rounds and notes."""
    lines = [f"### {number}. {md_text(t.title)}", "", gettext("%(votes)s · %(time)s · proposed by %(author)s",
                                                              votes=t.votes_label, time=t.time_spent,
                                                                     author=md_text(t.author))]
    if t.description:
        lines += ["", md_text(t.description)]
    if t.merged_from:
        lines += ["", gettext("Merged from") + " " + ", ".join(f"“{md_text(title)}”" for title in t.merged_from)]
    if t.rounds:
        lines += ["", gettext("Thumbs rounds:")]
        lines += ["- " + gettext("Round %(round)s (%(timebox)s)", round=r.round, timebox=format_duration(r.timebox_seconds))
                  + f": 👍 {r.up} ✋ {r.neutral} 👎 {r.down} → {OUTCOME_LABELS[r.outcome]}" for r in t.rounds]
    if t.takeaways:
        lines += ["", gettext("Takeaways:")] + [md_item("- ", n.text) for n in t.takeaways]
    if t.actions:
        lines += ["", gettext("Actions:")] + [md_item(f"- [{'x' if n.done else ' '}] ", n.text)
                                     + (f" ({md_text(n.owner_name)})" if n.owner_name else "") for n in t.actions]
    return lines + [""]


CSV_HEADER = ["record", "topic", "column", "votes", "time_spent_seconds", "round", "thumbs_up", "neutral",
              "thumbs_down", "outcome", "text", "owner", "done"]
EARLIER_MEETING = "earlier meeting"


def to_csv(summary: Summary) -> str:
    """The summary as CSV: one row per attendee, topic, topic merged into it, thumbs round, takeaway and action
    (the meeting's own and those carried into it, each with its owner and whether it is done).

    Data for spreadsheets and scripts: its keys and values are English in every language, like its header row.
    """
    with rendering_in("en"):
        return _csv_rows(summary)


def _csv_rows(summary: Summary) -> str:
    """The CSV's text (in English: see to_csv)."""
    rows = [CSV_HEADER] + [["attendee", "", "", "", "", "", "", "", "", "", name, ""] for name in summary.attendees]
    topics = summary.board.topics if summary.board else {}
    for t in summary.topics:
        column = COLUMN_LABELS[t.status]
        votes = "" if t.votes is None else t.votes
        rows.append(["topic", t.title, column, votes, t.seconds, "", "", "", "", "", t.description, ""])
        rows += [["merged_from", t.title, column, "", "", "", "", "", "", "", title, ""] for title in t.merged_from]
        for r in t.rounds:
            outcome = OUTCOME_LABELS[r.outcome]
            rows.append(["thumbs", t.title, column, "", "", r.round, r.up, r.neutral, r.down, outcome, "", ""])
        rows += [["takeaway", t.title, column, "", "", "", "", "", "", "", n.text, ""] for n in t.takeaways]
    for n in summary.actions:
        column = EARLIER_MEETING if n.carried or n.topic_id not in topics else COLUMN_LABELS[topics[n.topic_id].status]
        done = "yes" if n.done else "no"
        rows.append(["action", n.topic_title, column, "", "", "", "", "", "", "", n.text, n.owner_name, done])
    out = io.StringIO()
    csv.writer(out).writerows([[_safe_cell(v) for v in row] + [""] * (len(CSV_HEADER) - len(row)) for row in rows])
    return out.getvalue()


def _safe_cell(value):
    """Text a spreadsheet would run as a formula (=, +, -, @ first) is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
