"""Pages: home (start a meeting), the board, and the join form."""

from flask import Blueprint, abort, get_flashed_messages, render_template
from flask_login import current_user

from leancoffee.live import live
from leancoffee.models import MEETING_TITLE_MAX, NAME_MAX, VOTES_MAX, VOTES_MIN
from leancoffee.services.access import find_meeting, membership
from leancoffee.services.board import load_board, viewer_for
from leancoffee.services.errors import NotFound
from leancoffee.web.security import csrf_token

bp = Blueprint("pages", __name__)

LIMITS = {"name": NAME_MAX, "meeting_title": MEETING_TITLE_MAX, "votes_min": VOTES_MIN, "votes_max": VOTES_MAX}


def page(template: str, status: int = 200, **context):
    """Render a whole page, with the CSRF token and any flashed messages."""
    return render_template(
        template, csrf_token=csrf_token(), messages=get_flashed_messages(with_categories=True), limits=LIMITS, **context
    ), status


def acting_user():
    """The logged-in user, or None: identity always comes from the login session."""
    return current_user._get_current_object() if current_user.is_authenticated else None


@bp.get("/")
def home():
    """Start a meeting."""
    return page("home.html", user=acting_user())


@bp.get("/m/<code>")
def board(code):
    """The live board for participants; the join form for everyone else."""
    try:
        meeting = find_meeting(code)
    except NotFound as error:
        return page("not_found.html", 404, message=error.message)
    participant = membership(meeting, acting_user())
    if participant is None or not participant.is_active:
        return page("join.html", meeting=meeting, participant=participant, user=acting_user())
    state = load_board(meeting.id)
    return page(
        "board.html",
        board=state,
        viewer=viewer_for(meeting, participant),
        present=live.hub.presence.present_users(meeting.id),
    )


@bp.app_errorhandler(404)
def not_found(error):
    """A friendly page for unknown addresses."""
    return page("not_found.html", 404, message="There is nothing at this address.")


@bp.app_errorhandler(413)
def too_large(error):
    """Bodies over the limit are refused before any parsing."""
    return page("not_found.html", 413, message="That was too much text to send at once.")


__all__ = ["bp", "abort"]
