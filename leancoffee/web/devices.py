"""Use on another device: a one-time link (and its QR code) that signs another browser in as the same person."""

import segno
from flask import Blueprint, flash, redirect, render_template
from flask_babel import gettext
from flask_login import login_user

from leancoffee.services import accounts
from leancoffee.services.errors import ActionRefused
from leancoffee.web.pages import acting_user, page
from leancoffee.web.routing import path_for, public_url
from leancoffee.web.security import rotate_csrf_token

bp = Blueprint("devices", __name__)


@bp.get("/device")
def device():
    """Where a signed-in person makes a link for another device."""
    return page("device.html", user=acting_user(), link=None, minutes=accounts.LINK_MINUTES)


@bp.post("/device")
def make_link():
    """A new one-time link, shown once with its QR code (only its hash is kept)."""
    user = acting_user()
    if user is None:
        return page("device.html", 403, user=None, link=None, minutes=accounts.LINK_MINUTES)
    link = public_url(path_for("devices.confirm_link", token=accounts.create_device_link(user)))
    qr = segno.make(link, error="m").svg_inline(scale=5, border=2, dark="#111", light="#fff", title=gettext("Sign-in link"),
                                                 omitsize=True)
    return page("device.html", user=user, link=link, qr_svg=qr, minutes=accounts.LINK_MINUTES)


@bp.get("/d/<token>")
def confirm_link(token):
    """The link opened: it asks before it signs in, so a link preview or scanner that only reads it spends nothing."""
    return page("device_signin.html", user=acting_user(), token=token)


@bp.post("/d/<token>")
def use_link(token):
    """Sign this browser in as the link's person; the link is spent."""
    try:
        user = accounts.use_device_link(token)
    except ActionRefused as error:
        return render_template("not_found.html", message=error.message, heading=gettext("Link not valid"),
                               csrf_token=""), error.status
    login_user(user, remember=True)
    rotate_csrf_token()
    flash(gettext("This device is now signed in as %(name)s, with your meetings.", name=user.name), "info")
    return redirect(path_for("pages.home"), code=303)
