"""The read-only JSON API (/api/v1): who is calling (a token or the browser session), then thin views.

Each view reads through the same read model and access rules as the page it mirrors (a series: series_page's);
what each role may see is decided in web/api_json.py. The OpenAPI document (api_openapi.json beside this file) is the contract.
"""

import json
from dataclasses import dataclass
from functools import wraps
from pathlib import Path

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from leancoffee.live import live
from leancoffee.models import COMPLETED, User
from leancoffee.services import tokens
from leancoffee.services.access import find_meeting, membership
from leancoffee.services.board import load_board, load_votes
from leancoffee.services.errors import ActionRefused, Forbidden
from leancoffee.services.meetings import my_meetings_page
from leancoffee.services.series import series_codes, series_page
from leancoffee.services.summary import summary_of
from leancoffee.services.validation import clean_int
from leancoffee.services.viewing import Viewer, viewer_for
from leancoffee.web import api_json
from leancoffee.web.responses import api_error, is_api_request, refused
from leancoffee.web.routing import path_for

bp = Blueprint("api", __name__, url_prefix="/api/v1")
OPENAPI = json.loads((Path(__file__).with_name("api_openapi.json")).read_text())
PER_PAGE_DEFAULT, PER_PAGE_MAX = 20, 100
NOT_SIGNED_IN = ("Sign in first: send a personal API token as `Authorization: Bearer <token>` "
                 "(make one on the API tokens page), or call from a page of this site where you are signed in.")
BAD_TOKEN = "This API token is not valid: it may have been revoked, or mistyped."
CROSS_SITE = "The browser session answers calls from this site's own pages only: use a personal API token instead."
# Fetch metadata a browser sends: only these may use the session cookie (`none`: the address typed in).
SESSION_SITES = ("same-origin", "none")


@dataclass(frozen=True)
class Caller:
    """Who an API request acts for: a person, through one of their tokens (token_id) or their browser session."""

    user: User
    token_id: int | None = None


def init_app(app) -> None:
    """The caller is identified before the rate limiter runs, so reads count per token or person."""
    app.before_request(identify_caller)
    app.register_error_handler(HTTPException, http_error)


def identify_caller() -> None:
    """For API requests: the caller (g.api_caller), or why there is none (g.api_refusal)."""
    if not is_api_request():
        return
    g.api_caller, g.api_refusal = None, NOT_SIGNED_IN
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.strip().partition(" ")
        found = tokens.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            g.api_refusal = BAD_TOKEN
            return
        g.api_caller = Caller(found[0], found[1].id)
    elif current_user.is_authenticated:
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in SESSION_SITES:
            g.api_refusal = CROSS_SITE
            return
        g.api_caller = Caller(current_user._get_current_object())


def rate_key() -> str:
    """Whose budget an API read spends: the token's, the person's (session), else the address's."""
    caller = g.get("api_caller")
    if caller is None:
        return f"ip:{request.remote_addr}"
    return f"token:{caller.token_id}" if caller.token_id is not None else f"user:{caller.user.id}"


def http_error(error: HTTPException):
    """Errors werkzeug raises (405, 404 of an unknown address, 400 ...): JSON under /api/, as they were elsewhere."""
    if not is_api_request() or error.code is None or error.code < 400:  # a routing redirect stays one
        return error
    allowed = getattr(error, "valid_methods", None)
    headers = {"Allow": ", ".join(allowed)} if allowed else {}
    message = "The API is read-only: only GET is allowed here." if error.code == 405 else error.description
    return api_error(error.code or 500, message, headers)


def signed_in(view):
    """Answer 401 (JSON, with a WWW-Authenticate challenge) unless the caller is identified."""

    @wraps(view)
    def guarded(**kwargs):
        caller = g.get("api_caller")
        if caller is None:
            return api_error(401, g.get("api_refusal", NOT_SIGNED_IN), {"WWW-Authenticate": 'Bearer realm="leancoffee"'})
        try:
            return view(caller, **kwargs)
        except ActionRefused as error:
            return refused(kwargs.get("code"), error)

    return guarded


def member_of_meeting(caller: Caller, code: str, *, completed_is_public: bool = False):
    """The meeting and the caller's Viewer, if they are in it (as the board page asks); else NotFound or Forbidden.

    With `completed_is_public`, anyone may read a completed meeting, as anyone may read its summary page.
    """
    meeting = find_meeting(code)
    g.meeting_id = meeting.id  # for the request's log line
    participant = membership(meeting, caller.user)
    if participant is not None and participant.is_active:
        return meeting, viewer_for(meeting, participant)
    if completed_is_public and meeting.status == COMPLETED:
        return meeting, Viewer(user_id=caller.user.id)
    raise Forbidden(gettext("You are not in this meeting: join it on its page first (only its participants can read it)."))


@bp.get("/openapi.json")
def openapi():
    """The API's OpenAPI 3.1 description (public: it holds no data)."""
    return jsonify(OPENAPI)


@bp.get("/meetings")
@signed_in
def meetings(caller: Caller):
    """The meetings the caller created or joined, newest first, a page at a time."""
    page = clean_int(request.args.get("page", "1"), "page", 1, 10**6)
    per_page = clean_int(request.args.get("per_page", str(PER_PAGE_DEFAULT)), "per_page", 1, PER_PAGE_MAX)
    rows, total = my_meetings_page(caller.user, (page - 1) * per_page, per_page)
    more = page * per_page < total
    codes = series_codes([m for m, _ in rows])
    return jsonify(
        meetings=[api_json.meeting_item(m, p, codes.get(m.id)) for m, p in rows], page=page, per_page=per_page, total=total,
        next=path_for("api.meetings", page=page + 1, per_page=per_page) if more else None,
    )


@bp.get("/meetings/<meeting_code:code>")
@signed_in
def board(caller: Caller, code):
    """One meeting's board, as its page shows it to the caller."""
    meeting, viewer = member_of_meeting(caller, code)
    return jsonify(api_json.board_json(load_board(meeting.id), viewer, series_codes([meeting]).get(meeting.id)))


@bp.get("/meetings/<meeting_code:code>/participants")
@signed_in
def participants(caller: Caller, code):
    """Who is in the meeting and who has its board open."""
    meeting, viewer = member_of_meeting(caller, code)
    present = live.hub.presence.present_users(meeting.id)
    return jsonify(api_json.participants_json(load_board(meeting.id), present, viewer))


@bp.get("/meetings/<meeting_code:code>/my-votes")
@signed_in
def my_votes(caller: Caller, code):
    """The caller's own votes in the meeting."""
    meeting, viewer = member_of_meeting(caller, code)
    return jsonify(api_json.my_votes_json(load_votes(meeting.id, caller.user.id, meeting), viewer))


@bp.get("/meetings/<meeting_code:code>/summary")
@signed_in
def summary(caller: Caller, code):
    """What the meeting produced: its members' to read, and anyone's once it is completed (as the summary page)."""
    meeting, viewer = member_of_meeting(caller, code, completed_is_public=True)
    state = load_board(meeting.id)
    return jsonify(api_json.summary_json(summary_of(state), state, viewer, series_codes([meeting]).get(meeting.id)))


@bp.get("/series/<meeting_code:series_code>")
@signed_in
def series(caller: Caller, series_code):
    """A series, for someone in one of its meetings (to anyone else, as its page, a series that does not exist)."""
    return jsonify(api_json.series_json(series_page(series_code, caller.user)))

