"""A person's sign-in across devices: one-time links that sign another browser in, and signing out everywhere."""

import secrets
from datetime import timedelta

from flask_babel import lazy_gettext

from leancoffee.db import db
from leancoffee.models import DeviceLink, Participant, User, utcnow
from leancoffee.services import tokens
from leancoffee.services.errors import NotFound

LINK_MINUTES = 10
SPENT = lazy_gettext("This sign-in link has expired or was already used: make a new one on your other device.")


def create_device_link(user: User) -> str:
    """A new link's secret (256 random bits) that signs another browser in as this user once, within LINK_MINUTES."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with db.atomic():
        DeviceLink.create(user=user.id, token_hash=tokens.token_hash(token), created_at=now,
                          expires_at=now + timedelta(minutes=LINK_MINUTES))
    return token


def use_device_link(token) -> User:
    """The user a link signs in, spending it: one UPDATE decides, so two browsers racing for it get it once."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise NotFound(SPENT)
    now = utcnow()
    with db.atomic():
        spent = (DeviceLink.update(used_at=now)
                 .where((DeviceLink.token_hash == tokens.token_hash(token)) & DeviceLink.used_at.is_null()
                        & (DeviceLink.expires_at > now))
                 .returning(DeviceLink.user).execute())
        rows = list(spent)
        if not rows:
            raise NotFound(SPENT)
        return User.get_by_id(rows[0].user_id)


def sign_out_everywhere(user: User, revoke_tokens: bool = False) -> list[int]:
    """End this person's sessions on every device (their login cookies stop working), and their API tokens if asked.

    Returns their meetings' ids.
    """
    with db.atomic():
        User.update(session_generation=User.session_generation + 1).where(User.id == user.id).execute()
        # Links made before signing out must not sign anyone back in.
        DeviceLink.delete().where((DeviceLink.user == user.id) & DeviceLink.used_at.is_null()).execute()
        if revoke_tokens:
            tokens.revoke_all(user)
        return [p.meeting_id for p in Participant.select(Participant.meeting).where(Participant.user == user.id)]
