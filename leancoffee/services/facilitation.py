"""Running the meeting: phases, settings, "discuss next", the shared timer and thumbs rounds."""

from flask_babel import gettext
from peewee import IntegrityError, fn

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
    TO_DISCUSS,
    VOTING,
    Meeting,
    ThumbsRound,
    ThumbsVote,
    Topic,
    User,
    utcnow,
)
from leancoffee.services import changes, outbox
from leancoffee.services.access import meeting_write
from leancoffee.services.agenda import TieChoice, Tied, next_topic
from leancoffee.services.board import PHASE_LABELS
from leancoffee.services.changes import Change
from leancoffee.services.clock import clock_settings, phase_timer_action, timer_for_phase
from leancoffee.services.errors import Conflict, Invalid
from leancoffee.services.meetings import status_fields
from leancoffee.services.progress import clear_done_voting
from leancoffee.services.timebox import changed_timer, format_pattern, parse_pattern, started_timer, timebox_seconds, timer_view
from leancoffee.services.topics import (
    discussed_topic,
    end_discussion,
    expected_state,
    place_topic,
    require_expected,
    reveal_all,
)

PHASE_STATUS = {COLLECTING: None, VOTING: IN_PROGRESS, DISCUSSING_PHASE: IN_PROGRESS, DONE: COMPLETED}


def phase_fields(meeting: Meeting, phase: str, now) -> dict:
    """Column updates for entering a phase: the status follows (collecting keeps planned or in progress)."""
    status = PHASE_STATUS[phase] or (PLANNED if meeting.status == PLANNED else IN_PROGRESS)
    return {**status_fields(meeting, status, now), Meeting.phase: phase}


def change_phase(user: User, code, phase, *, expected=None) -> Change:
    """Facilitator: go one phase forward or back (collecting → voting → discussing → done); `expected` is the phase left."""
    if phase not in PHASES:
        raise Invalid(gettext("Unknown phase."))
    # Not open_only: stepping back from Done is how a completed meeting reopens (and the only step from Done).
    with meeting_write(code, user, facilitator=True, open_only=False) as meeting:
        require_expected(expected, expected_state("phase", meeting), f"it is in “{PHASE_LABELS[meeting.phase]}” now")
        step = PHASES.index(phase) - PHASES.index(meeting.phase)
        if abs(step) != 1:
            raise Conflict(gettext("Phases go one step at a time: refresh the page to see where the meeting is."))
        now = utcnow()
        if meeting.phase == DISCUSSING_PHASE and phase == VOTING:
            # Undo a discussion started by mistake: its topic goes back to To Discuss.
            end_discussion(meeting, TO_DISCUSS, now)
        if phase == DONE:
            end_discussion(meeting, DISCUSSED, now)
        if meeting.phase == COLLECTING:
            reveal_all(meeting)  # "Open voting" reveals what was written privately: votes need topics to see
        fields = phase_fields(meeting, phase, now)
        if meeting.phase in (COLLECTING, VOTING) and discussed_topic(meeting) is None:
            fields.update(timer_for_phase(meeting, phase, now))  # a topic's timer is the topic's, whatever the phase
        if (meeting.phase, phase) == (COLLECTING, VOTING):
            clear_done_voting(meeting)
        Meeting.update(fields).where(Meeting.id == meeting.id).execute()
        if phase == DONE:
            outbox.tell(outbox.MEETING_FINISHED, meeting)
    return Change(changes.PHASE_CHANGED, meeting.id, meeting.version, actor_id=user.id)


def update_settings(user: User, code, hidden_voting, timebox_pattern, show_authors=None, private_writing=None,
                    collecting=None, voting=None, planned=None) -> Change:
    """Facilitator: hidden voting, the timebox pattern, showing authors, private writing, the collecting and voting
    timeboxes and the planned length (None: left as it is; a new timebox applies the next time it starts)."""
    pattern = format_pattern(parse_pattern(timebox_pattern))
    clock = clock_settings(collecting, voting, planned)
    with meeting_write(code, user, facilitator=True) as meeting:
        fields = {Meeting.hidden_voting: bool(hidden_voting), Meeting.timebox_pattern: pattern, **clock}
        if show_authors is not None:
            fields[Meeting.show_authors] = bool(show_authors)  # topics written so far keep how they were written
        if private_writing is not None:
            fields[Meeting.private_writing] = bool(private_writing)
            if not private_writing:
                reveal_all(meeting)  # turned off, it hides nothing any more: what was private is everyone's
        Meeting.update(fields).where(Meeting.id == meeting.id).execute()
    return Change(changes.SETTINGS_CHANGED, meeting.id, meeting.version, actor_id=user.id)


def _start_timebox(meeting: Meeting, round_number: int, now) -> None:
    seconds = timebox_seconds(meeting.timebox_pattern, round_number)
    Meeting.update(started_timer(now, seconds, round_number)).where(Meeting.id == meeting.id).execute()


def next_round(topic_id: int) -> int:
    """The round a topic's next timebox is: rounds are numbered per topic, after any it already had.

    A topic discussed again (put back, then discussed) resumes after its highest recorded round, thumbs
    cast included, so it gets the pattern's next (shorter) timebox, as after "continue": the round
    number both names the thumbs round and picks the timebox.
    """
    recorded = [
        model.select(fn.MAX(model.round)).where(model.topic == topic_id).scalar() or 0 for model in (ThumbsRound, ThumbsVote)
    ]
    return max(recorded) + 1


def _discussion_now(meeting: Meeting, topic: Topic | None, with_round: bool = False) -> str:
    """How the discussion stands, in a refusal's words."""
    if topic is None:
        return gettext("no topic is being discussed now")
    if with_round and meeting.timer_round:
        return gettext("“%(title)s” is in its timebox %(round)s now", title=topic.title, round=meeting.timer_round)
    return gettext("“%(title)s” is being discussed now", title=topic.title)


def _require_discussion(meeting: Meeting, expected, action: str) -> Topic | None:
    """The topic being discussed, once `expected` (what the page showed of it) still holds."""
    topic = discussed_topic(meeting)
    require_expected(expected, expected_state(action, meeting, topic), _discussion_now(meeting, topic, action == "round"))
    return topic


def discuss_next(user: User, code, topic=None, *, expected=None) -> Change:
    """Facilitator: the top-voted topic (or the one chosen of a tie) goes to Discussing under a fresh timebox.

    A tie at the top is never settled silently: while discussing it is refused with the choice (Tied);
    from voting, voting closes (so the counts show, hidden or not) and the Change carries the choice.
    """
    with meeting_write(code, user, facilitator=True) as meeting:
        previous = _require_discussion(meeting, expected, "discussion")
        now = utcnow()
        pick = next_topic(meeting, topic, expected_state("discussion", meeting, previous))
        if pick is None:
            raise Conflict(gettext("There are no topics left in To Discuss."))
        if isinstance(pick, TieChoice):
            if meeting.phase == DISCUSSING_PHASE:
                raise Tied(pick)
            Meeting.update(phase_fields(meeting, DISCUSSING_PHASE, now)).where(Meeting.id == meeting.id).execute()
            return Change(changes.PHASE_CHANGED, meeting.id, meeting.version, actor_id=user.id, choice=pick)
        columns = _start_discussion(meeting, pick, now)
    kind = changes.TIMER_CHANGED if meeting.phase == DISCUSSING_PHASE else changes.PHASE_CHANGED
    # The topic retired to Discussed moved too: its card's Move form names its column.
    return Change(kind, meeting.id, meeting.version, actor_id=user.id, topic_id=pick.id, columns=columns,
                  other_topic_id=previous.id if previous else None)


def _start_discussion(meeting: Meeting, topic: Topic, now) -> tuple[str, ...]:
    """Inside a write: the topic goes to Discussing (voting closes if open) and its timebox starts; the columns changed."""
    columns = place_topic(meeting, topic, DISCUSSING, now)
    if meeting.phase != DISCUSSING_PHASE:
        Meeting.update(phase_fields(meeting, DISCUSSING_PHASE, now)).where(Meeting.id == meeting.id).execute()
    _start_timebox(meeting, next_round(topic.id), now)
    return columns


def _discussed_topic(meeting: Meeting, expected=None) -> Topic:
    topic = _require_discussion(meeting, expected, "round")
    if topic is None:
        raise Conflict(gettext("No topic is being discussed: use Discuss next first."))
    return topic


def control_timer(user: User, code, action, *, expected=None) -> Change:
    """Facilitator: start, pause, resume, extend (+1 minute) or stop the timer: the topic's (`expected` names it and its
    round) or, with no topic discussed, the collecting or voting timebox (`expected` names the phase)."""
    with meeting_write(code, user, facilitator=True) as meeting:
        now = utcnow()
        timer = timer_view(meeting, now)
        if meeting.phase in (COLLECTING, VOTING) and discussed_topic(meeting) is None:
            require_expected(expected, expected_state("round", meeting), f"it is in “{PHASE_LABELS[meeting.phase]}” now")
            fields = phase_timer_action(meeting, timer, action, now)
        else:
            fields = _timer_action(meeting, timer, action, now, _discussed_topic(meeting, expected))
        Meeting.update(fields).where(Meeting.id == meeting.id).execute()
    return Change(changes.TIMER_CHANGED, meeting.id, meeting.version, actor_id=user.id)


def _timer_action(meeting: Meeting, timer, action: str, now, topic: Topic) -> dict:
    """The timer columns after one facilitator action on a topic's timebox, or Conflict when it makes no sense now."""
    if action == "start":
        if timer.state != TIMER_IDLE:
            raise Conflict(gettext("The timer is already started."))
        # A stopped timebox starts again as the same round; a topic's first one follows its earlier rounds.
        round_number = timer.round or next_round(topic.id)
        return started_timer(now, timebox_seconds(meeting.timebox_pattern, round_number), round_number)
    return changed_timer(timer, action, now)


def cast_thumb(user: User, code, choice) -> Change:
    """A participant's thumb once the timebox ran out; voting again changes it (one per person per round)."""
    if choice not in THUMBS_CHOICES:
        raise Invalid(gettext("Choose thumbs up, neutral or thumbs down."))
    with meeting_write(code, user) as meeting:
        topic = _discussed_topic(meeting)
        if not timer_view(meeting, utcnow()).expired:
            raise Conflict(gettext("The thumbs vote opens when the timebox runs out."))
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


def decide_round(user: User, code, outcome, *, expected=None) -> Change:
    """Facilitator, when time is up: continue (the next, shorter timebox) or move on; the round is recorded once.

    Moving on starts the next top topic in the same step; a tie there is the facilitator's to settle (the
    Change carries the choice), and with nothing left the topic just goes to Discussed.
    """
    if outcome not in (CONTINUE, MOVE_ON):
        raise Invalid(gettext("Choose continue or move on."))
    try:
        with meeting_write(code, user, facilitator=True) as meeting:
            topic = _discussed_topic(meeting, expected)
            now = utcnow()
            if not timer_view(meeting, now).expired:
                raise Conflict(gettext("Wait for the timebox to run out (or extend or stop it)."))
            columns = _record_round(meeting, topic, outcome, now)
            # "none": once the topic is retired nothing is discussed, the state a tie choice's forms name.
            pick = next_topic(meeting, None, "none") if outcome == MOVE_ON else None
            if isinstance(pick, Topic):
                columns = tuple(dict.fromkeys(columns + _start_discussion(meeting, pick, now)))
    except IntegrityError:
        # The unique (topic, round) index is the last word: a round is decided once.
        raise Conflict(gettext("This round has already been decided: check the board and try again.")) from None
    if isinstance(pick, Topic):
        return Change(changes.TIMER_CHANGED, meeting.id, meeting.version, actor_id=user.id, topic_id=pick.id,
                      columns=columns, other_topic_id=topic.id)
    return Change(changes.TIMER_CHANGED, meeting.id, meeting.version, actor_id=user.id, topic_id=topic.id, columns=columns,
                  choice=pick)


def _record_round(meeting: Meeting, topic: Topic, outcome: str, now) -> tuple[str, ...]:
    """Store the decided round, then start the next timebox or retire the topic; the columns that changed."""
    round_number = meeting.timer_round
    if ThumbsRound.select().where((ThumbsRound.topic == topic.id) & (ThumbsRound.round == round_number)).exists():
        raise Conflict(gettext("Timebox %(round)s of “%(title)s” has already been decided: check the board and try again.",
                               round=round_number, title=topic.title))
    ThumbsRound.create(
        meeting=meeting.id, topic=topic.id, round=round_number, outcome=outcome,
        timebox_seconds=timebox_seconds(meeting.timebox_pattern, round_number), **thumbs_counts(topic.id, round_number),
    )
    if outcome == CONTINUE:
        _start_timebox(meeting, round_number + 1, now)
        return ()
    return place_topic(meeting, topic, DISCUSSED, now)
