"""The webhooks pages of a meeting (`/m/<code>/webhooks`) and of a series (`/s/<code>/webhooks`), for facilitators:
add (the secret shown once), turn off and on, delete, and each webhook's delivery log with a resend button."""

from flask import Blueprint, flash, g, redirect, render_template, request
from flask_babel import gettext, lazy_gettext

from leancoffee.services import webhooks
from leancoffee.services.errors import ActionRefused
from leancoffee.web.pages import acting_user, page
from leancoffee.web.routing import path_for
from leancoffee.web.security import keep_session_unchanged
from leancoffee.webhooks.queue import LOG_SIZE
from leancoffee.webhooks.tables import MEETING_FINISHED

bp = Blueprint("webhooks", __name__)
FORMAT_LABELS = {"json": lazy_gettext("JSON (for your own scripts)"), "slack": lazy_gettext("Slack"),
                 "mattermost": lazy_gettext("Mattermost"), "teams": lazy_gettext("Microsoft Teams (Workflows)")}
EVENT_LABELS = {"meeting.finished": lazy_gettext("The meeting finished (its summary)"),
                "topic.discussed": lazy_gettext("Each topic discussed (with its takeaways and actions)")}
MEETING, SERIES = "meeting", "series"


def _place(kind: str, code: str) -> webhooks.Place:
    if kind == SERIES:
        return webhooks.series_place(acting_user(), code)
    return webhooks.meeting_place(acting_user(), code)


def _here(kind: str, code: str, endpoint: str = "", **values) -> str:
    name = f"webhooks.{kind}_{endpoint or 'hooks'}"
    return path_for(name, **({"series_code": code} if kind == SERIES else {"code": code}), **values)


def _page(kind: str, code: str, place: webhooks.Place, status: int = 200, *, new=None, error=None, form=None):
    g.meeting_id = place.meeting.id  # for the request's log line
    hooks = webhooks.webhooks_of(place)
    back = path_for("pages.series_meetings", series_code=code) if kind == SERIES else path_for("pages.board", code=code)
    return page("webhooks.html", status, place=place, kind=kind, code=code, hooks=hooks, logs=webhooks.deliveries_of(hooks),
                new=new, error=error, form=form or {"events": [MEETING_FINISHED], "format": "json"}, back=back,
                formats=FORMAT_LABELS, events=EVENT_LABELS, log_size=LOG_SIZE, here=lambda ep="", **v: _here(kind, code, ep, **v))


def _refused_page(error: ActionRefused):
    keep_session_unchanged()
    return render_template("not_found.html", message=error.message, heading=gettext("Webhooks")), error.status


def show(kind: str, code: str):
    try:
        place = _place(kind, code)
    except ActionRefused as error:
        return _refused_page(error)
    return _page(kind, code, place)


def add(kind: str, code: str):
    """Add a webhook and show its secret this once (not redirected: the secret is kept for nothing else to show)."""
    form = {"url": request.form.get("url", ""), "format": request.form.get("format", ""),
            "events": request.form.getlist("events")}
    try:
        place = _place(kind, code)
    except ActionRefused as error:
        return _refused_page(error)
    try:
        made = webhooks.add_webhook(acting_user(), place, form["url"], form["format"], form["events"])
    except ActionRefused as error:
        keep_session_unchanged()
        return _page(kind, code, place, error.status, error=error.message, form=form)
    return _page(kind, code, place, new=made)


def act(kind: str, code: str, verb, message, *args):
    """One change to a webhook, then back to the page (a refusal is a page saying why, with its status)."""
    try:
        place = _place(kind, code)
        verb(acting_user(), place, *args)
    except ActionRefused as error:
        return _refused_page(error)
    flash(str(message), "info")
    return redirect(_here(kind, code), code=303)


def _routes(kind: str, prefix: str) -> None:
    """The same five routes for a meeting and for a series."""
    def code_of(values: dict) -> str:
        return values["series_code" if kind == SERIES else "code"]

    bp.add_url_rule(f"{prefix}/webhooks", f"{kind}_hooks", lambda **v: show(kind, code_of(v)), methods=["GET"])
    bp.add_url_rule(f"{prefix}/webhooks", f"{kind}_add", lambda **v: add(kind, code_of(v)), methods=["POST"])
    bp.add_url_rule(f"{prefix}/webhooks/<hook>/delete", f"{kind}_delete", methods=["POST"], view_func=lambda hook, **v: act(
        kind, code_of(v), webhooks.delete_webhook, lazy_gettext("The webhook is deleted."), hook))
    bp.add_url_rule(f"{prefix}/webhooks/<hook>/<any(on, off):state>", f"{kind}_toggle", methods=["POST"],
                    view_func=lambda hook, state, **v: act(
                        kind, code_of(v), webhooks.set_enabled,
                        lazy_gettext("The webhook is on.") if state == "on" else lazy_gettext("The webhook is off."),
                        hook, state == "on"))
    bp.add_url_rule(f"{prefix}/webhooks/<hook>/deliveries/<delivery>/resend", f"{kind}_resend", methods=["POST"],
                    view_func=lambda hook, delivery, **v: act(
                        kind, code_of(v), webhooks.resend, lazy_gettext("The delivery is queued to be sent again."),
                        hook, delivery))


_routes(MEETING, "/m/<meeting_code:code>")
_routes(SERIES, "/s/<meeting_code:series_code>")
