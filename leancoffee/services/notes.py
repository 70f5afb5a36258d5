"""Takeaways and action items captured on topics (the original plan's session notes)."""

from leancoffee.models import ACTION, NAME_MAX, NOTE_MAX, TAKEAWAY, Note, User
from leancoffee.services import changes, quotas
from leancoffee.services.access import find_topic, meeting_write
from leancoffee.services.changes import Change
from leancoffee.services.errors import Conflict, Invalid
from leancoffee.services.validation import clean_text


def add_note(user: User, code, topic_id, kind, text, owner="") -> Change:
    """Any participant adds a takeaway, or an action with an optional owner, to a topic."""
    if kind not in (TAKEAWAY, ACTION):
        raise Invalid("Choose a takeaway or an action.")
    label = "Takeaway" if kind == TAKEAWAY else "Action"
    text = clean_text(text, label, NOTE_MAX, multiline=True)
    owner = clean_text(owner, "Owner", NAME_MAX, required=False) if kind == ACTION else ""
    with meeting_write(code, user) as meeting:
        topic = find_topic(meeting, topic_id, user)
        if topic.unrevealed:
            raise Conflict("Takeaways come once the topics are revealed. Nothing was changed.")
        quotas.require_note_room(topic)
        note = Note.create(meeting=meeting.id, topic=topic.id, author=user.id, kind=kind, text=text, owner=owner)
    return Change(changes.NOTE_ADDED, meeting.id, meeting.version, actor_id=user.id, topic_id=topic.id, note_id=note.id)
