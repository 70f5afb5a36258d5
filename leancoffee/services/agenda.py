"""What is discussed next: the top of To Discuss, and the tie only the facilitator may settle."""

from dataclasses import dataclass

from flask_babel import gettext, ngettext
from peewee import JOIN, fn

from leancoffee.models import TO_DISCUSS, Meeting, Topic, Vote
from leancoffee.services.errors import Conflict, Invalid


@dataclass(frozen=True)
class TieChoice:
    """Topics tied at the top of To Discuss; `expected` is the state the facilitator's choice forms name."""

    topics: tuple[tuple[int, str], ...]
    votes: int
    expected: str

    @property
    def sentence(self) -> str:
        """“A” and “B” are tied with 2 votes each."""
        quoted = [gettext("“%(title)s”", title=title) for _, title in self.topics]
        names = gettext("%(first)s and %(last)s", first=", ".join(quoted[:-1]), last=quoted[-1])
        return ngettext("%(names)s are tied with %(num)d vote each.", "%(names)s are tied with %(num)d votes each.",
                        self.votes, names=names)


class Tied(Conflict):
    """A tie at the top and no topic (or a topic no longer at the top) chosen: nothing was changed, the choice goes back."""

    def __init__(self, choice: TieChoice):
        super().__init__(gettext("%(sentence)s Choose which one to discuss first: nothing was changed.",
                                 sentence=choice.sentence))
        self.choice = choice


def top_topics(meeting: Meeting) -> list[Topic]:
    """The To Discuss topics sharing the most votes, oldest first (empty when the column is)."""
    rows = list(
        Topic.select(Topic, fn.COUNT(Vote.id).alias("vote_count"))
        .join(Vote, JOIN.LEFT_OUTER, on=(Vote.topic == Topic.id))
        .where((Topic.meeting == meeting.id) & (Topic.status == TO_DISCUSS) & ~Topic.unrevealed)
        .group_by(Topic.id)
        .order_by(fn.COUNT(Vote.id).desc(), Topic.created_at, Topic.id)
    )
    return [t for t in rows if t.vote_count == rows[0].vote_count]


def _chosen_id(chosen) -> int:
    try:
        return int(chosen)
    except (TypeError, ValueError):
        raise Invalid(gettext("Choose one of the tied topics.")) from None


def next_topic(meeting: Meeting, chosen, expected: str) -> Topic | TieChoice | None:
    """The topic to discuss next: the top one, or the chosen one of those tied at the top.

    A tie with nothing chosen gives the TieChoice (never the oldest silently); a choice that is not at
    the top any more (votes changed since the choice was shown) is refused with the choice as it is now.
    """
    top = top_topics(meeting)
    if not top:
        return None
    choice = TieChoice(tuple((t.id, t.title) for t in top), top[0].vote_count, expected)
    if chosen in (None, ""):
        return top[0] if len(top) == 1 else choice
    match = next((t for t in top if t.id == _chosen_id(chosen)), None)
    if match is not None:
        return match
    if len(top) > 1:
        raise Tied(choice)
    raise Conflict(gettext("That topic is not at the top of To Discuss now: “%(title)s” is. Nothing was changed: "
                           "check the board and try again.", title=top[0].title))
