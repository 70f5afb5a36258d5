"""Who is in the meeting, on every member's board: a row per person, or for a crowd (services/people.py) the counts.

A crowd's screens get how many are here and in the meeting, and the facilitators' rows: never a row per person that
arrived or left, so a thousand screens reconnecting at once cost a count each, not a thousand rows each.
"""

from leancoffee.live.push import EVERYONE, Push
from leancoffee.live.render import oob, render_part
from leancoffee.services import changes
from leancoffee.services.board import BoardState
from leancoffee.services.changes import Change
from leancoffee.services.people import CROWD_SIZE


def _crowd(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    """The counts alone when only others than the facilitators came or went; else the (short) section again."""
    moved = set(change.affected_user_ids or ())
    if change.kind == changes.PRESENCE_CHANGED and moved and not moved & state.facilitator_ids:
        push.add((EVERYONE, oob("_participants_count.html", state, present=present)))
    else:
        push.add((EVERYONE, oob("_participants.html", state, present=present)))


def _rows(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    """One person's row where that is enough, so a meeting filling up stays linear."""
    kind, actor_id = change.kind, change.actor_id
    gone = f'<div id="person-{int(actor_id or 0)}" hx-swap-oob="delete"></div>'
    newest = state.participants[-1] if state.participants else None
    if kind == changes.PRESENCE_CHANGED and change.affected_user_ids:
        # Someone arrived or went away: replace just their rows.
        moved = set(change.affected_user_ids)
        people = [p for p in state.participants if p.user_id in moved]
        push.add((EVERYONE, "".join(oob("_person.html", state, person=p, present=present) for p in people)
                  + oob("_participants_count.html", state, present=present)))
    elif kind == changes.PARTICIPANT_LEFT and len(state.participants) != CROWD_SIZE:
        push.add((EVERYONE, gone + oob("_participants_count.html", state, present=present)))
    elif kind == changes.PARTICIPANT_JOINED and newest is not None and newest.user_id == actor_id:
        # The newest arrival is last in the list: (re)place their row at its end.
        row = render_part("_person.html", state, person=newest, present=present)
        push.add((EVERYONE, f'{gone}<ul hx-swap-oob="beforeend:#participants-list">{row}</ul>'
                            + oob("_participants_count.html", state, present=present)))
    else:  # a crowd no longer: every row again (and a presence change without names)
        push.add((EVERYONE, oob("_participants.html", state, present=present)))


def people_section(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    """Who is in the meeting after someone joined, left, came or went: rows, or a crowd's counts."""
    (_crowd if state.crowd else _rows)(push, change, state, present)
