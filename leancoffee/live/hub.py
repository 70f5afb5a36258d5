"""This worker's open sockets, grouped by meeting, and the fan-out of changes to them."""

import logging
import threading
import time
from collections import defaultdict

from leancoffee import metrics
from leancoffee.db import db
from leancoffee.live.backplane import LocalBackplane
from leancoffee.live.connection import (
    BEHIND,
    POLICY_VIOLATION,
    SENT,
    SERVICE_RESTART,
    TRY_AGAIN_LATER,
    Connection,
    Heartbeat,
    SendTracker,
    count_sent,
)
from leancoffee.live.fanout import PEOPLE_KINDS, VOTE_KINDS, build_push, full_board, needs_whole_board, whole_board_push
from leancoffee.live.presence import ArrivalBatches, LocalPresence
from leancoffee.live.push import Frame, Push
from leancoffee.live.timers import TimeUpAlarms
from leancoffee.logs import event
from leancoffee.services import changes
from leancoffee.services.board import BoardState, load_board, load_votes, meeting_version
from leancoffee.services.changes import Change

log = logging.getLogger(__name__)

# Arrivals and departures within this window reach screens as one presence change (ArrivalBatches).
PRESENCE_BATCH_SECONDS = 0.05
# A page opening reuses the whole board read for the previous one while the meeting's version is
# unchanged and the read is this young (its clock-derived parts, like spent time, stay current).
BOARD_REUSE_SECONDS = 1.0


class Hub:
    """Sockets of this worker by meeting; renders each change once per audience and queues it.

    `presence` (Local or RedisPresence) says who is here, `backplane` (Local or RedisBackplane) carries
    changes to and from the other workers; Live.init_app picks them.
    """

    def __init__(self, app):
        self.app = app
        self.rooms: dict[int, set[Connection]] = defaultdict(set)
        # Rendering and queueing for one meeting happen one change at a time, each from a
        # fresh read, so every socket sees the board only move forward.
        self._locks: dict[int, threading.RLock] = defaultdict(threading.RLock)
        # The newest meeting version this worker's sockets were sent (the backplane spots gaps with it).
        self.versions: dict[int, int] = {}
        # Who the sockets of each meeting were last shown as here (presence has no version to compare).
        self.shown_present: dict[int, set[int]] = {}
        self.presence = LocalPresence(app.config["PRESENCE_GRACE_SECONDS"], self._presence_changed)
        self.backplane = LocalBackplane()
        self.alarms = TimeUpAlarms(self._time_up)
        # Projected room screens open per meeting (they show the whole board, so changes need a whole read).
        self.room_screens: dict[int, int] = defaultdict(int)
        # The last whole board read per meeting, with when it was read (see BOARD_REUSE_SECONDS).
        self._boards: dict[int, tuple[BoardState, float]] = {}
        self.arrivals = ArrivalBatches(PRESENCE_BATCH_SECONDS, self._announce_presence)
        self.heartbeat = Heartbeat(self.all_connections, app.config["SOCKET_PING_SECONDS"])
        # Open sockets on this worker (a socket is not a request: no server pool counts it).
        self.socket_count = 0

    def attach(self, conn: Connection) -> None:
        """Register a socket, then queue the whole board for it first (heals anything missed)."""
        self.heartbeat.start()
        with self._locks[conn.meeting_id]:
            first = not self.rooms.get(conn.meeting_id)
            self.rooms[conn.meeting_id].add(conn)
            if conn.viewer.screen == "room":
                self.room_screens[conn.meeting_id] += 1
            if first:
                # Subscribe before reading: a change committed after this read reaches us.
                self.backplane.room_opened(conn.meeting_id)
            arrived = self.presence.connected(conn.meeting_id, conn.viewer.user_id)
            state = self._board_for_attach(conn.meeting_id)
            self._note_version(conn.meeting_id, state.version)
            board = Frame(full_board(state, conn.viewer, self.presence.present_users(conn.meeting_id)))
            if conn.offer(board.wire) is SENT:
                count_sent(1, len(board.wire))
            self.alarms.watch(state)
        self.socket_count += 1
        metrics.OPEN_SOCKETS.inc()
        metrics.LIVE_MEETINGS.set(len(self.rooms))
        if arrived:
            self.arrivals.add(conn.meeting_id, conn.viewer.user_id)

    def detach(self, conn: Connection) -> None:
        """Forget a socket that closed."""
        conn.stop()
        with self._locks[conn.meeting_id]:
            room = self.rooms.get(conn.meeting_id)
            if room is not None and conn in room:
                room.discard(conn)
                self.socket_count -= 1
                metrics.OPEN_SOCKETS.dec()
                if conn.viewer.screen == "room":
                    self.room_screens[conn.meeting_id] -= 1
                if not room:
                    del self.rooms[conn.meeting_id]
                    self.versions.pop(conn.meeting_id, None)
                    self.shown_present.pop(conn.meeting_id, None)
                    self._boards.pop(conn.meeting_id, None)
                    self.room_screens.pop(conn.meeting_id, None)
                    self.backplane.room_closed(conn.meeting_id)
        metrics.LIVE_MEETINGS.set(len(self.rooms))
        self.presence.disconnected(conn.meeting_id, conn.viewer.user_id)

    def dispatch(self, change: Change, sent_at: float | None = None, origin: str = "local",
                 fragments: dict | None = None) -> Push:
        """Render a committed change and queue it on every local socket of its meeting.

        `fragments`: the change as its own worker rendered it (from the backplane), used as they are
        when it is the very next version here; otherwise the change is read and rendered afresh.
        """
        if change.kind == changes.SIGNED_OUT:
            self._close_screens_of(change.meeting_id, change.actor_id)
            return Push(meeting_id=change.meeting_id, version=None)
        if change.version is None and change.kind in VOTE_KINDS:
            self._boards.pop(change.meeting_id, None)  # a hidden vote left the version as it was
        # sent_at: wall-clock time of the commit; the broadcast latency runs to the last local write.
        sent_at = time.time() if sent_at is None else sent_at
        if change.kind == changes.PARTICIPANT_LEFT and change.actor_id is not None:
            self.presence.leave(change.meeting_id, change.actor_id)
            self._close_screens_of(change.meeting_id, change.actor_id)
        with self._locks[change.meeting_id]:
            conns = list(self.rooms.get(change.meeting_id, ()))
            push = self.shipped(change, fragments)
            if push is None:
                state = self._read_for(change)
                present = self.presence.present_users(change.meeting_id)
                push = build_push(change, state, present)
                self.alarms.watch(state)
                if conns and change.kind in PEOPLE_KINDS:
                    self.shown_present[change.meeting_id] = present
            metrics.CHANGES_RENDERED.labels("here" if push.rendered_here else "by_sender").inc()
            if conns:
                self._note_version(change.meeting_id, push.version)
                tracker = SendTracker(lambda: metrics.BROADCAST_LATENCY.labels(origin).observe(time.time() - sent_at))
                self._fan_out(push, conns, tracker)
                tracker.done()
        return push

    def _close_screens_of(self, meeting_id: int, user_id: int | None) -> None:
        """Close a person's sockets of a meeting they no longer may see (1008: their pages reload, not reconnect)."""
        for conn in self.connections_of(meeting_id):
            if conn.viewer.user_id == user_id:
                conn.close(POLICY_VIOLATION)

    def announce(self, change: Change) -> None:
        """A change born on this worker (presence): render it here and tell the other workers."""
        if self.rooms.get(change.meeting_id):
            self.dispatch(change)
        self.backplane.publish(change)

    def resync(self, meeting_id: int, reason: str) -> int:
        """Send every local socket of a meeting its whole board again; returns how many."""
        with self._locks[meeting_id]:
            conns = list(self.rooms.get(meeting_id, ()))
            if not conns:
                return 0
            state = self._read_whole(meeting_id)
            self._note_version(meeting_id, state.version)
            present = self.shown_present[meeting_id] = self.presence.present_users(meeting_id)
            self._fan_out(whole_board_push(state, present), conns)
        metrics.RESYNCS.labels(reason).inc()
        event(log, "resync", meeting=meeting_id, reason=reason, sockets=len(conns), version=state.version)
        return len(conns)

    def catch_up(self, meeting_id: int) -> int | None:
        """Resync a meeting if the database (or presence) is ahead of what its sockets were sent; returns the version."""
        # Under the meeting's lock, so a socket still being attached gets its own full board first.
        with self._locks[meeting_id]:
            with db.connection_context():
                current = meeting_version(meeting_id)
            if not self.rooms.get(meeting_id):
                return current
            if current is not None and current > self.versions.get(meeting_id, 0):
                self.resync(meeting_id, "subscribed_late")
            elif self.presence.present_users(meeting_id) != self.shown_present.get(meeting_id):
                self.dispatch(Change(changes.PRESENCE_CHANGED, meeting_id, None))
            return current

    def meeting_ids(self) -> list[int]:
        """Meetings with at least one open socket on this worker."""
        return [m for m, room in list(self.rooms.items()) if room]

    def all_connections(self) -> list[Connection]:
        """Every open socket on this worker."""
        return [conn for room in list(self.rooms.values()) for conn in room]

    def connections_of(self, meeting_id: int) -> list[Connection]:
        """Open sockets of a meeting on this worker."""
        return list(self.rooms.get(meeting_id, ()))

    def close_all(self, code: int = SERVICE_RESTART) -> None:
        """Close every socket (1012 on shutdown, so browsers come back by themselves)."""
        for room in list(self.rooms.values()):
            for conn in list(room):
                conn.close(code)

    def presence_stop(self) -> None:
        """Stop presence's background work, if it has any (RedisPresence does)."""
        stop = getattr(self.presence, "stop", None)
        if stop is not None:
            stop()

    def shipped(self, change: Change, fragments: dict | None) -> Push | None:
        """The sender's fragments as a Push, if they may be written as they are here."""
        # Only for the very next version: then they show a board at least as new as anything these
        # screens were sent, so counts never step back. Not for a room screen either: its variant was
        # rendered only if the sender had one too.
        if (not fragments or change.version is None or self.room_screens.get(change.meeting_id)
                or fragments["version"] < change.version
                or change.version != self.versions.get(change.meeting_id, 0) + 1):
            return None
        return Push.from_portable(change.meeting_id, fragments)

    def _fan_out(self, push: Push, conns: list[Connection], tracker: SendTracker | None = None) -> None:
        """Write (or leave to its sender) each socket's frame of a change, and count what the kernel took now."""
        # Runs once per socket per change: kept to a lookup, one call and a send.
        written = written_bytes = 0
        for conn in conns:
            frame = push.frame_for(conn.viewer)
            if not frame:
                continue  # nothing of this change is for this screen: not even an empty message
            data = frame.wire
            outcome = conn.offer(data, tracker)
            if outcome is SENT:
                written += 1
                written_bytes += len(data)
            elif outcome is BEHIND:
                self._behind(conn, push.meeting_id)
        count_sent(written, written_bytes)

    @staticmethod
    def _behind(conn: Connection, meeting_id: int) -> None:
        """A client too far behind is closed; it reconnects and gets the whole board."""
        metrics.SEND_QUEUE_DROPS.inc()
        event(log, "client_behind", logging.WARNING, meeting=meeting_id, action="close 1013 to resync")
        conn.close(TRY_AGAIN_LATER)

    def _read_for(self, change: Change) -> BoardState:
        """A fresh read of what this change's fragments need (the room screen always shows the whole board)."""
        if needs_whole_board(change) or self.room_screens.get(change.meeting_id):
            return self._read_whole(change.meeting_id)
        with db.connection_context():
            return load_votes(change.meeting_id, change.actor_id)

    def _read_whole(self, meeting_id: int) -> BoardState:
        """A fresh read of the whole board, kept for the pages that open next."""
        with db.connection_context():
            state = load_board(meeting_id)
        if self.rooms.get(meeting_id):
            self._boards[meeting_id] = (state, time.monotonic())
        return state

    def _board_for_attach(self, meeting_id: int) -> BoardState:
        """The whole board for a page opening: the last read if nothing changed since, else a new one."""
        kept = self._boards.get(meeting_id)
        if kept is not None and time.monotonic() - kept[1] < BOARD_REUSE_SECONDS:
            with db.connection_context():
                if meeting_version(meeting_id) == kept[0].version:
                    return kept[0]
        return self._read_whole(meeting_id)

    def _announce_presence(self, meeting_id: int, users: set[int]) -> None:
        """Tell every screen of a meeting, here and on the other workers, who came or went."""
        with self.app.app_context():
            self.announce(Change(changes.PRESENCE_CHANGED, meeting_id, None, affected_user_ids=tuple(sorted(users))))

    def _note_version(self, meeting_id: int, version: int | None) -> None:
        if version is not None and version > self.versions.get(meeting_id, 0):
            self.versions[meeting_id] = version

    def _presence_changed(self, meeting_id: int, everywhere: bool = True, user_id: int | None = None) -> None:
        """Who is here changed (a grace ran out, a worker died): tell the meeting's screens."""
        if user_id is not None and everywhere:
            self.arrivals.add(meeting_id, user_id)
            return
        with self.app.app_context():
            change = Change(changes.PRESENCE_CHANGED, meeting_id, None)
            if everywhere:
                self.announce(change)
            elif self.rooms.get(meeting_id):
                self.dispatch(change)

    def _time_up(self, meeting_id: int) -> None:
        """A timebox ran out: this worker's screens show the thumbs prompt (every worker wakes its own)."""
        if meeting_id in self.rooms:
            with self.app.app_context():
                self.dispatch(Change(changes.TIME_UP, meeting_id, None))
