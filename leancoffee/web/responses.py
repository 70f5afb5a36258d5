"""How an action answers: fragments for htmx, redirect-after-POST for plain forms."""

from functools import cache

from flask import current_app, jsonify, redirect, render_template, request
from flask_babel import gettext

from leancoffee.i18n import request_language
from leancoffee.live import live
from leancoffee.live.push import Push, mark_oob
from leancoffee.models import Meeting
from leancoffee.services.access import find_meeting, membership
from leancoffee.services.errors import ActionRefused, Unavailable
from leancoffee.services.viewing import viewer_for
from leancoffee.web.routing import path_for
from leancoffee.web.security import csrf_token, keep_session_unchanged

API_PREFIX = "/api/"


def is_api_request() -> bool:
    """Whether the request is for the JSON API, whose every answer (errors included) is JSON."""
    return request.path.startswith(API_PREFIX)


def api_error(status: int, message: str, headers: dict | None = None):
    """An API error: `{"error": {"status": ..., "message": ...}}` with that status."""
    return jsonify(error={"status": status, "message": message}), status, headers or {}


def is_htmx() -> bool:
    """Whether the request came from htmx (rather than a plain form)."""
    return request.headers.get("HX-Request") == "true"


def flash_fragment(message: str | None = None, category: str = "error") -> str:
    """The message area, with one message or cleared."""
    if not message:
        return _cleared_flash()
    return mark_oob(render_template("_flash.html", messages=[(category, message)]))


def _panel(code: str, panel: str, status: int, **context):
    """A question for the actor (a tie to settle, a confirmation): in the message area (htmx) or as a page of its own."""
    context.update(code=code, panel=panel, csrf_token=csrf_token())
    if is_htmx():
        return mark_oob(render_template("_flash.html", messages=[], **context)), status
    return render_template("decision.html", meeting_title=find_meeting(code).title, **context), status


def ask(code: str, question):
    """Ask before an action that cannot be undone: the same form again, with confirmed=1 and a way back. Nothing changed."""
    keep_session_unchanged()
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "confirmed")]
    return _panel(code, "_confirm.html", 200, question=question, action=request.path, fields=fields)


@cache
def _cleared_flash() -> str:
    """The message area with nothing in it: the same for every successful action, so rendered once."""
    return mark_oob(render_template("_flash.html", messages=[]))


def board_url(code: str, anchor: str | None = None) -> str:
    return path_for("pages.board", code=code) + (f"#{anchor}" if anchor else "")


def summary_url(code: str) -> str:
    return path_for("pages.summary", code=code)


def refused(code: str | None, error: ActionRefused):
    """A refusal: the message in place (htmx) or on a page of its own (plain form); the session stays as it was.

    Retryable refusals say when to retry.
    """
    keep_session_unchanged()
    retry_after = getattr(error, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    if is_api_request():
        return api_error(error.status, error.message, headers)
    choice = getattr(error, "choice", None)
    if choice is not None:
        body, status = _panel(code, "_tie_choice.html", error.status, choice=choice, message=error.message)
        return body, status, headers
    if is_htmx():
        return flash_fragment(error.message), error.status, headers
    back = board_url(code) if code else None
    page = render_template("not_found.html", message=error.message, heading=gettext("Not saved"), back=back)
    return page, error.status, headers


def unavailable(code: str | None):
    """The database is away: said without the request's context, whose user (Flask-Login's) would read it."""
    keep_session_unchanged()
    error = Unavailable()
    headers = {"Retry-After": str(error.retry_after)}
    if is_api_request():
        return api_error(error.status, error.message, headers)
    templates = current_app.jinja_env
    if is_htmx():
        return mark_oob(templates.get_template("_flash.html").render(messages=[("error", error.message)])), error.status, headers
    page = templates.get_template("unavailable.html").render(message=error.message, back=board_url(code) if code else None)
    return page, error.status, headers


def answer(code: str, push: Push | None, user, anchor: str | None = None, meeting: Meeting | None = None,
           choice=None, then: str | None = None):
    """Answer the actor of a change already published: a redirect (plain form) or the flash cleared (htmx).

    A tie the change left for the actor to settle (`choice`) is asked instead; `then` sends the actor
    elsewhere (303, or htmx 4's HX-Redirect).
    """
    if choice is not None and not is_htmx():
        return _panel(code, "_tie_choice.html", 200, choice=choice)
    if not is_htmx():
        return redirect(then or board_url(code, anchor), code=303)
    if then:
        return flash_fragment(), 200, {"HX-Redirect": then}
    if push is None:  # saved, but its fragments failed to render: the page reloads to show it
        return flash_fragment(), 200, {"HX-Refresh": "true"}
    body = _panel(code, "_tie_choice.html", 200, choice=choice)[0] if choice is not None else flash_fragment()
    # A page whose socket is live gets the change from the socket, in order with everyone
    # else's; one without (reconnecting) gets it in this response instead, and so does every page
    # while the change cannot reach the other workers (Redis away: the page may be on another one).
    if request.headers.get("X-Live-Socket") != "1" or not live.relayed():
        meeting = meeting or Meeting.get_by_id(push.meeting_id)  # the write's own read, where it kept it
        frame = push.frame_for(viewer_for(meeting, membership(meeting, user), language=request_language()))
        if frame is None:  # saved, but its fragments failed to render (logged and counted): the page reloads
            return body, 200, {"HX-Refresh": "true"}
        body += frame
    return body
