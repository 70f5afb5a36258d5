"""What one worker holds for one meeting it serves: one object, made with the meeting's first socket here
and dropped with its last (Hub.attach and Hub.detach are the only places that do either)."""

import time

from gevent.lock import RLock

from leancoffee.db import db
from leancoffee.live.boards import WholeBoards
from leancoffee.live.connection import Connection
from leancoffee.services.board import BoardState, load_board, meeting_version

# A page opening reuses the whole board read for the previous one while the meeting's version is
# unchanged and the read is this young (its clock-derived parts, like spent time, stay current).
BOARD_REUSE_SECONDS = 1.0


class LiveMeeting:
    """A meeting's sockets on this worker, and what they were shown; changes to it go one at a time (`lock`)."""

    __slots__ = ("id", "sockets", "lock", "version", "shown_present", "room_screens", "board", "dropped",
                 "subscribed", "highest_seen", "awaited", "boards")

    def __init__(self, meeting_id: int):
        self.id = meeting_id
        self.sockets: set[Connection] = set()
        # Rendering and queueing happen one change at a time, each from a fresh read, so every socket
        # sees the board only move forward.
        self.lock = RLock()
        # The newest meeting version these sockets were sent (the backplane spots gaps with it).
        self.version = 0
        # Who these sockets were last shown as here (presence has no version to compare).
        self.shown_present: set[int] | None = None
        # Projected room screens among the sockets: they show the whole board, so changes need a whole read.
        self.room_screens = 0
        # The last whole board read, and when (see BOARD_REUSE_SECONDS).
        self.board: tuple[BoardState, float] | None = None
        # The whole boards of the last read (a plain member's rendered once for all the pages opening).
        self.boards: WholeBoards | None = None
        # Set once the last socket left and the hub let go of this object.
        self.dropped = False
        # The backplane's view of the meeting's channel: confirmed subscription, versions seen and awaited.
        self.subscribed = False
        self.highest_seen: int | None = None
        self.awaited: dict[int, float] = {}

    def note_version(self, version: int | None) -> None:
        """These sockets were sent the board at `version` (None: a change that has no version)."""
        if version is not None and version > self.version:
            self.version = version

    def keep_board(self, state: BoardState) -> None:
        """Keep a whole board read for the pages that open next."""
        self.board = (state, time.monotonic())
        self.boards = WholeBoards(state)

    def whole_boards(self, state: BoardState) -> WholeBoards:
        """The whole boards of this read: those kept with it, so pages opening together share a plain member's."""
        return self.boards if self.boards is not None and self.boards.state is state else WholeBoards(state)

    def recent_board(self) -> BoardState | None:
        """The board read kept, while it is young enough to reuse (its version still needs checking)."""
        if self.board is not None and time.monotonic() - self.board[1] < BOARD_REUSE_SECONDS:
            return self.board[0]
        return None

    def read_whole(self) -> BoardState:
        """A fresh read of the whole board, kept for the pages that open next."""
        with db.connection_context():
            state = load_board(self.id)
        self.keep_board(state)
        return state

    def board_for_attach(self) -> BoardState:
        """The whole board for a page opening: the last read if nothing changed since, else a new one."""
        kept = self.recent_board()
        if kept is not None:
            with db.connection_context():
                if meeting_version(self.id) == kept.version:
                    return kept
        return self.read_whole()
