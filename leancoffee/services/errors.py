"""Typed refusals: each carries the message a person sees and the HTTP status it maps to."""


class ActionRefused(Exception):
    """A request that breaks a rule; nothing was changed."""

    status = 400

    def __init__(self, message: str):
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
