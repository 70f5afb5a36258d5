"""This worker's open sockets, grouped by meeting, and the fan-out of changes to them."""

import logging
import threading
from collections import defaultdict

from leancoffee.db import db
from leancoffee.live.connection import POLICY_VIOLATION, SERVICE_RESTART, TRY_AGAIN_LATER, Connection
from leancoffee.live.fanout import build_push, full_board
from leancoffee.live.presence import LocalPresence
from leancoffee.live.push import Push
from leancoffee.live.timers import TimeUpAlarms
from leancoffee.services import changes
from leancoffee.services.board import load_board
from leancoffee.services.changes import Change

log = logging.getLogger(__name__)


class Hub:
    """Sockets of this worker by meeting; renders each change once per audience and queues it."""

    def __init__(self, app):
        self.app = app
        self.rooms: dict[int, set[Connection]] = defaultdict(set)
        # Rendering and queueing for one meeting happen one change at a time, each from a
        # fresh read, so every socket sees the board only move forward.
        self._locks: dict[int, threading.RLock] = defaultdict(threading.RLock)
        self.presence = LocalPresence(app.config["PRESENCE_GRACE_SECONDS"], self._presence_changed)
        self.alarms = TimeUpAlarms(self._time_up)

    def attach(self, conn: Connection) -> None:
        """Register a socket, then queue the whole board for it first (heals anything missed)."""
        with self._locks[conn.meeting_id]:
            self.rooms[conn.meeting_id].add(conn)
            arrived = self.presence.connected(conn.meeting_id, conn.viewer.user_id)
            with db.connection_context():
                state = load_board(conn.meeting_id)
            conn.offer(full_board(state, conn.viewer, self.presence.present_users(conn.meeting_id)))
            self.alarms.watch(state)
        conn.start()
        if arrived:
            self.dispatch(Change(changes.PRESENCE_CHANGED, conn.meeting_id, None))

    def detach(self, conn: Connection) -> None:
        """Forget a socket that closed."""
        conn.stop()
        with self._locks[conn.meeting_id]:
            room = self.rooms.get(conn.meeting_id)
            if room is not None:
                room.discard(conn)
                if not room:
                    del self.rooms[conn.meeting_id]
        self.presence.disconnected(conn.meeting_id, conn.viewer.user_id)

    def dispatch(self, change: Change) -> Push:
        """Render a committed change and queue it on every local socket of its meeting."""
        if change.kind == changes.SIGNED_OUT:
            for conn in self.connections_of(change.meeting_id):
                if conn.viewer.user_id == change.actor_id:
                    conn.close(POLICY_VIOLATION)  # not a code hx-ws reconnects on
            return Push(meeting_id=change.meeting_id, version=None)
        if change.kind == changes.PARTICIPANT_LEFT and change.actor_id is not None:
            self.presence.leave(change.meeting_id, change.actor_id)
        with self._locks[change.meeting_id]:
            with db.connection_context():
                state = load_board(change.meeting_id)
            push = build_push(change, state, self.presence.present_users(change.meeting_id))
            self.alarms.watch(state)
            for conn in list(self.rooms.get(change.meeting_id, ())):
                if not conn.offer(push.frame_for(conn.viewer)):
                    log.warning("client of meeting %s fell behind; closing it to resync", change.meeting_id)
                    conn.close(TRY_AGAIN_LATER)
        return push

    def connections_of(self, meeting_id: int) -> list[Connection]:
        """Open sockets of a meeting on this worker."""
        return list(self.rooms.get(meeting_id, ()))

    def close_all(self, code: int = SERVICE_RESTART) -> None:
        """Close every socket (1012 on shutdown, so browsers come back by themselves)."""
        for room in list(self.rooms.values()):
            for conn in list(room):
                conn.close(code)

    def _presence_changed(self, meeting_id: int) -> None:
        """A grace period ran out: tell the meeting who is away now."""
        with self.app.app_context():
            self.dispatch(Change(changes.PRESENCE_CHANGED, meeting_id, None))

    def _time_up(self, meeting_id: int) -> None:
        """A timebox ran out: every screen shows the thumbs prompt."""
        if meeting_id in self.rooms:
            with self.app.app_context():
                self.dispatch(Change(changes.TIME_UP, meeting_id, None))
