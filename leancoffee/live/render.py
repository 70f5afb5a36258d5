"""Rendering one partial for one viewer, from the board alone; the viewers fragments are rendered for."""

from flask import current_app

from leancoffee.live.push import mark_oob
from leancoffee.services.board import BoardState
from leancoffee.services.viewing import Viewer
from leancoffee.web.routing import fragment_url


def render_part(template: str, state: BoardState, viewer: Viewer | None = None, **extra) -> str:
    """Render one partial (one root element) for a viewer, from the board alone.

    Not through Flask's render_template: a fragment goes to every screen, so nothing of the request
    that caused it (its user, session or CSRF token) may reach it, and skipping the request context
    and signals halves what rendering a vote's fragments costs. Addresses are paths (fragment_url).
    """
    return current_app.jinja_env.get_template(template).render(board=state, viewer=viewer or Viewer(None),
                                                                public_url=fragment_url, **extra)


def oob(template: str, state: BoardState, viewer: Viewer | None = None, **extra) -> str:
    """A partial marked for an out-of-band swap."""
    return mark_oob(render_part(template, state, viewer, **extra))


def member_view(state: BoardState, user_id: int) -> Viewer:
    """The Viewer of a member of this meeting."""
    return Viewer(user_id=user_id, is_facilitator=user_id in state.facilitator_ids, is_member=True)


def facilitator_view(state: BoardState) -> Viewer:
    """Any of the facilitators: nobody in particular, so a fragment for them all shows no one's own votes or thumbs."""
    return Viewer(user_id=None, is_facilitator=True, is_member=True)
