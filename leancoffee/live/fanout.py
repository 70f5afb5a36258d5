"""The one place that turns a committed change into the fragments every screen needs."""

from flask_babel import gettext

from leancoffee.live.boards import WholeBoards, full_board
from leancoffee.live.notes_fanout import action_changed, note_added, note_changed, note_deleted
from leancoffee.live.people_fanout import people_section
from leancoffee.live.progress_fanout import (
    PROGRESS_KINDS,
    PROGRESS_ONLY,
    done_voting,
    progress_for_facilitators,
    progress_push,
    voting_progress,
)
from leancoffee.live.push import EVERYONE, FACILITATOR, ROOM, Push, user_audience
from leancoffee.live.render import facilitator_view, member_view, oob
from leancoffee.live.writing import column_count_variants, column_list_variants, private_writing_push, topic_body
from leancoffee.models import DISCUSSING, TO_DISCUSS
from leancoffee.services import changes
from leancoffee.services.board import BoardState
from leancoffee.services.changes import Change
from leancoffee.services.viewing import Viewer

# Changes after which a viewer's whole board may look different (controls, hidden counts, read-only).
WHOLE_BOARD = {changes.SESSION_STATUS_CHANGED, changes.PHASE_CHANGED, changes.SETTINGS_CHANGED, changes.ROLE_CHANGED,
               changes.TOPICS_REVEALED, changes.RUN_AGAIN}
# Changes that alter which topics exist or what they are called: the facilitator's merge form lists them.
TOPIC_LIST = {changes.TOPIC_ADDED, changes.TOPIC_EDITED, changes.TOPIC_DELETED, changes.TOPICS_MERGED}
TIMER_KINDS = {changes.TIMER_CHANGED, changes.TIME_UP}
PEOPLE_KINDS = {changes.PARTICIPANT_JOINED, changes.PARTICIPANT_LEFT, changes.PRESENCE_CHANGED}
VOTE_KINDS = {changes.VOTE_CAST, changes.VOTE_REMOVED}
# Changes that may carry no version: hidden votes, changes to unrevealed topics (nobody else may learn of them), and
# "I'm done voting" under hidden voting.
QUIET_KINDS = VOTE_KINDS | {changes.TOPIC_ADDED, changes.TOPIC_EDITED, changes.TOPIC_DELETED, changes.DONE_VOTING}
# Changes whose fragments show who is here: the only ones for which presence is read.
SHOWS_PRESENCE = PEOPLE_KINDS | WHOLE_BOARD


def needs_whole_board(change: Change) -> bool:
    """Whether this change's fragments need the whole board read, or just its vote counts (load_votes)."""
    return change.kind not in VOTE_KINDS


def _column_lists(push: Push, state: BoardState, statuses, new_topic_id=None) -> None:
    """Re-send columns' order and counts; cards already on screen stay (hx-preserve placeholders)."""
    for status in statuses:
        push.add(*column_list_variants(state, status, new_topic_id))
        push.add(*column_count_variants(state, status))


def _vote_counts(push: Push, state: BoardState) -> None:
    """Counts, ranks and order of To Discuss: nothing at all while voting is hidden."""
    if state.counts_hidden:
        return
    for topic in state.column(TO_DISCUSS):
        push.add((EVERYONE, oob("_votes.html", state, topic=topic)))
    _column_lists(push, state, (TO_DISCUSS,))


def _own_votes(push: Push, state: BoardState, user_ids, topic_ids=()) -> None:
    """Each listed user's remaining dots (and vote buttons on topics) to that user's screens only."""
    variants = []
    for user_id in dict.fromkeys(u for u in user_ids if u is not None):
        viewer = member_view(state, user_id)
        html = oob("_my_dots.html", state, viewer)
        for topic_id in topic_ids:
            if topic_id in state.topics:
                html += oob("_my_vote.html", state, viewer, topic=state.topics[topic_id])
        variants.append((user_audience(user_id), html))
    push.add(*variants)


def _facilitator_and_others(push: Push, state: BoardState, template: str, **extra) -> None:
    """A region that shows controls to the facilitator only."""
    push.add(
        (FACILITATOR, oob(template, state, facilitator_view(state), **extra)),
        (EVERYONE, oob(template, state, Viewer(user_id=None, is_member=True), **extra)),
    )


def _topic_tools(push: Push, state: BoardState, topic_id: int) -> None:
    """Edit/delete/move controls of a topic, to the facilitator and its author only."""
    topic = state.topics.get(topic_id)
    if topic is None:
        return
    editors = ((FACILITATOR, facilitator_view(state)), (user_audience(topic.author_id), member_view(state, topic.author_id)))
    push.add(*((aud, oob("_topic_tools.html", state, viewer, topic=topic)) for aud, viewer in editors))


def _moved_cards(push: Push, state: BoardState, change: Change) -> None:
    """A moved card stays on screen (hx-preserve): its tools (whose Move form names its column) and its count
    (ranked only in To Discuss) are re-sent, and so are the ranks of To Discuss when a card left or joined it."""
    shown = not state.counts_hidden
    for topic_id in dict.fromkeys((change.topic_id, change.other_topic_id)):
        if topic_id is not None:
            _topic_tools(push, state, topic_id)
            if shown and topic_id in state.topics and state.topics[topic_id].status != TO_DISCUSS:
                push.add((EVERYONE, oob("_votes.html", state, topic=state.topics[topic_id])))
    if shown and TO_DISCUSS in change.columns:
        for topic in state.column(TO_DISCUSS):
            push.add((EVERYONE, oob("_votes.html", state, topic=topic)))


def _timer_regions(push: Push, state: BoardState) -> None:
    """Timer, facilitator controls and the thumbs prompt (whose pressed button is each voter's own)."""
    _facilitator_and_others(push, state, "_meeting_status.html")
    push.add((EVERYONE, oob("_timer.html", state)))
    voters = [(user_audience(uid), oob("_thumbs.html", state, member_view(state, uid))) for uid in state.thumbs_by_user]
    push.add(*voters, (FACILITATOR, oob("_thumbs.html", state, facilitator_view(state))),
             (EVERYONE, oob("_thumbs.html", state, Viewer(user_id=None, is_member=True))))


def _people(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    """Who is in the meeting (people_fanout: rows, or a crowd's counts), the facilitators' card, a rejoiner's board."""
    kind, actor_id = change.kind, change.actor_id
    people_section(push, change, state, present)
    if kind == changes.PRESENCE_CHANGED and change.affected_user_ids:
        return
    # Each facilitator's list of who may become a co-facilitator (their own row says "you").
    push.add(*((user_audience(uid), oob("_roles.html", state, member_view(state, uid))) for uid in sorted(state.facilitator_ids)))
    if kind == changes.PARTICIPANT_JOINED and actor_id is not None:
        # A rejoiner's (or renamed person's) other tabs show them as a member again. A leaver's tabs
        # are closed instead (Hub.dispatch), so nothing of the meeting reaches them any more.
        push.add((user_audience(actor_id), full_board(state, member_view(state, actor_id), present)))


def _with_room_board(state: BoardState, present: set[int]) -> Push:
    """A Push at the board's version whose only fragment so far is the room screen's whole board."""
    push = Push(meeting_id=state.meeting.id, version=state.version)
    push.add((ROOM, lambda: oob("_room_board.html", state, present=present)))
    return push


def _hidden_vote(change: Change, state: BoardState) -> Push:
    """A vote while voting is hidden: the voter's own screens get their dots; nobody else gets anything at all."""
    push = Push(meeting_id=state.meeting.id, version=None)
    _own_votes(push, state, (change.actor_id,), (change.topic_id,))
    return push


def whole_board_push(state: BoardState, present: set[int]) -> Push:
    """Every live region, for every screen: after a change to the whole board, or to resync a meeting."""
    push = _with_room_board(state, present)
    boards = WholeBoards(state)  # a plain member's board rendered once, not once per screen
    push.per_viewer = lambda viewer: boards.render(viewer, present)
    return push


def _topic_added(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    _column_lists(push, state, (TO_DISCUSS,), new_topic_id=change.topic_id)


def _topic_edited(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    topic = state.topics.get(change.topic_id)
    if topic is not None:
        topic_body(push, state, topic)
        _topic_tools(push, state, topic.id)


def _topic_removed(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    """Deleted, or merged into another (whose notes and votes it took along)."""
    push.add((EVERYONE, f'<div id="topic-{int(change.topic_id)}" hx-swap-oob="delete"></div>'))
    target = state.topics.get(change.other_topic_id) if change.other_topic_id else None
    if target is not None:
        push.add((EVERYONE, oob("_notes.html", state, topic=target)))
        topic_body(push, state, target)  # its "Merged from" trace
        _dots_returned(push, change, target)
    _vote_counts(push, state)
    _column_lists(push, state, [c for c in change.columns if c != TO_DISCUSS or state.counts_hidden])
    _own_votes(push, state, change.affected_user_ids, (change.other_topic_id,) if target else ())
    if DISCUSSING in change.columns:
        _timer_regions(push, state)  # the topic under discussion is gone, and its timer with it


def _dots_returned(push: Push, change: Change, target) -> None:
    """Who voted for both merged topics is told, on their own screens only, that a dot came back (the actor knows)."""
    merged = target.merged_from[-1] if target.merged_from else gettext("A topic")
    told = gettext("“%(merged)s” was merged into “%(title)s”: your vote for it came back.", merged=merged, title=target.title)
    html = oob("_flash.html", None, messages=[("info", told)])
    push.add(*((user_audience(uid), html) for uid in dict.fromkeys(change.returned_user_ids) if uid != change.actor_id))


def _topic_moved(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    _column_lists(push, state, change.columns)
    _timer_regions(push, state)
    _moved_cards(push, state, change)


def _vote(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    """A vote everyone may see (hidden votes never get here: see build_push)."""
    if change.topic_id in state.topics:
        _vote_counts(push, state)
        _own_votes(push, state, (change.actor_id,), (change.topic_id,))


def _timer(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    _column_lists(push, state, change.columns)
    _timer_regions(push, state)
    if change.columns:
        _moved_cards(push, state, change)


def _room_link_renewed(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    """Every facilitator's share section shows the new room link (the old room screens were closed: closing.py)."""
    push.add((FACILITATOR, oob("_share.html", state, facilitator_view(state))))


def _thumb(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    """Everyone sees the counts; only the voter's own tabs see which thumb is pressed."""
    push.add((EVERYONE, oob("_thumbs_counts.html", state)))
    push.add((user_audience(change.actor_id), oob("_thumbs.html", state, member_view(state, change.actor_id))))


# Who sees what, by kind of change (besides the room screen's whole board, which every change but a hidden vote and
# PROGRESS_ONLY re-sends to ROOM, and the facilitators' voting progress after PROGRESS_KINDS). EVERYONE is every
# member's board, FACILITATOR the facilitator's, user_audience(id) one person's tabs. Changes in WHOLE_BOARD re-send
# each viewer's whole board instead.
FRAGMENTS = {
    changes.PARTICIPANT_JOINED: _people,      # EVERYONE: the new row; the person's tabs: their whole board
    changes.PARTICIPANT_LEFT: _people,        # EVERYONE: the row removed (the leaver's tabs are closed)
    changes.PRESENCE_CHANGED: _people,        # EVERYONE: the rows of who came or went
    changes.TOPIC_ADDED: _topic_added,        # the column; the new card with the author's and facilitator's tools
    changes.TOPIC_EDITED: _topic_edited,      # EVERYONE: the text; author and FACILITATOR: their tools
    changes.TOPIC_DELETED: _topic_removed,    # EVERYONE: card gone, counts (unless hidden); voters: their dots
    changes.TOPICS_MERGED: _topic_removed,
    changes.TOPIC_STATUS_CHANGED: _topic_moved,  # columns, timer regions, the moved cards' tools
    changes.VOTE_CAST: _vote,                 # EVERYONE: counts and order; the voter: their dots and button
    changes.VOTE_REMOVED: _vote,
    changes.TIMER_CHANGED: _timer,            # timer regions (FACILITATOR: the controls), moved cards
    changes.TIME_UP: _timer,
    changes.THUMB_CAST: _thumb,               # EVERYONE: counts; the voter: their pressed thumb
    changes.NOTE_ADDED: note_added,           # the note appended to its topic's list (author, FACILITATOR: its tools);
    changes.NOTE_EDITED: note_changed,        # an action: its row appended to the action list (owner, FACILITATOR: Done)
    changes.NOTE_DELETED: note_deleted,       # the note and its action row gone, from every meeting listing it
    changes.ACTION_DONE: action_changed,      # the note's done mark and its action row, in every meeting listing it
    changes.ACTION_REOPENED: action_changed,
    changes.DONE_VOTING: done_voting,         # the person's tabs: their button; FACILITATOR: the progress (not if hidden)
    changes.VOTING_PROGRESS: voting_progress,  # FACILITATOR: the progress under hidden voting, every 5 s at most
    changes.ROOM_LINK_RENEWED: _room_link_renewed,  # FACILITATOR: the share section with the new room link
}
# Changes the board does not show (no version, no room screen board): only the regions their FRAGMENTS entry adds.
OFF_BOARD = {changes.ROOM_LINK_RENEWED}


def build_push(change: Change, state: BoardState, present: set[int]) -> Push:
    """Fragments for a change, rendered from a fresh read of the board (so they are never stale)."""
    if change.kind in WHOLE_BOARD:
        return whole_board_push(state, present)
    if change.kind in VOTE_KINDS and state.counts_hidden:
        return _hidden_vote(change, state)
    if change.kind in PROGRESS_ONLY:
        push = progress_push(change)  # the room screen shows no progress, and nobody else learns of it
    elif change.kind in QUIET_KINDS and change.version is None:
        return private_writing_push(change, state)  # an unrevealed topic: its author's tabs, and a count at most
    elif change.kind in OFF_BOARD:
        push = Push(meeting_id=state.meeting.id, version=None)
    else:
        push = _with_room_board(state, present)
    FRAGMENTS[change.kind](push, change, state, present)
    if change.kind in PROGRESS_KINDS:
        progress_for_facilitators(push, state)  # under hidden voting, the hub's Throttle sends the done count
    if change.kind in TOPIC_LIST:
        push.add((FACILITATOR, oob("_merge.html", state, facilitator_view(state))))
        if state.timer.expired:  # the time-up prompt says what Move on would start next
            push.add((FACILITATOR, oob("_thumbs.html", state, facilitator_view(state))))
    return push
