"""How much one meeting may hold, so that one meeting (anyone can start one) cannot grow without bound.

Each limit is a setting (leancoffee.config) with the default below; a write past it is refused with a
clear 409. Counted inside the write's transaction, which holds the meeting's write lock, so writes
racing each other cannot pass a limit together.
"""

from flask import current_app, has_app_context
from flask_babel import format_number, gettext

from leancoffee.models import Note, Participant, Topic
from leancoffee.services.errors import Conflict

DEFAULTS = {"MAX_TOPICS_PER_MEETING": 200, "MAX_NOTES_PER_TOPIC": 100, "MAX_PARTICIPANTS_PER_MEETING": 2000}


def limit(name: str) -> int:
    """A limit's setting (its default outside an app)."""
    return current_app.config.get(name, DEFAULTS[name]) if has_app_context() else DEFAULTS[name]


def require_topic_room(meeting) -> None:
    """One more topic fits in the meeting."""
    most = limit("MAX_TOPICS_PER_MEETING")
    if Topic.select().where(Topic.meeting == meeting.id).count() >= most:
        raise Conflict(gettext("This meeting already has %(most)s topics, as many as a meeting holds: "
                               "merge or delete some first.",
                               most=format_number(most)))


def require_note_room(topic) -> None:
    """One more note fits on the topic."""
    most = limit("MAX_NOTES_PER_TOPIC")
    if Note.select().where(Note.topic == topic.id).count() >= most:
        raise Conflict(gettext("This topic already has %(most)s takeaways and actions, as many as a topic holds.",
                               most=format_number(most)))


def require_seat(meeting) -> None:
    """One more person fits in the meeting (someone rejoining already has a seat)."""
    most = limit("MAX_PARTICIPANTS_PER_MEETING")
    if Participant.select().where(Participant.meeting == meeting.id).count() >= most:
        raise Conflict(gettext("This meeting is full: it already has %(most)s participants.", most=format_number(most)))
