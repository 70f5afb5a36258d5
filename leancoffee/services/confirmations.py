"""Asking before what cannot be undone: the question, shown only once the action is known to be allowed."""

from dataclasses import dataclass

from flask_babel import gettext

from leancoffee.db import db
from leancoffee.services.access import find_meeting, find_topic


class _Undo(Exception):
    """Rolls a trial run back."""


def check(action, user, code, *args) -> None:
    """Run a write and roll it back: raises the refusal the action would meet, and changes nothing."""
    try:
        with db.atomic():
            action(user, code, *args)
            raise _Undo
    except _Undo:
        pass


@dataclass(frozen=True)
class Question:
    """What the confirmation asks, what it means, and the words on the button that goes ahead."""

    heading: str
    detail: str
    button: str


def question(kind: str, code: str, form, user=None) -> Question:
    """The confirmation of a delete, merge, finish or leave, in the words of this meeting (after check passed)."""
    meeting = find_meeting(code)
    if kind == "delete":
        title = find_topic(meeting, form.get("topic_id"), user).title
        return Question(gettext("Delete “%(title)s”?", title=title),
                        gettext("Its votes go back to the people who cast them. This cannot be undone."), gettext("Delete topic"))
    if kind == "delete_note":
        return Question(gettext("Delete this note?"),
                        gettext("It disappears from the board and the summary. This cannot be undone."),
                        gettext("Delete note"))
    if kind == "merge":
        source, target = (find_topic(meeting, form.get(key), user).title for key in ("source", "target"))
        return Question(gettext("Merge “%(source)s” into “%(target)s”?", source=source, target=target),
                        gettext("“%(source)s” disappears; its votes and notes move to “%(target)s”, and anyone who voted "
                                "for both gets a dot back. This cannot be undone.", source=source, target=target),
                        gettext("Merge topics"))
    if kind == "finish":
        return Question(gettext("Finish the meeting?"),
                        gettext("The board becomes read-only for everyone and the summary is ready. You can reopen it later."),
                        gettext("Finish meeting"))
    return Question(gettext("Leave “%(title)s”?", title=meeting.title),
                    gettext("You stop seeing the board. You can rejoin later with the same link."), gettext("Leave meeting"))
