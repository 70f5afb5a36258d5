"""Every POST: parse the form, call one service, publish the change it returns, answer (fragments or a redirect)."""

from functools import partial

from flask import Blueprint, flash, g, redirect, render_template, request, session
from flask_babel import gettext
from flask_login import login_user, logout_user

from leancoffee.live import live
from leancoffee.live.push import mark_oob
from leancoffee.models import COMPLETED, DONE
from leancoffee.services import (
    accounts,
    changes,
    confirmations,
    facilitation,
    meetings,
    merging,
    progress,
    roles,
    room,
    series,
    topics,
    votes,
)
from leancoffee.services.access import find_meeting
from leancoffee.services.changes import Change
from leancoffee.services.errors import ActionRefused, Forbidden
from leancoffee.web.pages import acting_user
from leancoffee.web.responses import answer, ask, board_url, refused, summary_url
from leancoffee.web.routing import path_for
from leancoffee.web.security import csrf_token, rotate_csrf_token

bp = Blueprint("actions", __name__)


def _sign_in(user) -> None:
    """Sign a new identity in on this browser with a long-lived cookie, under a new CSRF token."""
    login_user(user, remember=True)
    rotate_csrf_token()


def _user_or_new(name):
    """The logged-in user, or a new one (signed in on this browser) named `name`."""
    user = acting_user()
    if user is None:
        user = meetings.create_user(name)
        _sign_in(user)
    return user


def perform(code, action, *args, anchor=None, confirm=None, then=None):
    """Every action's one path: the form parsed by its view → the service (one transaction) → publish → answer.

    A refusal changes nothing and publishes nothing. An action named by `confirm` ("delete", "merge",
    "finish", "leave") runs only with `confirmed=1`; without it, once a trial run shows it would be
    allowed, the answer asks (the dialog of static/confirm.js sends confirmed=1; without JavaScript it is
    a page). `then` is where the actor goes after it (the summary, after Finish).
    """
    user = acting_user()
    try:
        if user is None:
            raise Forbidden(gettext("Join this meeting first: only its participants can do that."))
        if confirm and request.form.get("confirmed") != "1":
            confirmations.check(action, user, code, *args)
            form = {**request.view_args, **request.form.to_dict()}
            return ask(code, confirmations.question(confirm, code, form, user))
        change = action(user, code, *args)
    except ActionRefused as error:
        return refused(code, error)
    g.meeting_id = change.meeting_id  # for the request's log line
    push = live.publish(change)
    for elsewhere in change.also:  # the same note, listed by other meetings of its series
        live.publish(elsewhere)
    return answer(code, push, user, anchor=anchor(change) if anchor else None, meeting=change.meeting,
                  choice=change.choice, then=then)


@bp.post("/meetings")
def create_meeting():
    """Start a meeting; its creator facilitates it and lands on its board."""
    form = request.form
    user = acting_user()
    try:
        # A newcomer's identity is made with the meeting, so a refused start leaves neither behind.
        meeting = meetings.create_meeting(
            user, form.get("title"), form.get("votes_per_person"), form.get("name"),
            hidden_voting=form.get("hidden_voting") == "1", timebox_pattern=form.get("timebox_pattern"),
        )
    except ActionRefused as error:
        return refused(None, error)
    if user is None:
        _sign_in(meeting.facilitator)
    return redirect(board_url(meeting.code), code=303)


@bp.post("/m/<meeting_code:code>/join")
def join(code):
    """Join (or rejoin) a meeting with a display name."""
    try:
        # Refused before a new identity is made for it: a completed meeting is not joined.
        meetings.require_joinable(find_meeting(code), acting_user())
        user = _user_or_new(request.form.get("name"))
        change = meetings.join_meeting(user, code, request.form.get("name"))
    except ActionRefused as error:
        return refused(code, error)
    g.meeting_id = change.meeting_id  # for the request's log line
    return answer(code, live.publish(change), user)


@bp.post("/m/<meeting_code:code>/leave")
def leave(code):
    """Leave a meeting (rejoin later as the same participant)."""
    return perform(code, meetings.leave_meeting, confirm="leave")


@bp.post("/m/<meeting_code:code>/status")
def change_status(code):
    """Facilitator: Planned, In progress, Completed (which asks first, then shows the summary)."""
    status = request.form.get("status")
    finish = status == COMPLETED
    return perform(code, partial(meetings.change_meeting_status, expected=_expected()), status,
                    confirm="finish" if finish else None, then=summary_url(code) if finish else None)


def _expected() -> str:
    """The state a facilitator's form names; missing, it matches nothing (a page always sends it)."""
    return request.form.get("expected", "")


@bp.post("/m/<meeting_code:code>/topics")
def add_topic(code):
    """Propose a topic."""
    form = request.form
    return perform(code, topics.add_topic, form.get("title"), form.get("description"), anchor=lambda c: f"topic-{c.topic_id}")


@bp.post("/m/<meeting_code:code>/topics/<int:topic_id>/edit")
def edit_topic(code, topic_id):
    """Author or facilitator: change a topic's text."""
    form = request.form
    title, description = form.get("title"), form.get("description")
    return perform(code, topics.edit_topic, topic_id, title, description, anchor=lambda c: f"topic-{topic_id}")


@bp.post("/m/<meeting_code:code>/topics/<int:topic_id>/delete")
def delete_topic(code, topic_id):
    """Author or facilitator: delete a topic."""
    return perform(code, topics.delete_topic, topic_id, confirm="delete")


@bp.post("/m/<meeting_code:code>/topics/<int:topic_id>/move")
def move_topic(code, topic_id):
    """Facilitator: move a topic to another column."""
    move = partial(topics.move_topic, expected=_expected())
    return perform(code, move, topic_id, request.form.get("status"), anchor=lambda c: f"topic-{topic_id}")


@bp.post("/m/<meeting_code:code>/topics/<int:topic_id>/vote")
def vote(code, topic_id):
    """Spend a dot on a topic."""
    return perform(code, votes.cast_vote, topic_id, anchor=lambda c: f"topic-{topic_id}")


@bp.post("/m/<meeting_code:code>/topics/<int:topic_id>/unvote")
def unvote(code, topic_id):
    """Take a dot back."""
    return perform(code, votes.remove_vote, topic_id, anchor=lambda c: f"topic-{topic_id}")


@bp.post("/m/<meeting_code:code>/phase")
def change_phase(code):
    """Facilitator: one phase forward or back (Done asks first, then shows the summary)."""
    phase = request.form.get("phase")
    finish = phase == DONE
    return perform(code, partial(facilitation.change_phase, expected=_expected()), phase,
                    confirm="finish" if finish else None, then=summary_url(code) if finish else None)


@bp.post("/m/<meeting_code:code>/settings")
def update_settings(code):
    """Facilitator: the meeting's settings (hidden voting, timeboxes, planned length, authors, private writing)."""
    form = request.form
    return perform(code, facilitation.update_settings, form.get("hidden_voting") == "1", form.get("timebox_pattern"),
                    _checkbox("show_authors"), _checkbox("private_writing"), form.get("collecting_timebox"),
                    form.get("voting_timebox"), form.get("planned_minutes"))


def _checkbox(name: str) -> bool | None:
    """A checkbox sent with a hidden "0" before it: on, off, or None when the form does not have it at all."""
    values = request.form.getlist(name)
    return ("1" in values) if values else None


@bp.post("/m/<meeting_code:code>/reveal")
def reveal_topics(code):
    """Facilitator: show everyone the topics written privately, all at once."""
    return perform(code, topics.reveal_topics)


@bp.post("/m/<meeting_code:code>/role")
def set_role(code):
    """Facilitator: make someone a co-facilitator (role=facilitator), or take it back (role=participant)."""
    form = request.form
    back = path_for("pages.people", code=code) if form.get("back") == "people" else None  # pressed on the people page
    return perform(code, roles.set_role, form.get("person"), form.get("role"), anchor=lambda c: "facilitators", then=back)


@bp.post("/m/<meeting_code:code>/discuss-next")
def discuss_next(code):
    """Facilitator: the top-voted topic (or the chosen one of a tie) is discussed next, under a fresh timebox."""
    return perform(code, partial(facilitation.discuss_next, expected=_expected()), request.form.get("topic"))


@bp.post("/m/<meeting_code:code>/timer")
def control_timer(code):
    """Facilitator: start, pause, resume, extend or stop the timer."""
    return perform(code, partial(facilitation.control_timer, expected=_expected()), request.form.get("action"))


@bp.post("/m/<meeting_code:code>/done-voting")
def done_voting(code):
    """Say "I'm done voting" (done=1), or take it back (done=0)."""
    return perform(code, progress.set_done_voting, request.form.get("done"))


@bp.post("/m/<meeting_code:code>/thumbs")
def cast_thumb(code):
    """Thumbs up, neutral or down when time is up."""
    return perform(code, facilitation.cast_thumb, request.form.get("choice"))


@bp.post("/m/<meeting_code:code>/decide")
def decide_round(code):
    """Facilitator: continue, or move on (to the next top topic)."""
    return perform(code, partial(facilitation.decide_round, expected=_expected()), request.form.get("outcome"))


@bp.post("/m/<meeting_code:code>/merge")
def merge_topics(code):
    """Facilitator: merge a duplicate topic into another."""
    form = request.form
    return perform(code, merging.merge_topics, form.get("source"), form.get("target"), confirm="merge")


@bp.post("/m/<meeting_code:code>/run-again")
def run_again(code):
    """Facilitator of a finished meeting: start the next meeting of its series, and go to its board."""
    user = acting_user()
    try:
        if user is None:
            raise Forbidden(gettext("Join this meeting first: only its participants can do that."))
        change, following = series.run_again(user, code)
    except ActionRefused as error:
        return refused(code, error)
    g.meeting_id = change.meeting_id  # for the request's log line
    live.publish(change)
    return answer(code, None, user, then=board_url(following.code))


@bp.post("/m/<meeting_code:code>/room-link")
def renew_room_link(code):
    """Facilitator: a new room screen link; screens opened with the old one close at once."""
    answered = perform(code, room.renew_room_link, anchor=lambda c: "share")
    if isinstance(answered, str):  # htmx, renewed: this page shows the new link at once (other facilitators' get it pushed)
        answered += mark_oob(render_template("_share.html", meeting=find_meeting(code), facilitating=True,
                                             csrf_token=csrf_token()))
    return answered


@bp.post("/logout")
def logout():
    """Sign this person out on every device: every earlier cookie stops working and their open boards close.

    With `revoke_tokens` ticked, their API tokens stop working too.
    """
    user = acting_user()
    revoke_tokens = request.form.get("revoke_tokens") == "1"
    session.clear()
    logout_user()  # after clear(): it leaves the word that deletes the remember cookie in the session
    rotate_csrf_token()
    if user is not None:
        for meeting_id in accounts.sign_out_everywhere(user, revoke_tokens=revoke_tokens):
            live.publish(Change(changes.SIGNED_OUT, meeting_id, None, actor_id=user.id))
        flash(gettext("You are signed out on all your devices, and your API tokens are revoked.") if revoke_tokens
              else gettext("You are signed out on all your devices."), "info")
    return redirect(path_for("pages.home"), code=303)
