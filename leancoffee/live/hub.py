"""This worker's open sockets, grouped by meeting, and the fan-out of changes to them."""

import logging
import time
from collections import Counter
from functools import partial

from gevent.lock import Semaphore

from leancoffee import metrics
from leancoffee.db import db
from leancoffee.i18n import rendering_in
from leancoffee.live.backplane import LocalBackplane
from leancoffee.live.closing import ONLY_CLOSE, settle_screens
from leancoffee.live.connection import SENT, SERVICE_RESTART, Connection, SendTracker, count_sent, fan_out
from leancoffee.live.fanout import (
    PEOPLE_KINDS,
    QUIET_KINDS,
    SHOWS_PRESENCE,
    build_push,
    needs_whole_board,
    whole_board_push,
)
from leancoffee.live.heartbeat import Heartbeat
from leancoffee.live.languages import Localized, in_language
from leancoffee.live.meeting import LiveMeeting
from leancoffee.live.presence import ArrivalBatches, LocalPresence
from leancoffee.live.progress_fanout import HIDDEN_PROGRESS_SECONDS, progress_throttled
from leancoffee.live.push import Deferred, Frame, Push
from leancoffee.live.timers import Throttle, TimeUpAlarms
from leancoffee.logs import event
from leancoffee.services import changes
from leancoffee.services.board import BoardState, load_board, load_votes, meeting_version
from leancoffee.services.changes import Change
from leancoffee.services.people import CROWD_PRESENCE_SECONDS

log = logging.getLogger(__name__)

# Arrivals and departures within this window reach screens as one presence change (ArrivalBatches).
PRESENCE_BATCH_SECONDS = 0.05


class Hub:
    """Sockets of this worker by meeting; renders each change once per audience (presence, backplane: Live.init_app)."""

    def __init__(self, app):
        self.app = app
        # One LiveMeeting per meeting with a socket here, made in attach and dropped in detach only.
        self.meetings: dict[int, LiveMeeting] = {}
        self._registry = Semaphore()
        self.presence = LocalPresence(app.config["PRESENCE_GRACE_SECONDS"], self._presence_changed)
        self.backplane = LocalBackplane()
        self.alarms = TimeUpAlarms(partial(self._woken, changes.TIME_UP))
        self.progress = Throttle(HIDDEN_PROGRESS_SECONDS, partial(self._woken, changes.VOTING_PROGRESS))
        self.arrivals = ArrivalBatches(PRESENCE_BATCH_SECONDS, self._announce_presence)
        self.heartbeat = Heartbeat(self.all_connections, app.config["SOCKET_PING_SECONDS"])
        # Open sockets on this worker, in all and by person (a socket is not a request: no server pool counts it).
        self.socket_count = 0
        self.sockets_by_user: Counter = Counter()

    def _joined(self, conn: Connection) -> LiveMeeting:
        """The meeting's LiveMeeting, made if this is its first socket here, with the socket in it; locked."""
        while True:
            with self._registry:
                live = self.meetings.get(conn.meeting_id)
                first = live is None
                if first:
                    live = self.meetings[conn.meeting_id] = LiveMeeting(conn.meeting_id)
            live.lock.acquire()
            if not live.dropped:  # not let go by a detach between the two lines above
                break
            live.lock.release()
        live.sockets.add(conn)
        live.room_screens += conn.viewer.screen == "room"
        if first:
            # Subscribe before reading: a change committed after this read reaches us.
            self.backplane.room_opened(conn.meeting_id)
        return live

    def attach(self, conn: Connection) -> None:
        """Register a socket, then queue the whole board for it first (heals anything missed)."""
        self.heartbeat.start()
        live = self._joined(conn)
        try:
            # A room screen opened by its link is nobody: it never counts among the people here.
            arrived = conn.viewer.user_id is not None and self.presence.connected(conn.meeting_id, conn.viewer.user_id)
            state = live.board_for_attach()
            live.note_version(state.version)
            with rendering_in(conn.viewer.language):
                board = Frame(live.whole_boards(state).render(conn.viewer, self.presence.present_users(conn.meeting_id)))
            if conn.offer(board.wire) is SENT:
                count_sent(1, len(board.wire))
            self.alarms.watch(state)
        finally:
            live.lock.release()
        self.socket_count += 1
        self.sockets_by_user[conn.viewer.user_id] += 1
        metrics.OPEN_SOCKETS.inc()
        metrics.LIVE_MEETINGS.set(len(self.meetings))
        if arrived:
            self.arrivals.add(conn.meeting_id, conn.viewer.user_id, self._batch_window(conn.meeting_id))

    def detach(self, conn: Connection) -> None:
        """Forget a socket that closed; the meeting's LiveMeeting goes with its last socket."""
        conn.stop()
        live = self.meetings.get(conn.meeting_id)
        if live is None:
            return
        with live.lock:
            if conn not in live.sockets:
                return
            live.sockets.discard(conn)
            live.room_screens -= conn.viewer.screen == "room"
            self.socket_count -= 1
            self.sockets_by_user[conn.viewer.user_id] -= 1
            if not self.sockets_by_user[conn.viewer.user_id]:
                del self.sockets_by_user[conn.viewer.user_id]  # so the Counter holds only people with sockets
            metrics.OPEN_SOCKETS.dec()
            if not live.sockets:
                with self._registry:
                    live.dropped = True
                    del self.meetings[conn.meeting_id]
                self.backplane.room_closed(conn.meeting_id)
        metrics.LIVE_MEETINGS.set(len(self.meetings))
        if conn.viewer.user_id is not None:
            self.presence.disconnected(conn.meeting_id, conn.viewer.user_id)

    def dispatch(self, change: Change, sent_at: float | None = None, origin: str = "local",
                 fragments: dict | None = None, on_failure=None) -> Push | Localized | Deferred:
        """Render a committed change and queue it on every local socket of its meeting.

        `fragments`: its sender's rendering (backplane), used as is when it is the very next version here.
        """
        if change.kind == changes.PARTICIPANT_LEFT and change.actor_id is not None:
            self.presence.leave(change.meeting_id, change.actor_id)
        settle_screens(change, self.connections_of(change.meeting_id))
        if change.kind in ONLY_CLOSE:
            return Push(meeting_id=change.meeting_id, version=None)
        live = self.meetings.get(change.meeting_id)
        if live is None:  # no screen here: rendered only if the actor's answer or the other workers ask
            return Deferred(change.meeting_id, lambda: self._render(change, None, None), on_failure)
        # sent_at: wall-clock time of the commit; the broadcast latency runs to the last local write.
        sent_at = time.time() if sent_at is None else sent_at
        with live.lock:
            if change.version is None and change.kind in QUIET_KINDS:
                live.board = None  # a hidden vote (or unrevealed topic) left the version as it was
            push = self._render(change, live, fragments)
            tracker = SendTracker(lambda: metrics.BROADCAST_LATENCY.labels(origin).observe(time.time() - sent_at))
            fan_out(push, list(live.sockets), tracker)  # builds the Push of each language these screens read
            live.note_version(push.version)
            tracker.done()
        return push

    def _render(self, change: Change, live: LiveMeeting | None, fragments: dict | None) -> Localized:
        """The change in each language its screens read: the sender's fragments (in theirs) or one read rendered per language."""
        shipped, read = self.shipped(change, fragments, live), []

        def build(language: str) -> Push:
            usable = shipped is not None and shipped.language == language
            if not usable and not read:
                read[:] = self._read_for(change, live), self._present_for(change, live)
                self.alarms.watch(read[0])
                if live is not None and progress_throttled(change, read[0]):
                    self.progress.poke(change.meeting_id)
                if live is not None and change.kind in PEOPLE_KINDS:
                    live.shown_present = read[1]
            push = shipped if usable else in_language(language, lambda: build_push(change, *read))
            metrics.CHANGES_RENDERED.labels("here" if push.rendered_here else "by_sender").inc()
            metrics.RENDERED_IN.labels(language).inc()
            return push

        return Localized(change.meeting_id, build)

    def _present_for(self, change: Change, live: LiveMeeting | None) -> set[int]:
        """Who is here, for a change that shows it; a room screen's count reuses who was last shown (no read per vote)."""
        if change.kind in SHOWS_PRESENCE:
            return self.presence.present_users(change.meeting_id)
        if live is None or not live.room_screens:
            return set()
        if live.shown_present is None:
            live.shown_present = self.presence.present_users(change.meeting_id)
        return live.shown_present

    def announce(self, change: Change) -> None:
        """A change born on this worker (presence): render it here and tell the other workers."""
        if change.meeting_id in self.meetings:
            self.dispatch(change)
        self.backplane.publish(change)

    def resync(self, meeting_id: int, reason: str) -> int:
        """Send every local socket of a meeting its whole board again; returns how many."""
        live = self.meetings.get(meeting_id)
        if live is None:
            return 0
        with live.lock:
            conns = list(live.sockets)
            if not conns:
                return 0
            state = live.read_whole()
            live.note_version(state.version)
            present = live.shown_present = self.presence.present_users(meeting_id)
            board = Localized(meeting_id, lambda language: in_language(language, lambda: whole_board_push(state, present)))
            fan_out(board, conns)
        metrics.RESYNCS.labels(reason).inc()
        event(log, "resync", meeting=meeting_id, reason=reason, sockets=len(conns), version=state.version)
        return len(conns)

    def catch_up(self, meeting_id: int) -> int | None:
        """Resync a meeting if the database (or presence) is ahead of what its sockets were sent; returns the version."""
        live = self.meetings.get(meeting_id)
        if live is None:
            with db.connection_context():
                return meeting_version(meeting_id)
        # Under the meeting's lock, so a socket still being attached gets its own full board first.
        with live.lock:
            with db.connection_context():
                current = meeting_version(meeting_id)
            if current is not None and current > live.version:
                self.resync(meeting_id, "subscribed_late")
            elif self.presence.present_users(meeting_id) != live.shown_present:
                self.dispatch(Change(changes.PRESENCE_CHANGED, meeting_id, None))
            return current

    def meeting_ids(self) -> list[int]:
        """Meetings with at least one open socket on this worker."""
        return list(self.meetings)

    def all_connections(self) -> list[Connection]:
        """Every open socket on this worker."""
        return [conn for live in list(self.meetings.values()) for conn in list(live.sockets)]

    def connections_of(self, meeting_id: int) -> list[Connection]:
        """Open sockets of a meeting on this worker."""
        live = self.meetings.get(meeting_id)
        return list(live.sockets) if live is not None else []

    def close_all(self, code: int = SERVICE_RESTART) -> None:
        """Close every socket (1012 on shutdown, so browsers come back by themselves)."""
        for conn in self.all_connections():
            conn.close(code)

    @staticmethod
    def shipped(change: Change, fragments: dict | None, live: LiveMeeting | None) -> Push | None:
        """The sender's fragments as a Push, if they may be written as they are here."""
        # Only for the very next version: then they show a board at least as new as anything these
        # screens were sent, so counts never step back. Not for a room screen either: its variant was
        # rendered only if the sender had one too.
        if (not fragments or live is None or change.version is None or live.room_screens
                or fragments["version"] < change.version or change.version != live.version + 1):
            return None
        return Push.from_portable(change.meeting_id, fragments)

    def _read_for(self, change: Change, live: LiveMeeting | None) -> BoardState:
        """A fresh read of what this change's fragments need (the room screen always shows the whole board)."""
        whole = needs_whole_board(change) or (live is not None and live.room_screens > 0)
        if change.kind == changes.PRESENCE_CHANGED and live is not None:
            return live.board_for_attach()  # nothing was written: the last read, while the version is unchanged
        if whole and live is not None:
            return live.read_whole()
        # What the write's transaction read is reused only while no newer board reached these screens.
        known = change.version is not None and (live is None or change.version > live.version)
        with db.connection_context():
            if whole:
                return load_board(change.meeting_id)
            if known:
                return load_votes(change.meeting_id, change.actor_id, change.meeting, change.actor_dots)
            return load_votes(change.meeting_id, change.actor_id)

    def _batch_window(self, meeting_id: int) -> float:
        """A crowd's screens get who came or went as counts, at most once a CROWD_PRESENCE_SECONDS; others at once."""
        live = self.meetings.get(meeting_id)
        kept = live.board if live is not None else None
        return CROWD_PRESENCE_SECONDS if kept is not None and kept[0].crowd else PRESENCE_BATCH_SECONDS

    def _announce_presence(self, meeting_id: int, users: set[int]) -> None:
        """Tell every screen of a meeting, here and on the other workers, who came or went."""
        with self.app.app_context():
            self.announce(Change(changes.PRESENCE_CHANGED, meeting_id, None, affected_user_ids=tuple(sorted(users))))

    def _presence_changed(self, meeting_id: int, everywhere: bool = True, user_id: int | None = None) -> None:
        """Who is here changed (a grace ran out, a worker died): tell the meeting's screens."""
        if user_id is not None and everywhere:
            self.arrivals.add(meeting_id, user_id, self._batch_window(meeting_id))
            return
        with self.app.app_context():
            change = Change(changes.PRESENCE_CHANGED, meeting_id, None)
            if everywhere:
                self.announce(change)
            elif meeting_id in self.meetings:
                self.dispatch(change)

    def _woken(self, kind: str, meeting_id: int) -> None:
        """A timebox ran out (TIME_UP), or hidden voting's progress is due (VOTING_PROGRESS): this worker's screens
        are told (every worker wakes its own)."""
        if meeting_id in self.meetings:
            with self.app.app_context():
                self.dispatch(Change(kind, meeting_id, None))
