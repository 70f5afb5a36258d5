"""The language switch: a link per language that remembers the choice in a cookie and goes back where it was."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, request

from leancoffee.i18n import COOKIE_MAX_AGE, LANGUAGE_COOKIE, LANGUAGES

bp = Blueprint("language", __name__)


@bp.get("/language/<language>")
def switch(language):
    """Read the interface in this language from now on (a cookie overriding Accept-Language), back on the same page."""
    if language not in LANGUAGES:
        abort(404)
    response = redirect(back_to(request.args.get("next")), code=303)
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax")
    return response


def back_to(target: str | None) -> str:
    """Where to go after switching: a path on this site, never another site (`//host`, `/\\host`, `https:`), else home."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return "/"
    return target
