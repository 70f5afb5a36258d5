"""The meeting summary: attendees, topics in discussion order, time, thumbs rounds, takeaways and actions."""

import csv
import io
from dataclasses import dataclass, field

from leancoffee.models import ACTION, TAKEAWAY, Meeting, Participant, ThumbsRound
from leancoffee.services.board import COLUMN_LABELS, load_board
from leancoffee.services.timebox import format_duration


@dataclass
class TopicSummary:
    """One topic as the summary shows it."""

    title: str
    description: str
    author: str
    status: str
    votes: int
    seconds: int
    rounds: list = field(default_factory=list)
    takeaways: list = field(default_factory=list)
    actions: list = field(default_factory=list)

    @property
    def time_spent(self) -> str:
        return format_duration(self.seconds) if self.seconds else "not discussed"


@dataclass
class Summary:
    """Everything a meeting produced, in the order it happened."""

    meeting: Meeting
    attendees: list[str]
    discussed: list[TopicSummary]
    not_discussed: list[TopicSummary]

    @property
    def topics(self) -> list[TopicSummary]:
        return self.discussed + self.not_discussed


def build_summary(meeting_id: int) -> Summary:
    """Read a meeting into its summary."""
    state = load_board(meeting_id)
    people = Participant.select().where(Participant.meeting == meeting_id).order_by(Participant.joined_at, Participant.id)
    attendees = [p.name for p in people]
    rounds: dict[int, list] = {}
    for r in ThumbsRound.select().where(ThumbsRound.meeting == meeting_id).order_by(ThumbsRound.round):
        rounds.setdefault(r.topic_id, []).append(r)
    first_discussed = {t.id: t.first_discussed_at for t in state.meeting.topics}
    items = []
    for topic in state.topics.values():
        notes = state.notes.get(topic.id, [])
        items.append((first_discussed.get(topic.id), topic, TopicSummary(
            title=topic.title, description=topic.description, author=topic.author_name, status=topic.status,
            votes=topic.votes, seconds=state.spent_seconds(topic), rounds=rounds.get(topic.id, []),
            takeaways=[n for n in notes if n.kind == TAKEAWAY], actions=[n for n in notes if n.kind == ACTION],
        )))
    discussed = [s for when, _, s in sorted((i for i in items if i[0]), key=lambda i: (i[0], i[1].id))]
    waiting = [s for _, _, s in sorted((i for i in items if not i[0]), key=lambda i: (-i[1].votes, i[1].created_at, i[1].id))]
    return Summary(meeting=state.meeting, attendees=attendees, discussed=discussed, not_discussed=waiting)


OUTCOME_LABELS = {"continue": "continue", "move_on": "move on"}


def to_markdown(summary: Summary) -> str:
    """The summary as Markdown."""
    m = summary.meeting
    lines = [f"# {m.title}", ""]
    if m.started_at:
        ended = f", ended {m.ended_at:%Y-%m-%d %H:%M} UTC" if m.ended_at else ""
        lines += [f"Started {m.started_at:%Y-%m-%d %H:%M} UTC{ended}", ""]
    lines += ["## Attendees", ""] + [f"- {name}" for name in summary.attendees] + [""]
    for heading, topics in (("Discussed", summary.discussed), ("Not discussed", summary.not_discussed)):
        if not topics:
            continue
        lines += [f"## {heading}", ""]
        for number, t in enumerate(topics, 1):
            lines.append(f"### {number}. {t.title}")
            lines.append("")
            lines.append(f"{t.votes} {'vote' if t.votes == 1 else 'votes'} · {t.time_spent} · proposed by {t.author}")
            if t.description:
                lines += ["", t.description]
            if t.rounds:
                lines += ["", "Thumbs rounds:"]
                lines += [f"- Round {r.round} ({format_duration(r.timebox_seconds)}): 👍 {r.up} ✋ {r.neutral} 👎 {r.down}"
                          f" → {OUTCOME_LABELS[r.outcome]}" for r in t.rounds]
            if t.takeaways:
                lines += ["", "Takeaways:"] + [f"- {n.text}" for n in t.takeaways]
            if t.actions:
                lines += ["", "Actions:"] + [f"- [ ] {n.text}" + (f" ({n.owner})" if n.owner else "") for n in t.actions]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


CSV_HEADER = ["record", "topic", "column", "votes", "time_spent_seconds", "round", "thumbs_up", "neutral",
              "thumbs_down", "outcome", "text", "owner"]


def to_csv(summary: Summary) -> str:
    """The summary as CSV: one row per attendee, topic, thumbs round, takeaway and action."""
    rows = [CSV_HEADER] + [["attendee", "", "", "", "", "", "", "", "", "", name, ""] for name in summary.attendees]
    for t in summary.topics:
        column = COLUMN_LABELS[t.status]
        rows.append(["topic", t.title, column, t.votes, t.seconds, "", "", "", "", "", t.description, ""])
        for r in t.rounds:
            outcome = OUTCOME_LABELS[r.outcome]
            rows.append(["thumbs", t.title, column, "", "", r.round, r.up, r.neutral, r.down, outcome, "", ""])
        rows += [["takeaway", t.title, column, "", "", "", "", "", "", "", n.text, ""] for n in t.takeaways]
        rows += [["action", t.title, column, "", "", "", "", "", "", "", n.text, n.owner] for n in t.actions]
    out = io.StringIO()
    csv.writer(out).writerows([[_safe_cell(v) for v in row] for row in rows])
    return out.getvalue()


def _safe_cell(value):
    """Text a spreadsheet would run as a formula (=, +, -, @ first) is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
