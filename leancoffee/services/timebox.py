"""Timebox arithmetic: patterns like "8m 4m 2m", and what the shared timer shows at a given moment."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import gettext

from leancoffee.models import TIMER_IDLE, TIMER_PAUSED, TIMER_RUNNING, Meeting
from leancoffee.services.errors import Conflict, Invalid

# At most 5 digits before the point and 3 after: any longer number is no timebox (and 400 nines overflow a float).
_TOKEN = re.compile(r"^(\d{1,5}(?:\.\d{1,3})?)\s*(s|sec|m|min)?$", re.ASCII)
MAX_STEPS = 10
MIN_SECONDS, MAX_SECONDS = 1, 120 * 60
EXTEND_SECONDS = 60


def parse_pattern(text) -> list[int]:
    """Seconds of each timebox in a pattern such as "8m 4m 2m" or "30s, 15s" (bare numbers are minutes)."""
    tokens = [t for t in re.split(r"[\s,;→>-]+", str(text or "").strip().lower()) if t]
    if not tokens:
        raise Invalid(gettext("Timebox pattern is required, for example: 8m 4m 2m."))
    if len(tokens) > MAX_STEPS:
        raise Invalid(gettext("Timebox pattern can have at most %(most)s steps.", most=MAX_STEPS))
    seconds = []
    for token in tokens:
        match = _TOKEN.match(token)
        if not match:
            raise Invalid(gettext("“%(token)s” is not a duration: use minutes like 8m or seconds like 30s.", token=token))
        value, unit = float(match.group(1)), match.group(2) or "m"
        length = round(value if unit.startswith("s") else value * 60)
        if not MIN_SECONDS <= length <= MAX_SECONDS:
            raise Invalid(gettext("Each timebox must be between 1 second and 120 minutes."))
        seconds.append(length)
    return seconds


def format_pattern(seconds: list[int]) -> str:
    """The canonical text of a pattern ("8m 4m 2m")."""
    return " ".join(f"{s // 60}m" if s % 60 == 0 else f"{s}s" for s in seconds)


def timebox_seconds(pattern: str, round_number: int) -> int:
    """Length of the n-th timebox (1-based); after the pattern ends, its last step repeats."""
    steps = parse_pattern(pattern)
    return steps[min(max(round_number, 1), len(steps)) - 1]


def format_clock(seconds: float) -> str:
    """m:ss for a number of seconds (never negative)."""
    whole = max(0, int(seconds + 0.999))  # 0.2 s left still shows 0:01, as a countdown should
    return f"{whole // 60}:{whole % 60:02d}"


@dataclass(frozen=True)
class TimerView:
    """What the timer shows at one moment."""

    state: str
    remaining: float
    ends_at: datetime | None
    round: int

    @property
    def expired(self) -> bool:
        """Time is up: the thumbs vote is open."""
        return self.state == TIMER_RUNNING and self.remaining <= 0

    @property
    def clock(self) -> str:
        return format_clock(self.remaining)


def timer_view(meeting, now: datetime) -> TimerView:
    """The timer of a meeting as seen at `now`."""
    if meeting.timer_state == TIMER_RUNNING and meeting.timer_ends_at is not None:
        remaining = max(0.0, (meeting.timer_ends_at - now).total_seconds())
        return TimerView(TIMER_RUNNING, remaining, meeting.timer_ends_at, meeting.timer_round)
    if meeting.timer_state == TIMER_PAUSED:
        return TimerView(TIMER_PAUSED, max(0.0, meeting.timer_remaining or 0.0), None, meeting.timer_round)
    return TimerView(TIMER_IDLE, 0.0, None, meeting.timer_round)


def ends_after(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)


def started_timer(now: datetime, seconds: float, round_number: int) -> dict:
    """Timer columns for a timebox of `seconds` starting now (round 0: a collecting or voting timebox, no topic's)."""
    return {Meeting.timer_state: TIMER_RUNNING, Meeting.timer_ends_at: ends_after(now, seconds),
            Meeting.timer_remaining: None, Meeting.timer_round: round_number}


def changed_timer(timer: TimerView, action: str, now: datetime) -> dict:
    """Timer columns after pause, resume, extend (+1 minute) or stop, any timebox; Conflict when it makes no sense now."""
    if action == "pause":
        if timer.state != TIMER_RUNNING or timer.expired:
            raise Conflict(gettext("Only a running timer can be paused."))
        return {Meeting.timer_state: TIMER_PAUSED, Meeting.timer_ends_at: None, Meeting.timer_remaining: timer.remaining}
    if action == "resume":
        if timer.state != TIMER_PAUSED:
            raise Conflict(gettext("The timer is not paused."))
        return {Meeting.timer_state: TIMER_RUNNING, Meeting.timer_ends_at: ends_after(now, timer.remaining),
                Meeting.timer_remaining: None}
    if action == "extend":
        if timer.state == TIMER_PAUSED:
            return {Meeting.timer_remaining: timer.remaining + EXTEND_SECONDS}
        if timer.state != TIMER_RUNNING:
            raise Conflict(gettext("Start the timer before extending it."))
        return {Meeting.timer_ends_at: ends_after(now, timer.remaining + EXTEND_SECONDS)}
    if action == "stop":
        if timer.state == TIMER_IDLE:
            raise Conflict(gettext("The timer is not running."))
        return {Meeting.timer_state: TIMER_IDLE, Meeting.timer_ends_at: None, Meeting.timer_remaining: None}
    raise Invalid(gettext("Unknown timer action."))


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch of a naive UTC time (what the browser's clock speaks)."""
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


def format_duration(seconds) -> str:
    """Human length: "8 min", "30 s", "1 min 30 s"."""
    seconds = int(seconds or 0)
    minutes, rest = divmod(seconds, 60)
    if minutes and rest:
        return gettext("%(minutes)s min %(seconds)s s", minutes=minutes, seconds=rest)
    return gettext("%(minutes)s min", minutes=minutes) if minutes else gettext("%(seconds)s s", seconds=rest)
