"""Who sees what of a takeaway or an action: the note on its topic's card and its row in the action list."""

from leancoffee.live.push import EVERYONE, FACILITATOR, Push, mark_oob, user_audience
from leancoffee.live.render import facilitator_view, member_view, render_part
from leancoffee.services.board import BoardState
from leancoffee.services.changes import Change
from leancoffee.services.viewing import Viewer


def _variants(state: BoardState, template: str, people, **extra) -> list[tuple[str, str]]:
    """One fragment as the facilitators, each listed person (their own controls) and everyone else see it."""
    own = [(user_audience(uid), render_part(template, state, member_view(state, uid), **extra))
           for uid in dict.fromkeys(people) if uid is not None]
    return [(FACILITATOR, render_part(template, state, facilitator_view(state), **extra)), *own,
            (EVERYONE, render_part(template, state, Viewer(user_id=None, is_member=True), **extra))]


def _deleted(element_id: str) -> str:
    return f'<div id="{element_id}" hx-swap-oob="delete"></div>'


def _find(state: BoardState, note_id) -> tuple[object, object]:
    """The note as its topic's card shows it (None in another meeting) and as the action list does (None: not an action)."""
    on_card = next((n for notes in state.notes.values() for n in notes if n.id == note_id), None)
    listed = next((n for n in state.actions if n.id == note_id), None)
    return on_card, listed


def _appended(state: BoardState, template: str, people, into: str, element_id: str, **extra) -> list[tuple[str, str]]:
    """A row appended to a list (removed first, so a screen that has it keeps one), as each audience sees it."""
    return [(aud, f'{_deleted(element_id)}<ul hx-swap-oob="beforeend:#{into}">{html}</ul>')
            for aud, html in _variants(state, template, people, **extra)]


def _row_people(note) -> tuple:
    """Whose own tabs see an action's row their own way: its owner (Done) and, for an action carried from an earlier
    meeting, its author (Edit: its card is on that meeting's board, not this one)."""
    return note.owner_user_id, note.author_id if note.carried else None


def _action_list(push: Push, state: BoardState, note, added: bool) -> None:
    """An action's row: appended or replaced; the whole list when it starts or stops being empty."""
    if note is None or (added and len(state.actions) == 1):
        people = [person for n in state.actions for person in _row_people(n)]
        push.add(*_marked(_variants(state, "_actions.html", people)))
    elif added:
        push.add(*_appended(state, "_action_row.html", _row_people(note), "actions-list", f"action-{note.id}", note=note))
    else:
        push.add(*_marked(_variants(state, "_action_row.html", _row_people(note), note=note)))


def _marked(variants: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each variant marked for an out-of-band swap of the element it replaces."""
    return [(aud, mark_oob(html)) for aud, html in variants]


def note_added(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    """The note alone, appended to its topic's list; an action's row, appended to the action list."""
    on_card, listed = _find(state, change.note_id)
    if on_card is not None:
        push.add(*_appended(state, "_note.html", (on_card.author_id,), f"notes-{int(change.topic_id)}",
                            f"note-{int(on_card.id)}", note=on_card))
    if listed is not None:
        _action_list(push, state, listed, added=True)


def note_changed(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    """The note's new text (and owner) on its card and in the action list."""
    on_card, listed = _find(state, change.note_id)
    if on_card is not None:
        push.add(*_marked(_variants(state, "_note.html", (on_card.author_id,), note=on_card)))
    if listed is not None:
        _action_list(push, state, listed, added=False)


action_changed = note_changed  # done or open again: the card's mark and the list's row with its button


def note_deleted(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    """The note gone from its card and from the action list (the whole list once it is empty)."""
    push.add((EVERYONE, _deleted(f"note-{int(change.note_id)}") + _deleted(f"action-{int(change.note_id)}")))
    if not state.actions:
        _action_list(push, state, None, added=False)
