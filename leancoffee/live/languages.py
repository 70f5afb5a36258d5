"""A change rendered in each language its screens read: one Push per language, each encoded once per audience mix."""

from collections.abc import Callable

from leancoffee.i18n import DEFAULT_LANGUAGE, rendering_in
from leancoffee.live.push import Frame, Push
from leancoffee.services.viewing import Viewer


def in_language(language: str, make: Callable[[], Push]) -> Push:
    """A Push built, and later rendered on demand, in this language."""
    with rendering_in(language):
        push = make()
    push.language = language
    return push


class Localized:
    """One change for screens in several languages: each language's Push is built the first time one of its screens asks.

    A meeting whose screens all read one language builds one Push, as before languages existed; a second
    language costs one more rendering of the change, never one per socket.
    """

    __slots__ = ("meeting_id", "_build", "_pushes", "_first")

    def __init__(self, meeting_id: int, build: Callable[[str], Push]):
        self.meeting_id = meeting_id
        self._build = build
        self._pushes: dict[str, Push] = {}
        self._first: Push | None = None

    def push_in(self, language: str) -> Push:
        push = self._pushes.get(language)
        if push is None:
            push = self._pushes[language] = self._build(language)
            self._first = self._first or push
        return push

    def frame_for(self, viewer: Viewer) -> Frame:
        return self.push_in(viewer.language).frame_for(viewer)

    def _any(self) -> Push:
        """A language's Push: the first one built (all show the same read of the board), else the default's."""
        return self._first or self.push_in(DEFAULT_LANGUAGE)

    @property
    def version(self) -> int | None:
        return self._any().version

    @property
    def rendered_here(self) -> bool:
        return self._any().rendered_here

    def portable(self) -> dict | None:
        """The first language's fragments, for the other workers' screens that read it (the others render their own)."""
        return self._any().portable()
