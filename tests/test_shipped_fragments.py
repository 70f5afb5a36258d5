"""A vote's fragments travel with it between workers; a worker writes them as they are only when safe."""

import pytest

from leancoffee.live import live
from leancoffee.live.fanout import build_push
from leancoffee.live.meeting import LiveMeeting
from leancoffee.live.push import EVERYONE, ROOM, Push, user_audience
from leancoffee.services import changes, topics, votes
from leancoffee.services.board import load_votes
from leancoffee.services.viewing import Viewer


@pytest.fixture
def hub(app):
    return live.hub


@pytest.fixture
def here():
    """What a worker holds for meeting 1, whose screens were last sent version 4."""
    meeting = LiveMeeting(1)
    meeting.version = 4
    return meeting


def fragments(version, groups=None):
    return {"version": version, "groups": groups or [[[EVERYONE, "<b id='x'>1</b>"]]]}


def vote(version, meeting_id=1):
    return changes.Change(changes.VOTE_CAST, meeting_id, version, actor_id=7, topic_id=3)


def test_the_next_version_is_written_as_the_sender_rendered_it(hub, here):
    push = hub.shipped(vote(5), fragments(5, [[[EVERYONE, "<b>all</b>"]], [[user_audience(7), "<i>mine</i>"]]]), here)
    assert push is not None and push.version == 5 and not push.rendered_here
    assert push.frame_for(Viewer(7, False, True)) == "<b>all</b><i>mine</i>"
    assert push.frame_for(Viewer(8, False, True)) == "<b>all</b>"


@pytest.mark.parametrize("case", ["gap", "late", "older board", "room screen", "nothing sent"])
def test_anything_else_is_read_and_rendered_here(hub, here, case):
    change, sent = vote(5), fragments(5)
    if case == "gap":
        change = vote(7)  # 5 and 6 are still on their way
    elif case == "late":
        here.version = 6  # these screens already show a newer board
    elif case == "older board":
        sent = fragments(4)
    elif case == "room screen":
        here.room_screens = 1  # its variant is rendered only where a room screen is
    else:
        sent = None
    assert hub.shipped(change, sent, here) is None
    assert hub.shipped(vote(5), fragments(5), None) is None  # no screen here at all


def test_a_rendered_vote_travels_without_the_unrendered_room_variant(trio):
    m, fay, ann, bob = trio
    tid = topics.add_topic(ann, m.code, "Topic").topic_id
    change = votes.cast_vote(bob, m.code, tid)
    push = build_push(change, load_votes(m.id, bob.id), set())
    for viewer in (Viewer(bob.id, False, True), Viewer(ann.id, False, True), Viewer(fay.id, True, True)):
        push.frame_for(viewer)
    sent = push.portable()
    assert sent["version"] == change.version
    assert all(audience != ROOM for group in sent["groups"] for audience, _ in group)
    again = Push.from_portable(m.id, sent)
    assert not again.rendered_here
    for viewer in (Viewer(bob.id, False, True), Viewer(ann.id, False, True), Viewer(fay.id, True, True)):
        assert again.frame_for(viewer) == push.frame_for(viewer)


def test_frames_that_differ_per_viewer_do_not_travel():
    push = Push(meeting_id=1, version=3, per_viewer=lambda viewer: "<whole board>")
    assert push.portable() is None
