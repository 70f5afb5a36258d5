"""The API tokens page: a person makes, names and revokes their read-only tokens (each shown once)."""

from flask import Blueprint, flash, redirect, request
from flask_babel import gettext, lazy_gettext

from leancoffee.services import tokens
from leancoffee.services.errors import ActionRefused, Forbidden
from leancoffee.web.pages import acting_user, page
from leancoffee.web.routing import path_for, public_url
from leancoffee.web.security import keep_session_unchanged

bp = Blueprint("settings", __name__)
NO_IDENTITY = lazy_gettext("You are not signed in on this browser: start or join a meeting first, then make tokens here.")


def tokens_page(status: int = 200, new_token: tokens.NewToken | None = None, error: str | None = None, name: str = ""):
    """The page: the person's working tokens, the form for a new one, and a token just made (its only showing)."""
    user = acting_user()
    return page("api_tokens.html", status, user=user, tokens=tokens.active_tokens(user) if user else [],
                new_token=new_token, error=error, name=name, max_tokens=tokens.MAX_ACTIVE_TOKENS,
                api_base=public_url(path_for("api.meetings")), openapi_url=public_url(path_for("api.openapi")))


@bp.get("/settings/tokens")
def api_tokens():
    """The person's API tokens."""
    return tokens_page()


@bp.post("/settings/tokens")
def create_token():
    """Make a token and show it this once (the page is not redirected: the secret is kept nowhere to show again)."""
    user = acting_user()
    try:
        if user is None:
            raise Forbidden(NO_IDENTITY)
        made = tokens.create_token(user, request.form.get("name"))
    except ActionRefused as error:
        keep_session_unchanged()
        return tokens_page(error.status, error=error.message, name=request.form.get("name", ""))
    return tokens_page(new_token=made)


@bp.post("/settings/tokens/<token_id>/revoke")
def revoke_token(token_id):
    """Revoke one of the person's tokens: scripts using it get 401 from the next call on."""
    user = acting_user()
    try:
        if user is None:
            raise Forbidden(NO_IDENTITY)
        token = tokens.revoke_token(user, token_id)
    except ActionRefused as error:
        keep_session_unchanged()
        return tokens_page(error.status, error=error.message)
    flash(gettext("Token “%(name)s” is revoked: it no longer works.", name=token.name), "info")
    return redirect(path_for("settings.api_tokens"), code=303)
