"""Topics: add, edit, delete (author or facilitator), move between columns (facilitator); the state a form names."""

from flask_babel import gettext, lazy_gettext
from peewee import fn

from leancoffee.models import (
    COLLECTING,
    DISCUSSED,
    DISCUSSING,
    TIMER_IDLE,
    TO_DISCUSS,
    TOPIC_DESCRIPTION_MAX,
    TOPIC_STATUSES,
    TOPIC_TITLE_MAX,
    Meeting,
    Topic,
    User,
    Vote,
    utcnow,
)
from leancoffee.services import changes, outbox, quotas
from leancoffee.services.access import find_topic, keep_version, meeting_write, membership
from leancoffee.services.changes import Change
from leancoffee.services.errors import Conflict, Forbidden, Invalid
from leancoffee.services.validation import clean_text

COLUMN_LABELS = {TO_DISCUSS: lazy_gettext("To Discuss"), DISCUSSING: lazy_gettext("Discussing"),
                 DISCUSSED: lazy_gettext("Discussed")}


def expected_state(action: str, meeting: Meeting, discussed=None, topic=None) -> str:
    """What a facilitator's form names as the state it acts on (its hidden `expected` field).

    Rendered from the board, computed again from the database inside the write: "status", "phase",
    "discussion" (the topic discussed, or none), "round" (that topic and its timebox, or else the phase's timebox),
    "column" (where `topic` is).
    """
    if action == "column":
        return topic.status
    if action == "round" and discussed is None:
        return f"{meeting.phase}-timebox"  # the collecting or voting timebox: it is the phase's
    if action in ("discussion", "round"):
        suffix = f"-round-{meeting.timer_round}" if action == "round" else ""
        return f"topic-{discussed.id}{suffix}" if discussed is not None else "none"
    return meeting.status if action == "status" else meeting.phase


def require_expected(expected: str | None, actual: str, now: str) -> None:
    """Refuse a form that names a state the meeting has left since the page was loaded (None: nothing to compare)."""
    if expected is not None and expected != actual:
        raise Conflict(gettext("The meeting has moved on since your page was loaded: %(now)s. Nothing was changed: check the "
                               "board and try again.", now=now))


def discussed_topic(meeting: Meeting) -> Topic | None:
    """The topic in Discussing (at most one), or None."""
    return Topic.get_or_none((Topic.meeting == meeting.id) & (Topic.status == DISCUSSING))


def _clean_topic_text(title, description) -> tuple[str, str]:
    """Validated title and description."""
    title = clean_text(title, gettext("Topic title"), TOPIC_TITLE_MAX)
    description = clean_text(description, gettext("Description"), TOPIC_DESCRIPTION_MAX, required=False, multiline=True)
    return title, description


def add_topic(user: User, code, title, description="") -> Change:
    """A participant proposes a topic; it joins the end of To Discuss."""
    title, description = _clean_topic_text(title, description)
    with meeting_write(code, user) as meeting:
        quotas.require_topic_room(meeting)
        # Both fixed when written: a topic written anonymously stays so; a private one waits for the reveal.
        private = meeting.private_writing and meeting.phase == COLLECTING
        first = private and not _has_unrevealed(meeting, user)
        topic = Topic.create(meeting=meeting.id, author=user.id, title=title, description=description,
                             anonymous=not meeting.show_authors, unrevealed=private)
        if private:
            keep_version(meeting)
    return Change(changes.TOPIC_ADDED, meeting.id, None if private else meeting.version, actor_id=user.id,
                  topic_id=topic.id, columns=(TO_DISCUSS,), writers_changed=first)


def _has_unrevealed(meeting, user) -> bool:
    """Whether the user has written topics not revealed yet."""
    mine = (Topic.meeting == meeting.id) & (Topic.author == user.id) & Topic.unrevealed
    return Topic.select().where(mine).exists()


def reveal_all(meeting: Meeting) -> None:
    """Every topic written privately becomes everyone's, all at once."""
    Topic.update(unrevealed=False).where((Topic.meeting == meeting.id) & Topic.unrevealed).execute()


def reveal_topics(user: User, code) -> Change:
    """Facilitator: show everyone the topics written privately (opening voting does it too)."""
    with meeting_write(code, user, facilitator=True) as meeting:
        if not Topic.select().where((Topic.meeting == meeting.id) & Topic.unrevealed).exists():
            raise Conflict(gettext("There are no topics waiting to be revealed. Nothing was changed."))
        reveal_all(meeting)
    return Change(changes.TOPICS_REVEALED, meeting.id, meeting.version, actor_id=user.id)


def _require_editor(meeting, user, topic) -> None:
    """Only the topic's author or a facilitator of the meeting may change it."""
    if topic.author_id != user.id and not membership(meeting, user).facilitates:
        raise Forbidden(gettext("Only the topic's author or a facilitator can change it."))


def edit_topic(user: User, code, topic_id, title, description="") -> Change:
    """The author or facilitator changes a topic's text."""
    title, description = _clean_topic_text(title, description)
    with meeting_write(code, user) as meeting:
        topic = find_topic(meeting, topic_id, user)
        _require_editor(meeting, user, topic)
        Topic.update(title=title, description=description, updated_at=utcnow()).where(Topic.id == topic.id).execute()
        if topic.unrevealed:
            keep_version(meeting)
    return Change(changes.TOPIC_EDITED, meeting.id, None if topic.unrevealed else meeting.version, actor_id=user.id,
                  topic_id=topic.id)


def delete_topic(user: User, code, topic_id) -> Change:
    """The author or facilitator deletes a topic; its votes go back to their owners."""
    with meeting_write(code, user) as meeting:
        topic = find_topic(meeting, topic_id, user)
        _require_editor(meeting, user, topic)
        voters = tuple(v.user_id for v in Vote.select(Vote.user).where(Vote.topic == topic.id))
        if topic.status == DISCUSSING:
            _put_timer_away(meeting)  # the timer was this topic's: no other topic may inherit it
        Vote.delete().where(Vote.topic == topic.id).execute()
        topic.delete_instance()
        last = topic.unrevealed and not _has_unrevealed(meeting, user)
        if topic.unrevealed:
            keep_version(meeting)
    return Change(
        changes.TOPIC_DELETED,
        meeting.id,
        None if topic.unrevealed else meeting.version,
        writers_changed=last,
        actor_id=user.id,
        topic_id=topic.id,
        affected_user_ids=voters,
        columns=(topic.status,),
    )


def place_topic(meeting: Meeting, topic: Topic, status: str, now) -> tuple[str, ...]:
    """Move a topic to a column inside a write: one topic at a time is discussed, its time is kept.

    A topic entering Discussing finds the timer put away (idle, round 0): its timeboxes are its own.
    Returns the columns that changed, destination first: its list pulls the card over
    (hx-preserve) before the source list drops it.
    """
    changed = [status, topic.status]
    if topic.status == DISCUSSING and status != DISCUSSING:
        _stop_discussing(meeting, topic, now)
    if status == DISCUSSING and topic.status != DISCUSSING:
        current = discussed_topic(meeting)
        if current is not None:
            _stop_discussing(meeting, current, now)
            Topic.update(status=DISCUSSED, moved_at=now).where(Topic.id == current.id).execute()
            outbox.tell(outbox.TOPIC_DISCUSSED, meeting, current.id)
            # First: Discussed must pull the retired card over before Discussing (re-sent next) drops it.
            changed.insert(0, DISCUSSED)
        else:
            _put_timer_away(meeting)  # whatever timer is left (a deleted topic's) is not this topic's
        Topic.update(
            discussion_started_at=now, first_discussed_at=fn.COALESCE(Topic.first_discussed_at, now)
        ).where(Topic.id == topic.id).execute()
    Topic.update(status=status, moved_at=now).where(Topic.id == topic.id).execute()
    if status == DISCUSSED and topic.status != DISCUSSED:
        outbox.tell(outbox.TOPIC_DISCUSSED, meeting, topic.id)
    return tuple(dict.fromkeys(changed))


def end_discussion(meeting: Meeting, status: str, now) -> tuple[str, ...]:
    """The topic being discussed (if any) leaves Discussing for `status`, its time kept; the timer stops either way."""
    current = discussed_topic(meeting)
    if current is None:
        _put_timer_away(meeting)
        return ()
    return place_topic(meeting, current, status, now)


def _stop_discussing(meeting: Meeting, topic: Topic, now) -> None:
    """Add the time of the current discussion to the topic and put the timer away."""
    if topic.discussion_started_at is not None:
        spent = int((now - topic.discussion_started_at).total_seconds())
        Topic.update(discussed_seconds=Topic.discussed_seconds + max(0, spent), discussion_started_at=None).where(
            Topic.id == topic.id
        ).execute()
    _put_timer_away(meeting)


def _put_timer_away(meeting: Meeting) -> None:
    Meeting.update(timer_state=TIMER_IDLE, timer_ends_at=None, timer_remaining=None, timer_round=0).where(
        Meeting.id == meeting.id
    ).execute()


def move_topic(user: User, code, topic_id, status, *, expected=None) -> Change:
    """The facilitator moves a topic to another column; `expected` is the column their page showed it in."""
    if status not in TOPIC_STATUSES:
        raise Invalid(gettext("Unknown column: choose To Discuss, Discussing or Discussed."))
    with meeting_write(code, user, facilitator=True) as meeting:
        topic = find_topic(meeting, topic_id, user)
        if topic.unrevealed:
            raise Conflict(gettext("Reveal the topics first: this one is still yours alone. Nothing was changed."))
        require_expected(expected, expected_state("column", meeting, topic=topic),
                         gettext("“%(title)s” is in %(column)s now", title=topic.title, column=COLUMN_LABELS[topic.status]))
        retired = discussed_topic(meeting) if status == DISCUSSING and topic.status != DISCUSSING else None
        columns = place_topic(meeting, topic, status, utcnow())
    # A topic this move retired to Discussed moved too: its card's Move form names its column.
    return Change(changes.TOPIC_STATUS_CHANGED, meeting.id, meeting.version, actor_id=user.id, topic_id=topic.id, columns=columns,
                  other_topic_id=retired.id if retired else None)
