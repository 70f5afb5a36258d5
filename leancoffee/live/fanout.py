"""The one place that turns a committed change into the fragments every screen needs."""

from flask import render_template

from leancoffee.live.push import EVERYONE, FACILITATOR, Push, mark_oob, user_audience
from leancoffee.models import TO_DISCUSS
from leancoffee.services import changes
from leancoffee.services.board import BoardState, Viewer
from leancoffee.services.changes import Change


def render_part(template: str, state: BoardState, viewer: Viewer | None = None, **extra) -> str:
    """Render one partial (one root element) for a viewer."""
    return render_template(template, board=state, viewer=viewer or Viewer(None), **extra)


def member_view(state: BoardState, user_id: int) -> Viewer:
    """The Viewer of a member of this meeting."""
    return Viewer(user_id=user_id, is_facilitator=state.meeting.facilitator_id == user_id, is_member=True)


def full_board(state: BoardState, viewer: Viewer, present: set[int]) -> str:
    """Every live region of the board for one viewer: what a (re)connecting page needs."""
    parts = [
        render_part("_meeting_status.html", state, viewer),
        render_part("_participants.html", state, viewer, present=present),
        render_part("_my_dots.html", state, viewer),
        render_part("_columns.html", state, viewer),
    ]
    return "".join(mark_oob(p) for p in parts)


def _column_lists(push: Push, state: BoardState, statuses, new_topic_id=None) -> None:
    """Re-send columns' order and counts; cards already on screen stay (hx-preserve placeholders)."""
    for status in statuses:
        push.add(*_column_list_variants(state, status, new_topic_id))
        push.add((EVERYONE, mark_oob(render_part("_column_count.html", state, status=status))))


def _column_list_variants(state: BoardState, status: str, new_topic_id=None) -> list[tuple[str, str]]:
    """One column's list; a new card is sent whole, and differs for its author and the facilitator."""
    topic = state.topics.get(new_topic_id) if new_topic_id else None
    if topic is None or topic.status != status:
        return [(EVERYONE, mark_oob(render_part("_column_list.html", state, status=status, full_ids=())))]
    audiences = (
        (FACILITATOR, member_view(state, state.meeting.facilitator_id)),
        (user_audience(topic.author_id), member_view(state, topic.author_id)),
        (EVERYONE, Viewer(user_id=None, is_member=True)),
    )
    return [
        (audience, mark_oob(render_part("_column_list.html", state, viewer, status=status, full_ids={topic.id})))
        for audience, viewer in audiences
    ]


def _own_votes(push: Push, state: BoardState, user_ids, topic_id=None) -> None:
    """Each listed user's remaining dots (and vote button on a topic) to that user's screens only."""
    variants = []
    for user_id in dict.fromkeys(u for u in user_ids if u is not None):
        viewer = member_view(state, user_id)
        html = mark_oob(render_part("_my_dots.html", state, viewer))
        topic = state.topics.get(topic_id)
        if topic is not None:
            html += mark_oob(render_part("_my_vote.html", state, viewer, topic=topic))
        variants.append((user_audience(user_id), html))
    push.add(*variants)


def _topic_tools(push: Push, state: BoardState, topic_id: int) -> None:
    """Edit/delete/move controls of a topic, to the facilitator and its author only."""
    topic = state.topics.get(topic_id)
    if topic is None:
        return
    editors = ((FACILITATOR, state.meeting.facilitator_id), (user_audience(topic.author_id), topic.author_id))
    push.add(
        *(
            (audience, mark_oob(render_part("_topic_tools.html", state, member_view(state, user_id), topic=topic)))
            for audience, user_id in editors
        )
    )


def build_push(change: Change, state: BoardState, present: set[int]) -> Push:
    """Fragments for a change, rendered from a fresh read of the board (so they are never stale)."""
    push = Push(meeting_id=state.meeting.id, version=state.version)
    kind = change.kind
    topic = state.topics.get(change.topic_id) if change.topic_id else None
    if kind in (changes.PARTICIPANT_JOINED, changes.PARTICIPANT_LEFT, changes.PRESENCE_CHANGED):
        push.add((EVERYONE, mark_oob(render_part("_participants.html", state, present=present))))
        if kind != changes.PRESENCE_CHANGED and change.actor_id is not None:
            # The leaver's (or rejoiner's) other tabs switch between member and visitor views.
            actor = Viewer(change.actor_id, state.meeting.facilitator_id == change.actor_id,
                           any(p.user_id == change.actor_id for p in state.participants))
            push.add((user_audience(change.actor_id), full_board(state, actor, present)))
    elif kind == changes.TOPIC_ADDED:
        _column_lists(push, state, (TO_DISCUSS,), new_topic_id=change.topic_id)
    elif kind == changes.TOPIC_EDITED and topic is not None:
        push.add((EVERYONE, mark_oob(render_part("_topic_body.html", state, topic=topic))))
        _topic_tools(push, state, topic.id)
    elif kind == changes.TOPIC_DELETED:
        push.add((EVERYONE, f'<div id="topic-{int(change.topic_id)}" hx-swap-oob="delete"></div>'))
        _column_lists(push, state, change.columns)
        _own_votes(push, state, change.affected_user_ids)
    elif kind == changes.TOPIC_STATUS_CHANGED:
        _column_lists(push, state, change.columns)
    elif kind in (changes.VOTE_CAST, changes.VOTE_REMOVED) and topic is not None:
        push.add((EVERYONE, mark_oob(render_part("_votes.html", state, topic=topic))))
        _column_lists(push, state, (TO_DISCUSS,))
        _own_votes(push, state, (change.actor_id,), topic_id=topic.id)
    elif kind == changes.SESSION_STATUS_CHANGED:
        # Read-only or not changes controls everywhere: every viewer gets a whole fresh board.
        push.per_viewer = lambda viewer: full_board(state, viewer, present)
    return push
