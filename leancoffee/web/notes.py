"""Takeaways and actions: add, edit, delete, and done or open again (the one write a completed meeting takes)."""

from functools import partial

from flask import Blueprint, request
from flask_babel import gettext

from leancoffee.services import notes
from leancoffee.services.board import load_board
from leancoffee.services.viewing import viewer_for
from leancoffee.web.actions import perform
from leancoffee.web.pages import for_members, page
from leancoffee.web.responses import summary_url
from leancoffee.web.routing import path_for

bp = Blueprint("notes", __name__)


@bp.post("/m/<meeting_code:code>/topics/<int:topic_id>/notes")
def add_note(code, topic_id):
    """Add a takeaway or an action item to a topic."""
    form = request.form
    kind, text, owner = form.get("kind"), form.get("text"), form.get("owner")
    return perform(code, partial(notes.add_note, owner_participant=form.get("owner_participant")), topic_id, kind, text, owner,
                    anchor=lambda c: f"topic-{topic_id}")


@bp.get("/m/<meeting_code:code>/topics/<int:topic_id>/notes/new")
@for_members
def note_form(meeting, participant, topic_id):
    """A takeaway or action for one topic on a page of its own: a crowd's board has the form on the current topic only."""
    board, viewer = load_board(meeting.id), viewer_for(meeting, participant)
    topic = board.topics.get(topic_id)
    if topic is None or not board.can_act(viewer):
        message = gettext("That topic does not exist in this meeting (it may have been deleted).") if topic is None else \
            gettext("This meeting is completed: its board is read-only.")
        return page("not_found.html", 404 if topic is None else 409, message=message,
                    back=path_for("pages.board", code=meeting.code))
    return page("note_form.html", board=board, viewer=viewer, topic=topic)


@bp.post("/m/<meeting_code:code>/notes/<int:note_id>/edit")
def edit_note(code, note_id):
    """Author or facilitator: change a takeaway's or an action's text (and an action's owner), also one carried here."""
    form = request.form
    edit = partial(notes.edit_note, owner_participant=form.get("owner_participant"))
    return perform(code, edit, note_id, form.get("text"), form.get("owner"), anchor=_note_anchor)


def _note_anchor(change) -> str:
    """Where the board shows the edited note: its topic's card, or the action list's row of one carried here."""
    return f"action-{change.note_id}" if notes.carried_here(change) else f"note-{change.note_id}"


@bp.post("/m/<meeting_code:code>/notes/<int:note_id>/delete")
def delete_note(code, note_id):
    """Author or facilitator: delete a takeaway or an action (asks first)."""
    return perform(code, notes.delete_note, note_id, confirm="delete_note")


# Where a Done or Reopen pressed outside the board goes back to (a plain form; htmx stays on its page).
BACK_TO = {"home": lambda code: path_for("pages.home"), "summary": summary_url}


@bp.post("/m/<meeting_code:code>/actions/<int:note_id>/<any(done, reopen):verb>")
def mark_action(code, note_id, verb):
    """The action's owner or a facilitator: done, or open again (also in a completed meeting)."""
    back = BACK_TO.get(request.form.get("back", ""))
    return perform(code, partial(notes.mark_action, done=verb == "done"), note_id, anchor=lambda c: f"action-{note_id}",
                    then=back(code) if back else None)
