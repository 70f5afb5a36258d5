"""Topics: add, edit, delete (author or facilitator) and move between columns (facilitator)."""

from leancoffee.db import db
from leancoffee.models import (
    TO_DISCUSS,
    TOPIC_DESCRIPTION_MAX,
    TOPIC_STATUSES,
    TOPIC_TITLE_MAX,
    Topic,
    User,
    Vote,
    utcnow,
)
from leancoffee.services import changes
from leancoffee.services.access import (
    begin_change,
    find_topic,
    require_facilitator,
    require_member,
    require_open,
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
    with db.atomic():
        meeting = begin_change(code)
        require_member(meeting, user)
        require_open(meeting)
        topic = Topic.create(meeting=meeting.id, author=user.id, title=title, description=description)
    return Change(changes.TOPIC_ADDED, meeting.id, meeting.version, actor_id=user.id, topic_id=topic.id, columns=(TO_DISCUSS,))


def _require_editor(meeting, user, topic) -> None:
    """Only the topic's author or the meeting's facilitator may change it."""
    if topic.author_id != user.id and meeting.facilitator_id != user.id:
        raise Forbidden("Only the topic's author or the facilitator can change it.")


def edit_topic(user: User, code, topic_id, title, description="") -> Change:
    """The author or facilitator changes a topic's text."""
    title, description = _clean_topic_text(title, description)
    with db.atomic():
        meeting = begin_change(code)
        require_member(meeting, user)
        require_open(meeting)
        topic = find_topic(meeting, topic_id)
        _require_editor(meeting, user, topic)
        Topic.update(title=title, description=description, updated_at=utcnow()).where(Topic.id == topic.id).execute()
    return Change(changes.TOPIC_EDITED, meeting.id, meeting.version, actor_id=user.id, topic_id=topic.id)


def delete_topic(user: User, code, topic_id) -> Change:
    """The author or facilitator deletes a topic; its votes go back to their owners."""
    with db.atomic():
        meeting = begin_change(code)
        require_member(meeting, user)
        require_open(meeting)
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


def move_topic(user: User, code, topic_id, status) -> Change:
    """The facilitator moves a topic to another column."""
    if status not in TOPIC_STATUSES:
        raise Invalid("Unknown column: choose To Discuss, Discussing or Discussed.")
    with db.atomic():
        meeting = begin_change(code)
        require_facilitator(meeting, user)
        require_open(meeting)
        topic = find_topic(meeting, topic_id)
        Topic.update(status=status, moved_at=utcnow()).where(Topic.id == topic.id).execute()
    # Destination first: its list pulls the card over (hx-preserve) before the source list drops it.
    columns = tuple(dict.fromkeys((status, topic.status)))
    return Change(changes.TOPIC_STATUS_CHANGED, meeting.id, meeting.version, actor_id=user.id, topic_id=topic.id, columns=columns)
