"""Private writing and anonymous topics: what reaches an author alone, and what everyone may learn (how many write)."""

from leancoffee.live.push import EVERYONE, FACILITATOR, Push, user_audience
from leancoffee.live.render import facilitator_view, member_view, oob
from leancoffee.models import TO_DISCUSS
from leancoffee.services.board import BoardState
from leancoffee.services.changes import Change
from leancoffee.services.viewing import TopicView, Viewer

# A member who is nobody in particular: what everyone's variant is rendered for.
ANY_MEMBER = Viewer(user_id=None, is_member=True)


def _writers(state: BoardState, status: str, render) -> list[tuple[str, str]]:
    """Each person writing privately gets To Discuss with their own unrevealed cards in it; nobody else ever does."""
    if status != TO_DISCUSS:
        return []
    return [(user_audience(uid), render(member_view(state, uid))) for uid in sorted(state.writers)]


def column_list_variants(state: BoardState, status: str, new_topic_id=None) -> list[tuple[str, str]]:
    """One column's list; a new card is sent whole, and differs for its author, the facilitators and the rest."""
    topic = state.topics.get(new_topic_id) if new_topic_id else None
    full_ids = {topic.id} if topic is not None and topic.status == status else ()

    def render(viewer):
        return oob("_column_list.html", state, viewer, status=status, full_ids=full_ids)

    if not full_ids:
        return [*_writers(state, status, render), (EVERYONE, render(ANY_MEMBER))]
    # The author's variant first: an author who facilitates reads their card as theirs ("yours" when anonymous).
    return [(user_audience(topic.author_id), render(member_view(state, topic.author_id))), *_writers(state, status, render),
            (FACILITATOR, render(facilitator_view(state))), (EVERYONE, render(ANY_MEMBER))]


def column_count_variants(state: BoardState, status: str) -> list[tuple[str, str]]:
    """A column's count: those writing privately count their own unrevealed topics, nobody else's."""
    def render(viewer):
        return oob("_column_count.html", state, viewer, status=status)

    return [*_writers(state, status, render), (EVERYONE, render(None))]


def topic_body(push: Push, state: BoardState, topic: TopicView) -> None:
    """A card's text and byline: an anonymous topic's author reads "yours", everyone else "anonymous"."""
    if topic.anonymous:
        author = member_view(state, topic.author_id)
        push.add((user_audience(topic.author_id), oob("_topic_body.html", state, author, topic=topic)),
                 (EVERYONE, oob("_topic_body.html", state, topic=topic)))
    else:
        push.add((EVERYONE, oob("_topic_body.html", state, topic=topic)))


def writers_count(push: Push, state: BoardState) -> None:
    """How many others have written privately (each writer leaves themselves out); facilitators get Reveal too."""
    own = [(user_audience(uid), oob("_writing.html", state, member_view(state, uid))) for uid in sorted(state.writers)]
    push.add(*own, (FACILITATOR, oob("_writing.html", state, facilitator_view(state))),
             (EVERYONE, oob("_writing.html", state, ANY_MEMBER)))


def private_writing_push(change: Change, state: BoardState) -> Push:
    """A topic written, edited or deleted while unrevealed: its author's tabs get their To Discuss; others get nothing,
    not even an empty frame, unless the number of people writing changed (the one thing everyone may know)."""
    push = Push(meeting_id=state.meeting.id, version=None)
    author = member_view(state, change.actor_id)
    push.add((user_audience(change.actor_id), oob("_column_list.html", state, author, status=TO_DISCUSS, full_ids=None)
              + oob("_column_count.html", state, author, status=TO_DISCUSS)))
    if change.writers_changed:
        writers_count(push, state)
    return push
