"""Whole boards for (re)connecting pages, rendered once for every member who has nothing of their own on them.

A page that opens (or reconnects, or is resynced) gets its whole board first. Most members of a big meeting have
nothing of their own on it (no topic, note, action, vote, thumb or "done voting" of theirs, and no facilitator
controls): their boards are the same markup, so a thousand screens reconnecting at once cost one rendering of the
board's regions per language and each a "who is here" section (counts, for a crowd), not a thousand renderings.
"""

from leancoffee.live.render import oob
from leancoffee.services.board import BoardState
from leancoffee.services.viewing import Viewer

BOARD_REGIONS = ("_meeting_status.html", "_writing.html", "_timer.html", "_voting_progress.html", "_thumbs.html",
                 "_action_bar.html", "_columns.html", "_actions.html", "_merge.html", "_settings.html", "_roles.html")


def _regions(state: BoardState, viewer: Viewer) -> str:
    return "".join(oob(template, state, viewer) for template in BOARD_REGIONS)


def full_board(state: BoardState, viewer: Viewer, present: set[int]) -> str:
    """Every live region of a page for one viewer: what a (re)connecting page needs."""
    if viewer.screen == "room":
        return oob("_room_board.html", state, viewer, present=present)
    return _regions(state, viewer) + oob("_participants.html", state, viewer, present=present)


def own_board_users(state: BoardState) -> set[int]:
    """Members whose board shows something of their own: facilitators (controls, "(you)"), authors of topics and notes
    ("yours", Edit), actions' owners (Done), voters (dots, Remove vote), thumbs and "I'm done voting" pressed."""
    users = set(state.facilitator_ids) | set(state.votes_by_user) | set(state.thumbs_by_user)
    users |= {t.author_id for t in (*state.topics.values(), *state.unrevealed.values())}
    users |= {n.author_id for notes in state.notes.values() for n in notes}
    users |= {n.author_id for n in state.actions} | {n.owner_user_id for n in state.actions}
    users |= {p.user_id for p in state.participants if p.done_voting}
    return users


class WholeBoards:
    """The whole boards of one board read: a plain member's regions rendered once per language (the caller renders
    in the viewer's language), everyone else's for them."""

    __slots__ = ("state", "_own", "_plain")

    def __init__(self, state: BoardState):
        self.state = state
        self._own: set[int] | None = None
        self._plain: dict[str, str] = {}

    def is_plain(self, viewer: Viewer) -> bool:
        """Whether this viewer's board is any plain member's (nothing of their own on it)."""
        if viewer.screen == "room" or viewer.is_facilitator or not viewer.is_member or viewer.user_id is None:
            return False
        if self._own is None:
            self._own = own_board_users(self.state)
        return viewer.user_id not in self._own

    def render(self, viewer: Viewer, present: set[int]) -> str:
        """The same markup as full_board(state, viewer, present)."""
        if not self.is_plain(viewer):
            return full_board(self.state, viewer, present)
        plain = self._plain.get(viewer.language)
        if plain is None:
            plain = self._plain[viewer.language] = _regions(self.state, Viewer(user_id=None, is_member=True,
                                                                                language=viewer.language))
        return plain + oob("_participants.html", self.state, viewer, present=present)
