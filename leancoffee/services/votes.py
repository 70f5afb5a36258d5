"""Dot votes: one per user per topic, at most the meeting's budget, only on topics still To Discuss."""

from flask_babel import gettext
from peewee import IntegrityError

from leancoffee.models import COLLECTING, TO_DISCUSS, VOTING, User, Vote
from leancoffee.prepared import Prepared
from leancoffee.services import changes
from leancoffee.services.access import find_topic, meeting_write
from leancoffee.services.changes import Change
from leancoffee.services.errors import Conflict

# The lookups every vote makes (see leancoffee.prepared).


@Prepared
def VOTED_TOPICS(meeting_id, user_id):
    return Vote.select(Vote.topic).where((Vote.meeting == meeting_id) & (Vote.user == user_id)).tuples()


DELETE_VOTE = Prepared(lambda topic_id, user_id: Vote.delete().where((Vote.topic == topic_id) & (Vote.user == user_id)))


def _version_shown(meeting) -> int | None:
    """The version a vote produced, or None for a hidden vote: it reaches only the voter's own screens."""
    return None if meeting.votes_hidden else meeting.version


def _require_voting_open(meeting) -> None:
    """Dots are placed while topics are collected and voted on, not once discussion starts."""
    if meeting.phase not in (COLLECTING, VOTING):
        raise Conflict(gettext("Voting is closed: the meeting has moved on to discussing."))
    if meeting.private_writing and meeting.phase == COLLECTING:
        raise Conflict(gettext("Voting opens once a facilitator reveals the topics everyone wrote. Nothing was changed."))


def cast_vote(user: User, code, topic_id) -> Change:
    """Spend one of the user's dots on a topic.

    The budget is counted and the vote written in one transaction that holds the meeting's
    write lock; the unique (topic, user) index is the last word on double votes.
    """
    try:
        with meeting_write(code, user, vote=True) as meeting:
            _require_voting_open(meeting)
            topic = find_topic(meeting, topic_id, user)
            if topic.status != TO_DISCUSS:
                raise Conflict(gettext("Voting is only open for topics in To Discuss."))
            mine = {voted for (voted,) in VOTED_TOPICS.rows(meeting.id, user.id)}
            if topic.id in mine:
                raise Conflict(gettext("You have already voted for this topic."))
            if len(mine) >= meeting.votes_per_person:
                raise Conflict(gettext("You have used all %(most)s of your votes. Remove a vote to vote for this topic.",
                                       most=meeting.votes_per_person))
            Vote.create(meeting=meeting.id, topic=topic.id, user=user.id)
    except IntegrityError:
        raise Conflict(gettext("You have already voted for this topic.")) from None
    return Change(changes.VOTE_CAST, meeting.id, _version_shown(meeting), actor_id=user.id, topic_id=topic.id,
                  columns=(TO_DISCUSS,), meeting=meeting, actor_dots=frozenset(mine | {topic.id}))


def remove_vote(user: User, code, topic_id) -> Change:
    """Take back the user's dot from a topic."""
    with meeting_write(code, user, vote=True) as meeting:
        _require_voting_open(meeting)
        topic = find_topic(meeting, topic_id, user)
        if topic.status != TO_DISCUSS:
            raise Conflict(gettext("Votes can only be changed while the topic is in To Discuss."))
        removed = DELETE_VOTE.rowcount(topic.id, user.id)
        if not removed:
            raise Conflict(gettext("You have not voted for this topic."))
    return Change(changes.VOTE_REMOVED, meeting.id, _version_shown(meeting), actor_id=user.id, topic_id=topic.id,
                  columns=(TO_DISCUSS,), meeting=meeting)
