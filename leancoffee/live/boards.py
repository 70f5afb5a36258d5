"""Whole boards for (re)connecting pages: each region rendered once for every member with nothing of their own in it.

A page that opens (or reconnects, or is resynced) gets its whole board first. Most members of a big meeting have
nothing of their own in most regions (no topic, note, action, vote, thumb or "done voting" of theirs, and no
facilitator controls): those regions are the same markup for all of them, so a thousand screens reconnecting at once
cost one rendering of each region per language, the few regions that are someone's own for them, and each a "who is
here" section (counts, for a crowd), not a thousand renderings of the board.
"""

from leancoffee.live.render import oob
from leancoffee.services.board import BoardState
from leancoffee.services.viewing import Viewer

BOARD_REGIONS = ("_meeting_status.html", "_writing.html", "_timer.html", "_voting_progress.html", "_thumbs.html",
                 "_action_bar.html", "_columns.html", "_actions.html", "_merge.html", "_settings.html", "_roles.html",
                 "_share.html")


def _regions(state: BoardState, viewer: Viewer) -> str:
    return "".join(oob(template, state, viewer) for template in BOARD_REGIONS)


def full_board(state: BoardState, viewer: Viewer, present: set[int]) -> str:
    """Every live region of a page for one viewer: what a (re)connecting page needs."""
    if viewer.screen == "room":
        return oob("_room_board.html", state, viewer, present=present)
    return _regions(state, viewer) + oob("_participants.html", state, viewer, present=present)


def own_regions(state: BoardState) -> dict[str, set[int]]:
    """Which members each region shows something of their own to (a facilitator's every region is theirs): those
    writing privately (how many others write), thumbs pressed, voters and "I'm done voting" (dots and buttons), authors
    of topics and notes ("yours", Edit) and voters in the columns, actions' owners (Done) and carried actions' authors
    (Edit: a carried action has no card here, so its row carries the form). Any other region, and any
    other member, read as any plain member's."""
    voters = set(state.votes_by_user)
    authors = {t.author_id for t in (*state.topics.values(), *state.unrevealed.values())}
    authors |= {n.author_id for notes in state.notes.values() for n in notes}
    return {
        "_writing.html": set(state.writers),
        "_thumbs.html": set(state.thumbs_by_user),
        "_action_bar.html": voters | {p.user_id for p in state.participants if p.done_voting},
        "_columns.html": voters | authors,
        "_actions.html": {n.owner_user_id for n in state.actions} | {n.author_id for n in state.actions if n.carried},
    }


class WholeBoards:
    """The whole boards of one board read: each region as a plain member sees it rendered once per language (the
    caller renders in the viewer's language), and only the regions with something of a member's own for them."""

    __slots__ = ("state", "_own", "_plain")

    def __init__(self, state: BoardState):
        self.state = state
        self._own: dict[str, set[int]] | None = None
        self._plain: dict[tuple[str, str], str] = {}

    def _shared(self, viewer: Viewer) -> bool:
        """Whether this viewer may get regions rendered for any plain member (a member's board, not a facilitator's)."""
        return viewer.screen != "room" and not viewer.is_facilitator and viewer.is_member and viewer.user_id is not None

    def own_regions_of(self, viewer: Viewer) -> list[str]:
        """The regions rendered for this viewer alone (every region for a facilitator, a room screen or a visitor)."""
        if not self._shared(viewer):
            return list(BOARD_REGIONS)
        if self._own is None:
            self._own = own_regions(self.state)
        return [template for template, users in self._own.items() if viewer.user_id in users]

    def render(self, viewer: Viewer, present: set[int]) -> str:
        """The same markup as full_board(state, viewer, present)."""
        if not self._shared(viewer):
            return full_board(self.state, viewer, present)
        own = self.own_regions_of(viewer)
        parts = [oob(template, self.state, viewer) if template in own else self._plain_region(template, viewer.language)
                 for template in BOARD_REGIONS]
        return "".join(parts) + oob("_participants.html", self.state, viewer, present=present)

    def _plain_region(self, template: str, language: str) -> str:
        html = self._plain.get((template, language))
        if html is None:
            plain = Viewer(user_id=None, is_member=True, language=language)
            html = self._plain[(template, language)] = oob(template, self.state, plain)
        return html
