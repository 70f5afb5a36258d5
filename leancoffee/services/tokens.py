"""Personal API tokens: made, listed and revoked by their owner; only a hash of each is ever stored."""

import hashlib
import secrets
from dataclasses import dataclass

from flask_babel import gettext

from leancoffee.db import db
from leancoffee.models import TOKEN_NAME_MAX, ApiToken, User, utcnow
from leancoffee.services.errors import Conflict, NotFound
from leancoffee.services.validation import clean_text, row_id

# Every token starts with this, so a secret scanner (or a person) recognises one pasted by mistake.
TOKEN_PREFIX = "lct_"
TOKEN_BYTES = 32
MAX_ACTIVE_TOKENS = 20
# A token we made is 47 characters; anything far longer is refused before it is hashed.
MAX_TOKEN_LENGTH = 100


@dataclass(frozen=True)
class NewToken:
    """A token just made: `secret` is shown to its owner once and kept nowhere."""

    token: ApiToken
    secret: str


def token_hash(secret: str) -> str:
    """What the database keeps of a token: its SHA-256, in hex (a 256-bit random secret needs no slow hash)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(user: User, name) -> NewToken:
    """A new read-only token for `user`, named by them; the secret is returned once."""
    name = clean_text(name, gettext("Token name"), TOKEN_NAME_MAX)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    with db.atomic():
        # Locks nothing on PostgreSQL: two tokens made at once by one person may pass the limit by one, harmlessly.
        if _active(user).count() >= MAX_ACTIVE_TOKENS:
            raise Conflict(gettext("You already have %(most)s tokens: revoke one you no longer use first.",
                                   most=MAX_ACTIVE_TOKENS))
        token = ApiToken.create(user=user.id, name=name, token_hash=token_hash(secret))
    return NewToken(token, secret)


def active_tokens(user: User) -> list[ApiToken]:
    """The person's tokens that still work, newest first."""
    return list(_active(user).order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))


def revoke_token(user: User, token_id) -> ApiToken:
    """Stop one of the person's own tokens from working (another person's is not found)."""
    token_id = row_id(token_id)
    with db.atomic():
        token = _active(user).where(ApiToken.id == token_id).first() if token_id else None
        if token is None:
            raise NotFound(gettext("That token does not exist or was already revoked."))
        ApiToken.update(revoked_at=utcnow()).where(ApiToken.id == token.id).execute()
    return token


def revoke_all(user: User) -> int:
    """Revoke every token of the person (inside the caller's transaction, if any); returns how many."""
    return ApiToken.update(revoked_at=utcnow()).where((ApiToken.user == user.id) & ApiToken.revoked_at.is_null()).execute()


def authenticate(secret: str) -> tuple[User, ApiToken] | None:
    """The person and token a presented secret belongs to, unless it is unknown or revoked."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN_LENGTH:
        return None
    token = (ApiToken.select(ApiToken, User).join(User)
             .where((ApiToken.token_hash == token_hash(secret)) & ApiToken.revoked_at.is_null()).first())
    return (token.user, token) if token is not None else None


def _active(user: User):
    return ApiToken.select().where((ApiToken.user == user.id) & ApiToken.revoked_at.is_null())
