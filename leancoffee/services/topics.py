"""Topics: add, edit, delete (author or facilitator) and move between columns (facilitator)."""

from peewee import fn

from leancoffee.models import (
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
from leancoffee.services import changes
from leancoffee.services.access import (
    find_topic,
    meeting_write,
)
from leancoffee.services.changes import Change
from leancoffee.services.errors import Forbidden, Invalid
from leancoffee.services.validation import clean_text


def _clean_topic_text(title, description) -> tuple[str, str]:
    """Validated title and description."""
    title = clean_text(title, "Topic title", TOPIC_TITLE_MAX)
    description = clean_text(description, "Description", TOPIC_DESCRIPTION_MAX, required=False, multiline=True)
    return title, description


def add_topic(user: User, code, title, description="") -> Change:
    """A participant proposes a topic; it joins the end of To Discuss."""
    title, description = _clean_topic_text(title, description)
    with meeting_write(code, user) as meeting:
        topic = Topic.create(meeting=meeting.id, author=user.id, title=title, description=description)
    return Change(changes.TOPIC_ADDED, meeting.id, meeting.version, actor_id=user.id, topic_id=topic.id, columns=(TO_DISCUSS,))


def _require_editor(meeting, user, topic) -> None:
    """Only the topic's author or the meeting's facilitator may change it."""
    if topic.author_id != user.id and meeting.facilitator_id != user.id:
        raise Forbidden("Only the topic's author or the facilitator can change it.")


def edit_topic(user: User, code, topic_id, title, description="") -> Change:
    """The author or facilitator changes a topic's text."""
    title, description = _clean_topic_text(title, description)
    with meeting_write(code, user) as meeting:
        topic = find_topic(meeting, topic_id)
        _require_editor(meeting, user, topic)
        Topic.update(title=title, description=description, updated_at=utcnow()).where(Topic.id == topic.id).execute()
    return Change(changes.TOPIC_EDITED, meeting.id, meeting.version, actor_id=user.id, topic_id=topic.id)


def delete_topic(user: User, code, topic_id) -> Change:
    """The author or facilitator deletes a topic; its votes go back to their owners."""
    with meeting_write(code, user) as meeting:
        topic = find_topic(meeting, topic_id)
        _require_editor(meeting, user, topic)
        voters = tuple(v.user_id for v in Vote.select(Vote.user).where(Vote.topic == topic.id))
        Vote.delete().where(Vote.topic == topic.id).execute()
        topic.delete_instance()
    return Change(
        changes.TOPIC_DELETED,
        meeting.id,
        meeting.version,
        actor_id=user.id,
        topic_id=topic.id,
        affected_user_ids=voters,
        columns=(topic.status,),
    )


def place_topic(meeting: Meeting, topic: Topic, status: str, now) -> tuple[str, ...]:
    """Move a topic to a column inside a write: one topic at a time is discussed, its time is kept.

    Returns the columns that changed, destination first: its list pulls the card over
    (hx-preserve) before the source list drops it.
    """
    changed = [status, topic.status]
    if topic.status == DISCUSSING and status != DISCUSSING:
        _stop_discussing(meeting, topic, now)
    if status == DISCUSSING and topic.status != DISCUSSING:
        current = Topic.get_or_none((Topic.meeting == meeting.id) & (Topic.status == DISCUSSING))
        if current is not None:
            _stop_discussing(meeting, current, now)
            Topic.update(status=DISCUSSED, moved_at=now).where(Topic.id == current.id).execute()
            changed.append(DISCUSSED)
        Topic.update(
            discussion_started_at=now, first_discussed_at=fn.COALESCE(Topic.first_discussed_at, now)
        ).where(Topic.id == topic.id).execute()
    Topic.update(status=status, moved_at=now).where(Topic.id == topic.id).execute()
    return tuple(dict.fromkeys(changed))


def _stop_discussing(meeting: Meeting, topic: Topic, now) -> None:
    """Add the time of the current discussion to the topic and put the timer away."""
    if topic.discussion_started_at is not None:
        spent = int((now - topic.discussion_started_at).total_seconds())
        Topic.update(discussed_seconds=Topic.discussed_seconds + max(0, spent), discussion_started_at=None).where(
            Topic.id == topic.id
        ).execute()
    Meeting.update(timer_state=TIMER_IDLE, timer_ends_at=None, timer_remaining=None, timer_round=0).where(
        Meeting.id == meeting.id
    ).execute()


def move_topic(user: User, code, topic_id, status) -> Change:
    """The facilitator moves a topic to another column."""
    if status not in TOPIC_STATUSES:
        raise Invalid("Unknown column: choose To Discuss, Discussing or Discussed.")
    with meeting_write(code, user, facilitator=True) as meeting:
        topic = find_topic(meeting, topic_id)
        columns = place_topic(meeting, topic, status, utcnow())
    return Change(changes.TOPIC_STATUS_CHANGED, meeting.id, meeting.version, actor_id=user.id, topic_id=topic.id, columns=columns)
