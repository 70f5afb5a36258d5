"""The fan-out: which fragments each viewer gets for each change (rendered from a real database)."""

import re

import pytest

from leancoffee.live.fanout import build_push, full_board
from leancoffee.live.push import EVERYONE, Push, mark_oob, user_audience
from leancoffee.services import changes, meetings, topics, votes
from leancoffee.services.board import load_board, load_votes
from leancoffee.services.viewing import Viewer


def test_mark_oob_marks_only_the_root_element():
    html = '<span id="votes-1" class="votes"><strong>2</strong></span>'
    assert mark_oob(html) == '<span id="votes-1" class="votes" hx-swap-oob="true"><strong>2</strong></span>'
    assert mark_oob('\n<li id="x" hx-preserve></li>').count("hx-swap-oob") == 1
    with pytest.raises(ValueError):
        mark_oob("just text")


def test_push_encodes_once_per_audience_mix():
    push = Push(meeting_id=1, version=1)
    push.add((EVERYONE, "<a/>"))
    push.add((user_audience(7), "<mine/>"))
    frames = {push.frame_for(Viewer(uid, False, True)) for uid in range(1, 50)}
    assert frames == {"<a/>", "<a/><mine/>"} and len(push._frames) == 2


@pytest.fixture
def board(trio):
    return trio


def viewers(m, fay, ann, bob):
    return {
        "fay": Viewer(fay.id, True, True),
        "ann": Viewer(ann.id, False, True),
        "bob": Viewer(bob.id, False, True),
    }


def test_vote_sends_count_and_order_to_all_and_vote_state_to_the_voter_only(board):
    m, fay, ann, bob = board
    tid = topics.add_topic(ann, m.code, "T").topic_id
    change = votes.cast_vote(bob, m.code, tid)
    push = build_push(change, load_board(m.id), set())
    v = viewers(*board)
    bob_frame, ann_frame, fay_frame = (push.frame_for(v[k]) for k in ("bob", "ann", "fay"))
    for frame in (bob_frame, ann_frame, fay_frame):
        assert f'id="votes-{tid}"' in frame and 'id="list-to_discuss"' in frame
        assert f'<li id="topic-{tid}" hx-preserve></li>' in frame
    assert f'id="my-vote-{tid}"' in bob_frame and "Remove vote" in bob_frame and 'data-left="1"' in bob_frame
    assert 'id="my-dots"' not in ann_frame and 'id="my-vote' not in ann_frame
    assert ann_frame == fay_frame


def test_new_topic_card_differs_for_author_facilitator_and_others(board):
    m, fay, ann, bob = board
    change = topics.add_topic(ann, m.code, "Ann's topic")
    push = build_push(change, load_board(m.id), set())
    v = viewers(*board)
    tid = change.topic_id
    ann_frame, fay_frame, bob_frame = (push.frame_for(v[k]) for k in ("ann", "fay", "bob"))
    assert "Ann&#39;s topic" in bob_frame and ">Vote<" in bob_frame
    assert "Delete" in ann_frame and "Move to Discussing" not in ann_frame
    assert "Delete" in fay_frame and "Move to Discussing" in fay_frame
    assert "Delete" not in bob_frame and f'id="tools-{tid}"' in bob_frame


def test_edit_sends_text_to_all_and_controls_to_editors_only(board):
    m, fay, ann, bob = board
    tid = topics.add_topic(ann, m.code, "Old").topic_id
    push = build_push(topics.edit_topic(ann, m.code, tid, "New"), load_board(m.id), set())
    v = viewers(*board)
    assert f'id="topic-body-{tid}"' in push.frame_for(v["bob"]) and f'id="tools-{tid}"' not in push.frame_for(v["bob"])
    assert 'value="New"' in push.frame_for(v["ann"]) and "Move to Discussed" in push.frame_for(v["fay"])


def test_delete_returns_dots_to_voters_screens(board):
    m, fay, ann, bob = board
    tid = topics.add_topic(ann, m.code, "T").topic_id
    votes.cast_vote(bob, m.code, tid)
    push = build_push(topics.delete_topic(fay, m.code, tid), load_board(m.id), set())
    v = viewers(*board)
    assert f'id="topic-{tid}" hx-swap-oob="delete"' in push.frame_for(v["ann"])
    assert 'data-left="2"' in push.frame_for(v["bob"]) and 'id="my-dots"' not in push.frame_for(v["ann"])


def test_status_change_rerenders_each_viewers_board(board):
    m, fay, ann, bob = board
    topics.add_topic(ann, m.code, "T")
    push = build_push(meetings.change_meeting_status(fay, m.code, "completed"), load_board(m.id), set())
    v = viewers(*board)
    for key in ("ann", "fay"):
        frame = push.frame_for(v[key])
        assert 'data-status="completed"' in frame and "read-only" in frame and ">Vote<" not in frame
    assert "Reopen meeting" in push.frame_for(v["fay"]) and "Reopen meeting" not in push.frame_for(v["ann"])


def test_a_vote_renders_the_same_fragments_from_the_vote_read_as_from_the_whole_board(board):
    m, fay, ann, bob = board
    tid = topics.add_topic(fay, m.code, "First", "").topic_id
    topics.add_topic(bob, m.code, "Second", "")
    votes.cast_vote(bob, m.code, tid)
    change = votes.cast_vote(ann, m.code, tid)
    whole, light = (build_push(change, state, set()) for state in (load_board(m.id), load_votes(m.id, ann.id)))
    assert light.groups[1:] == whole.groups[1:]  # the first group is the room screen's, rendered lazily
    for viewer in viewers(m, fay, ann, bob).values():
        assert light.frame_for(viewer) == whole.frame_for(viewer)
    assert "0 of 2 votes left" not in light.frame_for(Viewer(ann.id, False, True))
    assert "<strong>1</strong> of 2 votes left" in light.frame_for(Viewer(ann.id, False, True))


def test_someone_arriving_updates_only_their_own_row(board):
    m, fay, ann, bob = board
    change = changes.Change(changes.PRESENCE_CHANGED, m.id, None, affected_user_ids=(ann.id,))
    frame = build_push(change, load_board(m.id), {ann.id}).frame_for(Viewer(bob.id, False, True))
    assert frame.lstrip().startswith(f'<li class="person present" id="person-{ann.id}" hx-swap-oob="true">')
    assert f'id="person-{bob.id}"' not in frame and 'id="participants"' not in frame


def test_a_newcomer_is_appended_and_a_leaver_removed(board):
    m, fay, ann, bob = board
    eve = meetings.create_user("Eve")
    here = {fay.id, bob.id}
    joined = build_push(meetings.join_meeting(eve, m.code, "Eve"), load_board(m.id), here).frame_for(Viewer(bob.id, False, True))
    assert f'<div id="person-{eve.id}" hx-swap-oob="delete"></div><ul hx-swap-oob="beforeend:#participants-list">' in joined
    # The count says how many are away, not only how many joined.
    assert '<span class="count">4</span> <span class="here-count">2 here, 2 away</span>' in joined
    assert 'id="participants"' not in joined
    left = build_push(meetings.leave_meeting(ann, m.code), load_board(m.id), here).frame_for(Viewer(bob.id, False, True))
    assert left.startswith(f'<div id="person-{ann.id}" hx-swap-oob="delete"></div>') and "Ann" not in left
    assert '<span class="count">3</span> <span class="here-count">2 here, 1 away</span>' in left


def test_someone_rejoining_gets_the_whole_list_in_join_order(board):
    m, fay, ann, bob = board
    meetings.leave_meeting(ann, m.code)
    rejoined = meetings.join_meeting(ann, m.code, "Ann again")
    back = build_push(rejoined, load_board(m.id), set()).frame_for(Viewer(bob.id, False, True))
    assert 'id="participants"' in back
    assert back.index(f'id="person-{fay.id}"') < back.index(f'id="person-{ann.id}"') < back.index(f'id="person-{bob.id}"')


def test_presence_change_without_names_sends_the_participant_list(board):
    m, fay, ann, bob = board
    push = build_push(changes.Change(changes.PRESENCE_CHANGED, m.id, None), load_board(m.id), {ann.id})
    frame = push.frame_for(Viewer(bob.id, False, True))
    assert 'id="participants"' in frame and f'id="person-{ann.id}"' in frame
    assert f'class="person present" id="person-{ann.id}"' in frame and f'class="person away" id="person-{bob.id}"' in frame


def test_full_board_has_every_live_region_marked_oob(board):
    m, fay, ann, bob = board
    html = full_board(load_board(m.id), Viewer(ann.id, False, True), {ann.id})
    regions = ("meeting-status", "writing", "timer", "voting-progress", "thumbs", "action-bar", "columns", "actions", "merge",
               "settings", "facilitators", "share", "participants")
    marked = re.findall(r'<[a-z]+ id="([^"]+)"[^>]*hx-swap-oob="true"', html)
    assert marked == list(regions)


def test_a_card_leaving_to_discuss_takes_its_rank_along_and_the_others_are_ranked_again(board):
    m, fay, ann, bob = board
    a, b, c = (topics.add_topic(ann, m.code, title).topic_id for title in ("A", "B", "C"))
    for who, tid in ((ann, a), (bob, a), (ann, b), (bob, c)):
        votes.cast_vote(who, m.code, tid)
    before = full_board(load_board(m.id), Viewer(bob.id, False, True), set())
    assert re.search(rf'id="votes-{b}" class="votes"><strong>1</strong> vote <span class="rank tied">tied 2nd</span>', before)
    frame = build_push(topics.move_topic(fay, m.code, a, "discussing"), load_board(m.id), set()).frame_for(
        Viewer(bob.id, False, True))
    # The moved card is counted without a rank; the two left in To Discuss now share first place.
    assert re.search(rf'<span id="votes-{a}" class="votes" hx-swap-oob="true"><strong>2</strong> votes</span>', frame)
    for tid in (b, c):
        assert re.search(rf'id="votes-{tid}" class="votes" hx-swap-oob="true"><strong>1</strong> vote '
                         r'<span class="rank tied">tied 1st</span>', frame), tid
