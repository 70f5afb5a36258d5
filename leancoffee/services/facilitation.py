"""Running the meeting: phases, settings, "discuss next", the shared timer, thumbs rounds and merges."""

from peewee import JOIN, fn

from leancoffee.models import (
    COLLECTING,
    COMPLETED,
    CONTINUE,
    DISCUSSED,
    DISCUSSING,
    DISCUSSING_PHASE,
    DONE,
    IN_PROGRESS,
    MOVE_ON,
    PHASES,
    PLANNED,
    THUMBS_CHOICES,
    TIMER_IDLE,
    TIMER_PAUSED,
    TIMER_RUNNING,
    TO_DISCUSS,
    VOTING,
    Meeting,
    Note,
    ThumbsRound,
    ThumbsVote,
    Topic,
    User,
    Vote,
    utcnow,
)
from leancoffee.services import changes
from leancoffee.services.access import find_topic, meeting_write
from leancoffee.services.changes import Change
from leancoffee.services.errors import Conflict, Invalid
from leancoffee.services.meetings import status_fields
from leancoffee.services.timebox import EXTEND_SECONDS, ends_after, format_pattern, parse_pattern, timebox_seconds, timer_view
from leancoffee.services.topics import place_topic

PHASE_STATUS = {COLLECTING: None, VOTING: IN_PROGRESS, DISCUSSING_PHASE: IN_PROGRESS, DONE: COMPLETED}


def phase_fields(meeting: Meeting, phase: str, now) -> dict:
    """Column updates for entering a phase: the status follows (collecting keeps planned or in progress)."""
    status = PHASE_STATUS[phase] or (PLANNED if meeting.status == PLANNED else IN_PROGRESS)
    return {**status_fields(meeting, status, now), Meeting.phase: phase}


def change_phase(user: User, code, phase) -> Change:
    """Facilitator: go one phase forward or back (collecting → voting → discussing → done)."""
    if phase not in PHASES:
        raise Invalid("Unknown phase.")
    with meeting_write(code, user, facilitator=True, open_only=False) as meeting:
        step = PHASES.index(phase) - PHASES.index(meeting.phase)
        if abs(step) != 1:
            raise Conflict("Phases go one step at a time: refresh the page to see where the meeting is.")
        now = utcnow()
        if meeting.phase == DISCUSSING_PHASE and phase == VOTING:
            # Undo a discussion started by mistake: its topic goes back to To Discuss.
            current = Topic.get_or_none((Topic.meeting == meeting.id) & (Topic.status == DISCUSSING))
            if current is not None:
                place_topic(meeting, current, TO_DISCUSS, now)
        if phase == DONE:
            current = Topic.get_or_none((Topic.meeting == meeting.id) & (Topic.status == DISCUSSING))
            if current is not None:
                place_topic(meeting, current, DISCUSSED, now)
        Meeting.update(phase_fields(meeting, phase, now)).where(Meeting.id == meeting.id).execute()
    return Change(changes.PHASE_CHANGED, meeting.id, meeting.version, actor_id=user.id)


def update_settings(user: User, code, hidden_voting, timebox_pattern) -> Change:
    """Facilitator: hidden voting on or off, and the timebox pattern."""
    pattern = format_pattern(parse_pattern(timebox_pattern))
    with meeting_write(code, user, facilitator=True) as meeting:
        Meeting.update(hidden_voting=bool(hidden_voting), timebox_pattern=pattern).where(Meeting.id == meeting.id).execute()
    return Change(changes.SETTINGS_CHANGED, meeting.id, meeting.version, actor_id=user.id)


def _top_topic(meeting: Meeting) -> Topic | None:
    """The To Discuss topic with the most votes (the oldest of a tie)."""
    return (
        Topic.select(Topic)
        .join(Vote, on=(Vote.topic == Topic.id), join_type=JOIN.LEFT_OUTER)
        .where((Topic.meeting == meeting.id) & (Topic.status == TO_DISCUSS))
        .group_by(Topic.id)
        .order_by(fn.COUNT(Vote.id).desc(), Topic.created_at, Topic.id)
        .first()
    )


def _start_timebox(meeting: Meeting, round_number: int, now) -> None:
    seconds = timebox_seconds(meeting.timebox_pattern, round_number)
    Meeting.update(
        timer_state=TIMER_RUNNING, timer_ends_at=ends_after(now, seconds), timer_remaining=None, timer_round=round_number
    ).where(Meeting.id == meeting.id).execute()


def discuss_next(user: User, code) -> Change:
    """Facilitator: the top-voted topic goes to Discussing (the current one to Discussed) and its first timebox starts."""
    with meeting_write(code, user, facilitator=True) as meeting:
        topic = _top_topic(meeting)
        if topic is None:
            raise Conflict("There are no topics left in To Discuss.")
        now = utcnow()
        columns = place_topic(meeting, topic, DISCUSSING, now)
        if meeting.phase != DISCUSSING_PHASE:
            Meeting.update(phase_fields(meeting, DISCUSSING_PHASE, now)).where(Meeting.id == meeting.id).execute()
        _start_timebox(meeting, 1, now)
    kind = changes.TIMER_CHANGED if meeting.phase == DISCUSSING_PHASE else changes.PHASE_CHANGED
    return Change(kind, meeting.id, meeting.version, actor_id=user.id, topic_id=topic.id, columns=columns)


def _discussed_topic(meeting: Meeting) -> Topic:
    topic = Topic.get_or_none((Topic.meeting == meeting.id) & (Topic.status == DISCUSSING))
    if topic is None:
        raise Conflict("No topic is being discussed: use Discuss next first.")
    return topic


def control_timer(user: User, code, action) -> Change:
    """Facilitator: start, pause, resume, extend (+1 minute) or stop the timer of the topic being discussed."""
    with meeting_write(code, user, facilitator=True) as meeting:
        _discussed_topic(meeting)
        now = utcnow()
        timer = timer_view(meeting, now)
        fields = _timer_action(meeting, timer, action, now)
        Meeting.update(fields).where(Meeting.id == meeting.id).execute()
    return Change(changes.TIMER_CHANGED, meeting.id, meeting.version, actor_id=user.id)


def _timer_action(meeting: Meeting, timer, action: str, now) -> dict:
    """The timer columns after one facilitator action, or Conflict when it makes no sense now."""
    if action == "start":
        if timer.state != TIMER_IDLE:
            raise Conflict("The timer is already started.")
        seconds = timebox_seconds(meeting.timebox_pattern, max(1, timer.round))
        return {Meeting.timer_state: TIMER_RUNNING, Meeting.timer_ends_at: ends_after(now, seconds),
                Meeting.timer_remaining: None, Meeting.timer_round: max(1, timer.round)}
    if action == "pause":
        if timer.state != TIMER_RUNNING or timer.expired:
            raise Conflict("Only a running timer can be paused.")
        return {Meeting.timer_state: TIMER_PAUSED, Meeting.timer_ends_at: None, Meeting.timer_remaining: timer.remaining}
    if action == "resume":
        if timer.state != TIMER_PAUSED:
            raise Conflict("The timer is not paused.")
        return {Meeting.timer_state: TIMER_RUNNING, Meeting.timer_ends_at: ends_after(now, timer.remaining),
                Meeting.timer_remaining: None}
    if action == "extend":
        if timer.state == TIMER_PAUSED:
            return {Meeting.timer_remaining: timer.remaining + EXTEND_SECONDS}
        if timer.state != TIMER_RUNNING:
            raise Conflict("Start the timer before extending it.")
        return {Meeting.timer_ends_at: ends_after(now, timer.remaining + EXTEND_SECONDS)}
    if action == "stop":
        if timer.state == TIMER_IDLE:
            raise Conflict("The timer is not running.")
        return {Meeting.timer_state: TIMER_IDLE, Meeting.timer_ends_at: None, Meeting.timer_remaining: None}
    raise Invalid("Unknown timer action.")


def cast_thumb(user: User, code, choice) -> Change:
    """A participant's thumb once the timebox ran out; voting again changes it (one per person per round)."""
    if choice not in THUMBS_CHOICES:
        raise Invalid("Choose thumbs up, neutral or thumbs down.")
    with meeting_write(code, user) as meeting:
        topic = _discussed_topic(meeting)
        if not timer_view(meeting, utcnow()).expired:
            raise Conflict("The thumbs vote opens when the timebox runs out.")
        ThumbsVote.insert(meeting=meeting.id, topic=topic.id, round=meeting.timer_round, user=user.id, choice=choice).on_conflict(
            conflict_target=[ThumbsVote.topic, ThumbsVote.round, ThumbsVote.user], update={ThumbsVote.choice: choice}
        ).execute()
    return Change(changes.THUMB_CAST, meeting.id, meeting.version, actor_id=user.id, topic_id=topic.id)


def thumbs_counts(topic_id: int, round_number: int) -> dict[str, int]:
    """Thumbs of one round, by choice."""
    counts = dict.fromkeys(THUMBS_CHOICES, 0)
    rows = (
        ThumbsVote.select(ThumbsVote.choice, fn.COUNT(ThumbsVote.id))
        .where((ThumbsVote.topic == topic_id) & (ThumbsVote.round == round_number))
        .group_by(ThumbsVote.choice)
        .tuples()
    )
    counts.update(dict(rows))
    return counts


def decide_round(user: User, code, outcome) -> Change:
    """Facilitator, when time is up: continue (the next, shorter timebox) or move on; the round is recorded."""
    if outcome not in (CONTINUE, MOVE_ON):
        raise Invalid("Choose continue or move on.")
    with meeting_write(code, user, facilitator=True) as meeting:
        topic = _discussed_topic(meeting)
        now = utcnow()
        if not timer_view(meeting, now).expired:
            raise Conflict("Wait for the timebox to run out (or extend or stop it).")
        counts = thumbs_counts(topic.id, meeting.timer_round)
        ThumbsRound.create(
            meeting=meeting.id, topic=topic.id, round=meeting.timer_round, outcome=outcome,
            timebox_seconds=timebox_seconds(meeting.timebox_pattern, meeting.timer_round), **counts,
        )
        columns = ()
        if outcome == CONTINUE:
            _start_timebox(meeting, meeting.timer_round + 1, now)
        else:
            columns = place_topic(meeting, topic, DISCUSSED, now)
    return Change(changes.TIMER_CHANGED, meeting.id, meeting.version, actor_id=user.id, topic_id=topic.id, columns=columns)


def merge_topics(user: User, code, source_id, target_id) -> Change:
    """Facilitator: fold a duplicate into another topic; votes and notes move, nobody keeps two votes on it."""
    with meeting_write(code, user, facilitator=True) as meeting:
        source, target = find_topic(meeting, source_id), find_topic(meeting, target_id)
        if source.id == target.id:
            raise Invalid("Choose another topic to merge into.")
        target_voters = Vote.select(Vote.user).where(Vote.topic == target.id)
        # Who voted for both gets their second dot back; everyone else's vote moves over.
        returned = tuple(
            v.user_id for v in Vote.select(Vote.user).where((Vote.topic == source.id) & Vote.user.in_(target_voters))
        )
        Vote.delete().where((Vote.topic == source.id) & Vote.user.in_(target_voters)).execute()
        moved = tuple(v.user_id for v in Vote.select(Vote.user).where(Vote.topic == source.id))
        Vote.update(topic=target.id).where(Vote.topic == source.id).execute()
        Note.update(topic=target.id).where(Note.topic == source.id).execute()
        source.delete_instance()
    return Change(
        changes.TOPICS_MERGED, meeting.id, meeting.version, actor_id=user.id, topic_id=source.id,
        other_topic_id=target.id, affected_user_ids=returned + moved,
        columns=tuple(dict.fromkeys((target.status, source.status))),
    )
