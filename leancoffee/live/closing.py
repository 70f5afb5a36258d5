"""Screens a change ends: a person's who may no longer see the meeting, room screens opened with a renewed link."""

from collections.abc import Callable

from leancoffee.db import db
from leancoffee.services import changes
from leancoffee.services.board import Viewer
from leancoffee.services.changes import Change
from leancoffee.services.room import room_secret_of

# Changes that only close screens: nothing is rendered for them.
ONLY_CLOSE = {changes.SIGNED_OUT, changes.ROOM_LINK_RENEWED}


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
