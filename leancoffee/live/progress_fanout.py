"""Voting progress: each person's "I'm done voting" and the facilitators' counts, and when the counts may be sent."""

from leancoffee.live.push import FACILITATOR, Push, user_audience
from leancoffee.live.render import facilitator_view, member_view, oob
from leancoffee.services import changes
from leancoffee.services.board import BoardState
from leancoffee.services.changes import Change

# Under hidden voting, facilitators' screens get the "done voting" count at most this often (issue 21).
HIDDEN_PROGRESS_SECONDS = 5.0
# Changes that alter what the facilitators' progress shows: dots placed (a vote, a deleted or merged topic giving
# dots back), who said they are done, and how many people there are.
PROGRESS_KINDS = {changes.VOTE_CAST, changes.VOTE_REMOVED, changes.TOPIC_DELETED, changes.TOPICS_MERGED,
                  changes.PARTICIPANT_JOINED, changes.PARTICIPANT_LEFT, changes.DONE_VOTING}
# Under hidden voting only the done count shows: the changes that alter it, whose count waits for the Throttle.
THROTTLED_KINDS = {changes.DONE_VOTING, changes.PARTICIPANT_JOINED, changes.PARTICIPANT_LEFT}
# Changes nobody sees but the person and the facilitators: no room screen, nobody else (not even an empty frame).
PROGRESS_ONLY = {changes.DONE_VOTING, changes.VOTING_PROGRESS}


def progress_push(change: Change) -> Push:
    """An empty Push for a change in PROGRESS_ONLY, without the room screen's board."""
    return Push(meeting_id=change.meeting_id, version=change.version)


def progress_for_facilitators(push: Push, state: BoardState) -> None:
    """The facilitators' progress, with the change that altered it; never under hidden voting (see progress_throttled)."""
    if state.progress is not None and not state.counts_hidden:
        push.add((FACILITATOR, oob("_voting_progress.html", state, facilitator_view(state))))


def progress_throttled(change: Change, state: BoardState) -> bool:
    """Whether a change alters the done count that hidden voting shows facilitators: it goes through the Throttle."""
    return change.kind in THROTTLED_KINDS and state.progress is not None and state.counts_hidden


def done_voting(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    """The person's own tabs: their "I'm done voting" (the facilitators' count follows: progress_for_facilitators)."""
    viewer = member_view(state, change.actor_id)
    push.add((user_audience(change.actor_id), oob("_done_voting.html", state, viewer)))


def voting_progress(push: Push, change: Change, state: BoardState, present: set[int]) -> None:
    """The Throttle's due send: the facilitators' progress as it is now (nothing once voting is over)."""
    if state.progress is not None:
        push.add((FACILITATOR, oob("_voting_progress.html", state, facilitator_view(state))))
