"""Pages: home (start a meeting), the board, and the join form."""

from functools import partial, wraps

import segno
from flask import Blueprint, Response, g, get_flashed_messages, redirect, render_template, request
from flask_babel import gettext
from flask_login import current_user

from leancoffee.live import live
from leancoffee.models import COMPLETED, DEFAULT_TIMEBOX
from leancoffee.services.access import find_meeting, membership
from leancoffee.services.action_items import open_actions_of
from leancoffee.services.board import load_board
from leancoffee.services.errors import Forbidden, NotFound
from leancoffee.services.meetings import my_meetings
from leancoffee.services.people import people_page_for
from leancoffee.services.room import find_room
from leancoffee.services.series import current_meeting, find_series, place_of, series_page
from leancoffee.services.summary import build_summary, to_csv, to_markdown
from leancoffee.services.viewing import Viewer, viewer_for
from leancoffee.web.responses import api_error, is_api_request
from leancoffee.web.routing import path_for, public_url
from leancoffee.web.security import csrf_token

bp = Blueprint("pages", __name__)

def page(template: str, status: int = 200, **context):
    """Render a whole page, with the CSRF token and any flashed messages."""
    return render_template(
        template, csrf_token=csrf_token(), messages=get_flashed_messages(with_categories=True), **context
    ), status


def acting_user():
    """The logged-in user, or None: identity always comes from the login session."""
    return current_user._get_current_object() if current_user.is_authenticated else None


@bp.get("/")
def home():
    """Start a meeting."""
    user = acting_user()
    return page("home.html", user=user, meetings=my_meetings(user), default_timebox=DEFAULT_TIMEBOX,
                my_actions=open_actions_of(user.id) if user else [])


def for_members(view=None, *, summary_when_completed=False):
    """Run a meeting page for its participants only: others get the join form (or 404 for no meeting).

    With `summary_when_completed`, others opening a completed meeting read its summary instead (its
    attendees are final: the visit adds nobody). The view receives the meeting and the visitor's
    participant row instead of the code.
    """
    if view is None:
        return partial(for_members, summary_when_completed=summary_when_completed)

    @wraps(view)
    def guarded(code, **kwargs):
        try:
            meeting = find_meeting(code)
        except NotFound as error:
            return page("not_found.html", 404, message=error.message)
        g.meeting_id = meeting.id  # for the request's log line
        participant = membership(meeting, acting_user())
        if participant is None or not participant.is_active:
            if summary_when_completed and meeting.status == COMPLETED:
                return page("summary.html", summary=build_summary(meeting.id), member=False, viewer=viewer_for(meeting, None),
                            place=place_of(meeting))
            return page("join.html", meeting=meeting, participant=participant, user=acting_user())
        return view(meeting, participant, **kwargs)

    return guarded


@bp.get("/m/<meeting_code:code>")
@for_members(summary_when_completed=True)
def board(meeting, participant):
    """The live board (a completed meeting opens on its summary)."""
    if meeting.status == COMPLETED and request.args.get("board") is None:
        return redirect(path_for("pages.summary", code=meeting.code), code=303)
    return page(
        "board.html",
        board=load_board(meeting.id),
        viewer=viewer_for(meeting, participant),
        present=live.hub.presence.present_users(meeting.id),
    )


@bp.get("/m/<meeting_code:code>/people")
def people(code):
    """Everyone in the meeting, with a facilitator's per-person controls: its members only (a crowd's board shows counts)."""
    try:
        meeting, participant = people_page_for(code, acting_user())
    except NotFound as error:
        return page("not_found.html", 404, message=error.message)
    except Forbidden as error:
        return page("not_found.html", 403, message=error.message, heading=gettext("Only for the people in this meeting"),
                    back=path_for("pages.board", code=code))
    g.meeting_id = meeting.id  # for the request's log line
    return page("people.html", board=load_board(meeting.id), viewer=viewer_for(meeting, participant),
                present=live.hub.presence.present_users(meeting.id))


def join_qr_svg(join_link: str) -> str:
    """The join link as a QR code, inline SVG (dark on white whatever the colour scheme, so phones read it)."""
    return segno.make(join_link, error="m").svg_inline(scale=6, border=2, dark="#111", light="#fff", title=gettext("Join link"),
                                                        omitsize=True)  # a viewBox: CSS sizes it to the screen


def room_page(meeting, viewer: Viewer, socket_path: str, status: int = 200):
    """The projected room screen: large, read-only, live, with the join link and its QR code."""
    join_link = public_url(path_for("pages.board", code=meeting.code))
    return render_template("room.html", board=load_board(meeting.id), viewer=viewer, socket_path=socket_path,
                           present=live.hub.presence.present_users(meeting.id), join_base=public_url(""),
                           qr_svg=join_qr_svg(join_link), csrf_token=""), status


@bp.get("/m/<meeting_code:code>/room")
@for_members
def room(meeting, participant):
    """The room screen for a member (their own login opens it)."""
    socket_path = path_for("socket.board_socket", code=meeting.code, screen="room")
    return room_page(meeting, viewer_for(meeting, participant, "room"), socket_path)


@bp.get("/room/<room_secret:secret>")
def room_by_link(secret):
    """The room screen by its own link: no login, no cookie; a renewed or wrong link is a 404 page."""
    try:
        meeting = find_room(secret)
    except NotFound as error:
        return render_template("not_found.html", message=error.message, heading=gettext("Room link not valid"),
                               csrf_token=""), 404
    g.meeting_id = meeting.id  # for the request's log line
    return room_page(meeting, Viewer(None, screen="room", room_secret=secret), path_for("socket.room_link_socket", secret=secret))


@bp.get("/m/<meeting_code:code>/summary")
@for_members(summary_when_completed=True)
def summary(meeting, participant):
    """What the meeting produced; exports as Markdown and CSV. Owners and facilitators mark actions done here too."""
    return page("summary.html", summary=build_summary(meeting.id), viewer=viewer_for(meeting, participant),
                place=place_of(meeting))


@bp.get("/m/<meeting_code:code>/summary.<any(md, csv):fmt>")
@for_members
def summary_export(meeting, participant, fmt):
    """The summary as a Markdown or CSV download."""
    result = build_summary(meeting.id)
    body, mimetype = (to_markdown(result), "text/markdown") if fmt == "md" else (to_csv(result), "text/csv")
    filename = f"lean-coffee-{meeting.created_at:%Y-%m-%d}-{meeting.id}.{fmt}"  # not the code: it is the meeting's key
    return Response(body, content_type=f"{mimetype}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/s/<meeting_code:series_code>")
def series_link(series_code):
    """A series' stable link: always its current meeting (the bookmark a team keeps)."""
    try:
        series = find_series(series_code)
    except NotFound as error:
        return page("not_found.html", 404, message=error.message)
    return redirect(path_for("pages.board", code=current_meeting(series).code), code=303)


@bp.get("/s/<meeting_code:series_code>/meetings")
def series_meetings(series_code):
    """A series' page: its meetings with their dates and summaries, and its open actions."""
    try:
        found = series_page(series_code, acting_user())
    except NotFound as error:
        return page("not_found.html", 404, message=error.message)
    return page("series.html", series=found, series_url=public_url(path_for("pages.series_link", series_code=found.series.code)))


@bp.app_errorhandler(404)
def not_found(error):
    """A friendly page for unknown addresses (a JSON error under /api/)."""
    if is_api_request():
        return api_error(404, "There is nothing at this address: the API's paths are in /api/v1/openapi.json.")
    return page("not_found.html", 404, message=gettext("There is nothing at this address."))
