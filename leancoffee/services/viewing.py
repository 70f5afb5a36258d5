"""Who looks at a board and how a topic shows to them: the author of an anonymous topic reads "yours", nobody else a name."""

from dataclasses import dataclass, field

from flask_babel import gettext

from leancoffee.models import Meeting, Participant


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at the board: decides vote state, remaining dots and which controls show."""

    user_id: int | None
    is_facilitator: bool = False
    is_member: bool = False
    # "board" (a person's own page) or "room" (the projected, read-only screen).
    screen: str = "board"
    # The room link's secret a room screen was opened with (None: a member's page), so renewing it closes that screen.
    room_secret: str | None = None
    # The language the screen reads (its request's: leancoffee/i18n.py); pushed fragments are rendered in it.
    language: str = "en"


@dataclass
class TopicView:
    """A topic with its vote count and author's display name (empty when it was written anonymously)."""

    id: int
    title: str
    description: str
    status: str
    author_id: int
    author_name: str
    votes: int
    created_at: object
    moved_at: object
    discussed_seconds: int = 0
    discussion_started_at: object = None
    merged_from: list = field(default_factory=list)
    anonymous: bool = False
    # Written privately and not revealed yet: only its author may see anything of it.
    unrevealed: bool = False

    def byline(self, viewer: Viewer | None) -> str:
        """Who proposed it, as this viewer may know: a name, or "you" (anonymous) for its author alone."""
        mine = viewer is not None and viewer.user_id is not None and viewer.user_id == self.author_id
        if self.anonymous:
            return gettext("yours · anonymous to others") if mine else gettext("anonymous")
        return gettext("by %(name)s", name=self.author_name)

    def shown_to(self, viewer: Viewer | None) -> bool:
        """Whether this viewer may see the topic at all (an unrevealed one is its author's alone)."""
        return not self.unrevealed or (viewer is not None and viewer.user_id is not None and viewer.user_id == self.author_id)


def viewer_for(meeting: Meeting, participant: Participant | None, screen: str = "board", language: str = "en") -> Viewer:
    """The Viewer for a participant row (None: someone who has not joined), reading the given language."""
    if participant is None:
        return Viewer(user_id=None, screen=screen, language=language)
    return Viewer(
        user_id=participant.user_id,
        is_facilitator=participant.facilitates,
        is_member=participant.is_active,
        screen=screen,
        language=language,
    )
