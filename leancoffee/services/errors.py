"""Typed refusals: each carries the message a person sees and the HTTP status it maps to."""

from flask_babel import gettext


class ActionRefused(Exception):
    """A request that breaks a rule; nothing was changed."""

    status = 400

    def __init__(self, message: str):
        message = str(message)  # a lazy text is read now, in the language of the request that was refused
        super().__init__(message)
        self.message = message


class NotFound(ActionRefused):
    """The meeting or topic does not exist (or not in this meeting)."""

    status = 404


class Forbidden(ActionRefused):
    """The acting user may not do this here."""

    status = 403


class Invalid(ActionRefused):
    """The submitted text or number breaks a limit."""

    status = 422


class Conflict(ActionRefused):
    """The action clashes with the current state (already voted, no dots left, meeting closed)."""

    status = 409


class TooLarge(ActionRefused):
    """The request body is over the limit; it was not even read."""

    status = 413

    def __init__(self):
        super().__init__(gettext("That was too much to send at once (the limit is 64 KB): nothing was changed."))


class TooManyRequests(ActionRefused):
    """The user sends writes faster than a person would; nothing was changed."""

    status = 429

    def __init__(self, retry_after: int):
        super().__init__(gettext("You are going a bit fast: nothing was changed. Try again in %(seconds)s s.",
                                 seconds=retry_after))
        self.retry_after = retry_after


class Unavailable(ActionRefused):
    """The database cannot be reached or is not set up; nothing was changed, and the operator is told (logs, metrics)."""

    status = 503
    retry_after = 5

    def __init__(self):
        super().__init__(gettext("The board's database is unavailable right now, so nothing was changed. "
                                 "Please try again in a minute."))


class Busy(ActionRefused):
    """The database could not take the write in time; nothing was changed and a retry will work."""

    status = 503
    retry_after = 1

    def __init__(self):
        super().__init__(gettext("The board is busy right now, so nothing was changed. Please try again in a moment."))
