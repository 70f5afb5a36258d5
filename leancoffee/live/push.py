"""A rendered change: groups of fragments, each group giving every viewer at most one variant."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from leancoffee.i18n import DEFAULT_LANGUAGE, rendering_in
from leancoffee.live.wire import text_frame
from leancoffee.services.viewing import Viewer

EVERYONE = "*"
FACILITATOR = "fac"
# The projected room screen: it has regions of its own and gets only fragments meant for it.
ROOM = "room"
# Push's key for the frame of a member's board that no variant names alone.
PLAIN = "plain"

_ROOT_TAG_END = re.compile(r"^\s*<[a-zA-Z][^>]*?(?=/?>)")


class Frame(str):
    """A message's text that also carries its WebSocket frame, so every socket that gets it shares one encoding."""

    @cached_property
    def wire(self) -> bytes:
        return text_frame(self)


def user_audience(user_id: int) -> str:
    """The audience made of one user's connections."""
    return f"u:{user_id}"


def mark_oob(html: str, how: str = "true") -> str:
    """Mark a partial's root element as an out-of-band swap (the only place that does)."""
    match = _ROOT_TAG_END.match(html)
    if match is None:
        raise ValueError("a fragment must start with its root element")
    end = match.end()
    return f'{html[:end]} hx-swap-oob="{how}"{html[end:]}'


def audiences_of(viewer: Viewer) -> tuple[str, ...]:
    """Every audience a viewer belongs to."""
    if viewer.screen == ROOM:
        return (ROOM,)
    own = (EVERYONE, user_audience(viewer.user_id))
    return (*own, FACILITATOR) if viewer.is_facilitator else own


@dataclass
class Push:
    """Fragments for one meeting at one version, encoded once per distinct audience mix."""

    meeting_id: int
    version: int | None
    # Each group: ordered (audience, html) variants; a viewer gets the first that matches.
    groups: list[list[tuple[str, str]]] = field(default_factory=list)
    # For changes that alter a viewer's whole board: rendered once per distinct viewer.
    per_viewer: Callable[[Viewer], str] | None = None
    # False when another worker rendered these fragments and sent them along with the change.
    rendered_here: bool = True
    # The language its fragments are written in (the screens reading another one get another Push: live/languages.py).
    language: str = DEFAULT_LANGUAGE
    _frames: dict = field(default_factory=dict, repr=False)
    # Frames by audience mix, so the thousandth viewer of a meeting costs one dict lookup.
    _by_mix: dict = field(default_factory=dict, repr=False)
    _named: set | None = field(default=None, repr=False)

    def add(self, *variants: tuple[str, str]) -> None:
        """Add one group of variants (first match wins)."""
        if variants:
            self.groups.append(list(variants))
            self._named = None
            self._by_mix.clear()

    def _mix(self, viewer: Viewer) -> tuple | str:
        """What decides a viewer's frame: room screen or not, facilitator or not, and who they are
        only when some variant is meant for them alone; PLAIN for the rest (most screens of most changes),
        without building a key."""
        named = viewer.user_id in self._named_users()
        if not (named or viewer.is_facilitator or viewer.screen == ROOM):
            return PLAIN
        return (viewer.screen == ROOM, viewer.is_facilitator, viewer.user_id if named else None)

    def _named_users(self) -> set:
        """Users some variant is meant for alone."""
        if self._named is None:
            self._named = {int(aud[2:]) for group in self.groups for aud, _ in group if aud.startswith("u:")}
        return self._named

    def choice_key(self, viewer: Viewer) -> tuple:
        """Which variant of each group this viewer gets: equal keys mean equal frames."""
        mine = audiences_of(viewer)
        return tuple(next((i for i, (aud, _) in enumerate(group) if aud in mine), -1) for group in self.groups)

    def portable(self) -> dict | None:
        """The rendered groups, and the board version they show, as plain data another worker can write
        as they are (without the room screen's variant unless it was rendered here); None when the
        frames differ per viewer."""
        if self.per_viewer is not None:
            return None
        groups = []
        for group in self.groups:
            if any(callable(html) for _, html in group):
                if all(audience == ROOM for audience, _ in group):
                    continue  # a receiver with a room screen renders the change itself (Hub.shipped)
                return None
            groups.append([[audience, html] for audience, html in group])
        return {"version": self.version, "language": self.language, "groups": groups}

    @classmethod
    def from_portable(cls, meeting_id: int, data: dict) -> "Push":
        """The Push another worker sent as portable() data, to be written as it is."""
        push = cls(meeting_id=meeting_id, version=data["version"], rendered_here=False,
                   language=data.get("language", DEFAULT_LANGUAGE))
        for group in data["groups"]:
            push.add(*(tuple(variant) for variant in group))
        return push

    @staticmethod
    def _variant(group: list, index: int) -> str:
        """A variant's html, rendering it on first use when it was given as a function."""
        audience, html = group[index]
        if callable(html):
            html = html()
            group[index] = (audience, html)
        return html

    def frame_for(self, viewer: Viewer) -> Frame:
        """The message for a viewer, built (and later encoded) once per distinct choice key."""
        per_viewer = self.per_viewer is not None and viewer.screen != ROOM
        mix = viewer if per_viewer else self._mix(viewer)
        frame = self._by_mix.get(mix)
        if frame is not None:
            return frame
        key = viewer if per_viewer else self.choice_key(viewer)
        frame = self._frames.get(key)
        if frame is None:
            with rendering_in(self.language):  # what is rendered only now (a whole board, the room screen's) too
                if per_viewer:
                    frame = self.per_viewer(viewer)
                else:
                    frame = "".join(self._variant(group, i) for group, i in zip(self.groups, key, strict=True) if i >= 0)
            frame = self._frames[key] = Frame(frame)
        self._by_mix[mix] = frame
        return frame


class Deferred:
    """A change's Push rendered on first use: with none of the meeting's screens on this worker, often nothing asks.

    What may ask: the actor's answer when their page has no live socket (the backplane ships a vote's
    fragments only if it was rendered already). Rendering runs after the change was saved, so a failure is told
    (`on_failure`: logged and counted) and answers None: the actor's page reloads, other workers render
    the change themselves.
    """

    __slots__ = ("meeting_id", "_render", "_push", "_on_failure", "_failed")

    def __init__(self, meeting_id: int, render: Callable[[], Push], on_failure: Callable[[Exception], None] | None = None):
        self.meeting_id = meeting_id
        self._render = render
        self._on_failure = on_failure
        self._push: Push | None = None
        self._failed = False

    @property
    def asked(self) -> bool:
        """Whether something has rendered it already (the backplane ships fragments then, never renders just to ship)."""
        return self._push is not None

    def rendered(self) -> Push | None:
        if self._push is None and not self._failed:
            try:
                self._push = self._render()
            except Exception as error:  # told to on_failure, which logs and counts it (without one: raised)
                if self._on_failure is None:
                    raise
                self._failed = True
                self._on_failure(error)
        return self._push

    def frame_for(self, viewer: Viewer) -> Frame | None:
        push = self.rendered()
        return push.frame_for(viewer) if push is not None else None

    def portable(self) -> dict | None:
        push = self.rendered()
        return push.portable() if push is not None else None
