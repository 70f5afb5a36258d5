"""Live updates: the hub of this worker's sockets and the publishing of committed changes."""

from leancoffee.live.hub import Hub
from leancoffee.live.push import Push
from leancoffee.services.changes import Change


class Live:
    """The app's entry point to live updates (kept in app.extensions['live'])."""

    def __init__(self, app=None):
        self.hub: Hub | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app) -> None:
        self.hub = Hub(app)
        app.extensions["live"] = self

    def publish(self, change: Change) -> Push:
        """Send a committed change to every open page of its meeting; returns what was rendered."""
        return self.hub.dispatch(change)


live = Live()
