"""Time for the whole meeting: timeboxes for collecting and voting on the shared timer, and the planned length's pace.

The collecting and voting timeboxes run on the same timer columns as a topic's (round 0: no topic's), so
time-up, pause, +1 minute and restarts work the same way. When one ends nothing moves on by itself.
The planned length counts wall-clock time from the meeting's start (`started_at`): pausing or extending
a timebox does not stop the meeting's clock, and a topic's time is what it really took, pauses included.
"""

import math
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext

from leancoffee.models import (
    COLLECTING,
    DISCUSSED,
    IN_PROGRESS,
    PLANNED,
    PLANNED_MINUTES_MAX,
    TIMER_IDLE,
    VOTING,
    Meeting,
)
from leancoffee.services.errors import Conflict, Invalid
from leancoffee.services.meetings import status_fields
from leancoffee.services.timebox import changed_timer, ends_after, format_pattern, parse_pattern, started_timer, timebox_seconds
from leancoffee.services.validation import clean_int

PHASE_TIMEBOX_COLUMNS = {COLLECTING: Meeting.collecting_seconds, VOTING: Meeting.voting_seconds}
IDLE_TIMER = {Meeting.timer_state: TIMER_IDLE, Meeting.timer_ends_at: None, Meeting.timer_remaining: None, Meeting.timer_round: 0}


def parse_timebox(value, label: str) -> int | None:
    """Seconds of an optional single timebox ("5m", "90s"; a bare number is minutes); blank means none."""
    if not str(value or "").strip():
        return None
    try:
        steps = parse_pattern(value)
    except Invalid as error:
        raise Invalid(gettext("%(label)s: %(reason)s", label=label, reason=error.message)) from None
    if len(steps) != 1:
        raise Invalid(gettext("%(label)s is one length, like 5m or 90s.", label=label))
    return steps[0]


def clock_settings(collecting=None, voting=None, planned=None) -> dict:
    """Meeting columns for the clock fields a form sent; a field it did not send at all (None) stays as it is."""
    fields = {}
    if collecting is not None:
        fields[Meeting.collecting_seconds] = parse_timebox(collecting, gettext("Collecting timebox"))
    if voting is not None:
        fields[Meeting.voting_seconds] = parse_timebox(voting, gettext("Voting timebox"))
    if planned is not None:
        text = str(planned).strip()
        fields[Meeting.planned_minutes] = clean_int(text, gettext("Planned length"), 1, PLANNED_MINUTES_MAX) if text else None
    return fields


def phase_timebox(meeting: Meeting) -> int | None:
    """Seconds of the timebox set for the phase the meeting is in (collecting or voting); None when there is none."""
    column = PHASE_TIMEBOX_COLUMNS.get(meeting.phase)
    return getattr(meeting, column.name) if column is not None else None


def timer_for_phase(meeting: Meeting, phase: str, now) -> dict:
    """Timer columns on leaving collecting or voting while no topic is discussed: that timebox ends, and opening
    voting starts voting's own (if set). Going back starts nothing: the facilitator presses Start."""
    seconds = meeting.voting_seconds if (meeting.phase, phase) == (COLLECTING, VOTING) else None
    return started_timer(now, seconds, 0) if seconds else dict(IDLE_TIMER)


def phase_timer_action(meeting: Meeting, timer, action: str, now) -> dict:
    """Timer columns after a facilitator's action on the collecting or voting timebox.

    Starting collecting's timebox starts a planned meeting (as Open voting would): the planned length counts from then.
    """
    if action != "start":
        return changed_timer(timer, action, now)
    if timer.state != TIMER_IDLE:
        raise Conflict(gettext("The timer is already started."))
    seconds = phase_timebox(meeting)
    if not seconds:
        raise Conflict(gettext("This phase has no timebox: set one in Meeting settings first."))
    fields = started_timer(now, seconds, 0)
    if meeting.status == PLANNED:
        fields.update(status_fields(meeting, IN_PROGRESS, now))
    return fields


@dataclass(frozen=True)
class Pace:
    """The planned length against the clock: time left and how many more topics fit at the pace so far."""

    planned_seconds: int
    started_at: datetime | None
    # Negative once the meeting runs over.
    left_seconds: float
    # The average time of the topics discussed so far, or the first timebox before any was.
    per_topic_seconds: int
    averaged: bool

    @property
    def over(self) -> bool:
        return self.left_seconds < 0

    @property
    def minutes(self) -> int:
        """Whole minutes left (or over), rounded up as a countdown is: 30 s left is "1 min"."""
        return math.ceil(abs(self.left_seconds) / 60)

    @property
    def fits(self) -> int:
        """Topics that still fit: time left ÷ time per topic, rounded down."""
        return max(0, math.floor(self.left_seconds / self.per_topic_seconds))

    @property
    def ends_at(self) -> datetime | None:
        return ends_after(self.started_at, self.planned_seconds) if self.started_at else None


def pace_of(meeting: Meeting, topics, now) -> Pace | None:
    """The pace of a meeting with a planned length (None without one); `topics` are the board's topic views."""
    if not meeting.planned_minutes:
        return None
    planned = meeting.planned_minutes * 60
    # A topic moved to Discussed without being discussed took no time, and must not make the average zero.
    spent = [t.discussed_seconds for t in topics if t.status == DISCUSSED and t.discussed_seconds > 0]
    per_topic = round(sum(spent) / len(spent)) if spent else timebox_seconds(meeting.timebox_pattern, 1)
    elapsed = ((meeting.ended_at or now) - meeting.started_at).total_seconds() if meeting.started_at else 0
    return Pace(planned, meeting.started_at, planned - elapsed, max(1, per_topic), bool(spent))


class ClockRules:
    """What the board shows of the meeting's clock (mixed into BoardState: meeting, topics, now, timer, current_topic)."""

    @property
    def phase_timer_shown(self) -> bool:
        """The timer panel is the collecting or voting timebox: no topic is discussed, and one is set or still running."""
        if self.read_only or self.current_topic is not None or self.meeting.phase not in PHASE_TIMEBOX_COLUMNS:
            return False
        return bool(phase_timebox(self.meeting)) or self.timer.state != TIMER_IDLE

    def phase_timebox(self) -> int | None:
        return phase_timebox(self.meeting)

    def timebox_length(self) -> int:
        """Seconds of the current timebox (more if it was extended): what its progress bar measures."""
        timer = self.timer
        planned = timebox_seconds(self.meeting.timebox_pattern, timer.round) if timer.round else self.phase_timebox()
        return int(max(planned, timer.remaining)) if planned else 0

    def next_timebox(self) -> int:
        """Seconds of the timebox a "continue" would start."""
        return timebox_seconds(self.meeting.timebox_pattern, self.meeting.timer_round + 1)

    def timebox_text(self, phase: str) -> str:
        """A phase's timebox as the settings form shows it ("5m", "90s"), or empty."""
        seconds = getattr(self.meeting, PHASE_TIMEBOX_COLUMNS[phase].name)
        return format_pattern([seconds]) if seconds else ""

    def pace(self) -> Pace | None:
        return pace_of(self.meeting, self.topics.values(), self.now)
