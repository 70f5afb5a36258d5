"""Prepared queries: compiled once, then the same rows as peewee's own query for any values."""

import pytest

from leancoffee.models import Meeting, Participant, Vote
from leancoffee.prepared import Prepared
from leancoffee.services import topics, votes


def test_a_prepared_lookup_returns_what_peewee_returns_and_compiles_once(trio):
    m, fay, ann, bob = trio
    builds = []

    def build(meeting_id, user_id):
        builds.append((meeting_id, user_id))
        return Participant.select().where((Participant.meeting == meeting_id) & (Participant.user == user_id)).limit(1)

    lookup = Prepared(build)
    for user in (fay, ann, bob):
        row = lookup.first(m.id, user.id)
        expected = Participant.get((Participant.meeting == m.id) & (Participant.user == user.id))
        assert (row.id, row.name, row.user_id, row.is_active) == (
            expected.id, expected.name, expected.user_id, expected.is_active)
    assert lookup.first(m.id + 1, fay.id) is None
    assert len(builds) == 1  # the rest only bound new values


def test_rows_after_the_first_cursor_are_shaped_like_peewees_own(trio):
    m, fay, ann, bob = trio
    tids = [topics.add_topic(ann, m.code, f"Topic {i}").topic_id for i in range(3)]
    votes.cast_vote(bob, m.code, tids[0])
    votes.cast_vote(bob, m.code, tids[2])
    votes.cast_vote(ann, m.code, tids[1])
    voted = Prepared(lambda meeting_id, user_id: Vote.select(Vote.topic, Vote.user)
                     .where((Vote.meeting == meeting_id) & (Vote.user == user_id)).order_by(Vote.topic).tuples())
    people = Prepared(lambda meeting_id: Participant.select().where(Participant.meeting == meeting_id).order_by(Participant.id))
    for _ in range(2):  # the second round reuses what the first cursor's wrapper worked out
        assert voted.rows(m.id, bob.id) == [(tids[0], bob.id), (tids[2], bob.id)]
        assert voted.rows(m.id, ann.id) == [(tids[1], ann.id)]
        assert voted.rows(m.id, fay.id) == []
        expected = Participant.select().where(Participant.meeting == m.id).order_by(Participant.id)
        assert [(p.id, p.name, p.user_id, p.is_active) for p in people.rows(m.id)] == [
            (p.id, p.name, p.user_id, p.is_active) for p in expected]


def test_prepared_writes_return_rows_and_counts(trio):
    m, fay, ann, bob = trio
    bump = Prepared(lambda code: Meeting.update(version=Meeting.version + 1).where(Meeting.code == code).returning(Meeting))
    before = Meeting.get_by_id(m.id).version
    assert bump.first(m.code).version == before + 1 == Meeting.get_by_id(m.id).version
    assert bump.first("no-such-code") is None
    tid = topics.add_topic(ann, m.code, "Topic").topic_id
    votes.cast_vote(bob, m.code, tid)
    delete = Prepared(lambda topic_id, user_id: Vote.delete().where((Vote.topic == topic_id) & (Vote.user == user_id)))
    assert delete.rowcount(tid, ann.id) == 0
    assert delete.rowcount(tid, bob.id) == 1
    assert Vote.select().count() == 0


def test_a_value_the_query_does_not_use_is_refused(trio):
    ignores_its_value = Prepared(lambda code: Meeting.select().limit(1))
    with pytest.raises(ValueError, match="every value"):
        ignores_its_value.first("abc")


def test_what_prepared_relies_on_in_peewee_is_there(trio):
    from leancoffee.db import db
    from leancoffee.prepared import _PER_CURSOR

    m, *_ = trio
    query = Meeting.select().where(Meeting.id == m.id)
    sql, params = query.sql()
    assert m.id in params and ("?" in sql or "%s" in sql)  # the SQL and its values, in order
    wrapper = query._get_cursor_wrapper(db.execute_sql(sql, params))
    assert [row.id for row in wrapper] == [m.id] and wrapper.initialized
    assert _PER_CURSOR <= set(vars(wrapper))  # what belongs to one cursor is where Prepared expects it
    assert set(vars(wrapper)) - _PER_CURSOR  # and the rest is what it keeps per query shape
