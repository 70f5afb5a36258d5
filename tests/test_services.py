"""Domain rules, tested on the services directly against a temporary SQLite file."""

import pytest

from leancoffee.models import COMPLETED, DISCUSSED, DISCUSSING, IN_PROGRESS, PLANNED, Meeting, Participant, Topic, Vote
from leancoffee.services import changes, meetings, topics, votes
from leancoffee.services.board import load_board
from leancoffee.services.errors import Conflict, Forbidden, Invalid, NotFound
from leancoffee.services.viewing import Viewer


@pytest.fixture
def cast(trio):
    return trio


def test_meeting_codes_are_unguessable_and_distinct(cast):
    m, fay, *_ = cast
    other = meetings.create_meeting(fay, "Another", 3)
    assert len(m.code) >= 12 and m.code != other.code
    assert not m.code.isdigit()


@pytest.mark.parametrize("votes", ["0", "11", "many", "-1"])
def test_votes_per_person_must_be_1_to_10(cast, votes):
    _, fay, *_ = cast
    with pytest.raises(Invalid):
        meetings.create_meeting(fay, "Bad", votes)


def test_join_creates_then_reactivates_the_same_participant(cast):
    m, _, ann, _ = cast
    change = meetings.leave_meeting(ann, m.code)
    row = Participant.get(meeting=m.id, user=ann.id)
    assert change.kind == changes.PARTICIPANT_LEFT and not row.is_active and row.left_at is not None
    meetings.join_meeting(ann, m.code, "Ann again")
    rows = list(Participant.select().where((Participant.meeting == m.id) & (Participant.user == ann.id)))
    assert len(rows) == 1 and rows[0].id == row.id and rows[0].is_active and rows[0].left_at is None
    assert rows[0].name == "Ann again"


def test_every_write_bumps_the_meeting_version(cast):
    m, _, ann, _ = cast
    before = Meeting.get_by_id(m.id).version
    change = topics.add_topic(ann, m.code, "Topic")
    assert change.version == before + 1 == Meeting.get_by_id(m.id).version


def test_author_and_facilitator_may_edit_others_may_not(cast):
    m, fay, ann, bob = cast
    tid = topics.add_topic(ann, m.code, "Original").topic_id
    with pytest.raises(Forbidden):
        topics.edit_topic(bob, m.code, tid, "Hijacked")
    with pytest.raises(Forbidden):
        topics.delete_topic(bob, m.code, tid)
    topics.edit_topic(ann, m.code, tid, "By author")
    topics.edit_topic(fay, m.code, tid, "By facilitator", "why")
    topic = Topic.get_by_id(tid)
    assert (topic.title, topic.description) == ("By facilitator", "why")


def test_only_the_facilitator_moves_topics_and_changes_status(cast):
    m, fay, ann, _ = cast
    tid = topics.add_topic(ann, m.code, "Topic").topic_id
    with pytest.raises(Forbidden):
        topics.move_topic(ann, m.code, tid, DISCUSSING)
    with pytest.raises(Forbidden):
        meetings.change_meeting_status(ann, m.code, IN_PROGRESS)
    change = topics.move_topic(fay, m.code, tid, DISCUSSING)
    assert Topic.get_by_id(tid).status == DISCUSSING
    assert change.columns == (DISCUSSING, "to_discuss")


def test_status_times_are_recorded_on_the_first_transition_only(cast):
    m, fay, *_ = cast
    meetings.change_meeting_status(fay, m.code, IN_PROGRESS)
    started = Meeting.get_by_id(m.id).started_at
    meetings.change_meeting_status(fay, m.code, PLANNED)
    meetings.change_meeting_status(fay, m.code, IN_PROGRESS)
    meetings.change_meeting_status(fay, m.code, COMPLETED)
    row = Meeting.get_by_id(m.id)
    assert row.started_at == started and row.ended_at is not None and row.status == COMPLETED


def test_completed_meeting_is_read_only(cast):
    m, fay, ann, _ = cast
    tid = topics.add_topic(ann, m.code, "Topic").topic_id
    meetings.change_meeting_status(fay, m.code, COMPLETED)
    for attempt in (
        lambda: topics.add_topic(ann, m.code, "Late"),
        lambda: votes.cast_vote(ann, m.code, tid),
        lambda: topics.edit_topic(ann, m.code, tid, "Changed"),
        lambda: topics.delete_topic(fay, m.code, tid),
        lambda: topics.move_topic(fay, m.code, tid, DISCUSSED),
    ):
        with pytest.raises(Conflict):
            attempt()
    assert Topic.select().where(Topic.meeting == m.id).count() == 1 and Vote.select().count() == 0


def test_vote_once_per_topic_within_the_budget_and_take_it_back(cast):
    m, _, ann, _ = cast
    t1, t2, t3 = (topics.add_topic(ann, m.code, f"T{i}").topic_id for i in range(3))
    votes.cast_vote(ann, m.code, t1)
    with pytest.raises(Conflict, match="already voted"):
        votes.cast_vote(ann, m.code, t1)
    votes.cast_vote(ann, m.code, t2)
    with pytest.raises(Conflict, match="used all 2"):
        votes.cast_vote(ann, m.code, t3)
    votes.remove_vote(ann, m.code, t1)
    votes.cast_vote(ann, m.code, t3)
    assert {v.topic_id for v in Vote.select().where(Vote.user == ann.id)} == {t2, t3}
    with pytest.raises(Conflict, match="not voted"):
        votes.remove_vote(ann, m.code, t1)


def test_votes_only_on_topics_to_discuss(cast):
    m, fay, ann, _ = cast
    tid = topics.add_topic(ann, m.code, "T").topic_id
    topics.move_topic(fay, m.code, tid, DISCUSSING)
    with pytest.raises(Conflict, match="To Discuss"):
        votes.cast_vote(ann, m.code, tid)


def test_deleting_a_topic_returns_its_dots(cast):
    m, _, ann, bob = cast
    tid = topics.add_topic(ann, m.code, "T").topic_id
    votes.cast_vote(bob, m.code, tid)
    change = topics.delete_topic(ann, m.code, tid)
    assert change.affected_user_ids == (bob.id,)
    assert Vote.select().count() == 0 and Topic.get_or_none(Topic.id == tid) is None


def test_outsiders_and_unknown_things_are_refused(cast, app):
    m, fay, ann, _ = cast
    outsider = meetings.create_user("Eve")
    tid = topics.add_topic(ann, m.code, "T").topic_id
    with pytest.raises(Forbidden):
        topics.add_topic(outsider, m.code, "Spam")
    with pytest.raises(Forbidden):
        votes.cast_vote(outsider, m.code, tid)
    with pytest.raises(NotFound):
        topics.add_topic(ann, "no-such-meeting", "T")
    other = meetings.create_meeting(fay, "Other", 3)
    with pytest.raises(NotFound):
        votes.cast_vote(fay, other.code, tid)  # a topic of another meeting
    with pytest.raises(NotFound):
        votes.cast_vote(ann, m.code, 999999)


@pytest.mark.parametrize(
    "title, description, message",
    [
        ("", "", "required"),
        ("   ", "", "required"),
        ("x" * 121, "", "at most 120"),
        ("ok", "d" * 501, "at most 500"),
        ("bad\x00byte", "", "not allowed"),
        ("bell\x07", "", "not allowed"),
    ],
)
def test_bad_topic_text_is_refused_and_nothing_stored(cast, title, description, message):
    m, _, ann, _ = cast
    before = Meeting.get_by_id(m.id).version
    with pytest.raises(Invalid, match=message):
        topics.add_topic(ann, m.code, title, description)
    assert Topic.select().count() == 0 and Meeting.get_by_id(m.id).version == before


def test_board_orders_to_discuss_by_votes_then_age(cast):
    m, _, ann, bob = cast
    a, b, c = (topics.add_topic(ann, m.code, n).topic_id for n in "ABC")
    votes.cast_vote(ann, m.code, c)
    votes.cast_vote(bob, m.code, c)
    votes.cast_vote(bob, m.code, b)
    state = load_board(m.id)
    assert [t.title for t in state.column("to_discuss")] == ["C", "B", "A"]
    ann_view = Viewer(ann.id, False, True)
    assert state.my_votes(ann_view) == {c} and state.dots_left(ann_view) == 1
    assert [t.votes for t in state.column("to_discuss")] == [2, 1, 0]
