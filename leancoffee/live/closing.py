"""Screens a change ends or re-roles: a person's who may no longer see the meeting, room screens opened with a
renewed link, and the screens of someone who became (or stopped being) a facilitator."""

from collections.abc import Callable
from dataclasses import replace

from leancoffee.db import db
from leancoffee.live.connection import POLICY_VIOLATION
from leancoffee.models import Participant
from leancoffee.services import changes
from leancoffee.services.changes import Change
from leancoffee.services.room import room_secret_of
from leancoffee.services.viewing import Viewer

# Changes that only close screens: nothing is rendered for them.
ONLY_CLOSE = {changes.SIGNED_OUT}


def closed_by(change: Change) -> Callable[[Viewer], bool] | None:
    """Which viewers' sockets this change closes (1008), or None."""
    if change.kind in (changes.SIGNED_OUT, changes.PARTICIPANT_LEFT) and change.actor_id is not None:
        return lambda viewer: viewer.user_id == change.actor_id
    if change.kind == changes.ROOM_LINK_RENEWED:
        # The secret is read here, not carried by the change: changes travel between workers through Redis.
        with db.connection_context():
            current = room_secret_of(change.meeting_id)
        return lambda viewer: viewer.room_secret not in (None, current)
    return None


def regranted(change: Change) -> dict[int, bool]:
    """Whether each person a role change named facilitates now, read afresh (the change may come from another worker)."""
    if change.kind != changes.ROLE_CHANGED or not change.affected_user_ids:
        return {}
    with db.connection_context():
        rows = Participant.select().where((Participant.meeting == change.meeting_id)
                                          & Participant.user.in_(list(change.affected_user_ids)))
        return {p.user_id: p.facilitates for p in rows}


def settle_screens(change: Change, connections) -> None:
    """Before a change is rendered: close the screens it ends; give re-roled people's screens their new role."""
    closing = closed_by(change)
    roles = regranted(change)
    if closing is None and not roles:
        return  # most changes: no loop over every socket of the meeting
    for conn in connections:
        if closing is not None and closing(conn.viewer):
            conn.close(POLICY_VIOLATION)
        elif conn.viewer.user_id in roles:
            # Frames are chosen by each socket's Viewer: from now on this one gets the facilitators' (or not).
            conn.viewer = replace(conn.viewer, is_facilitator=roles[conn.viewer.user_id])
