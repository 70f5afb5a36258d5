"""Merging a duplicate topic into another: votes and notes move, the survivor keeps a trace of what it absorbed."""

import json

from flask_babel import gettext

from leancoffee.models import DISCUSSING, TO_DISCUSS, Note, Topic, User, Vote, utcnow
from leancoffee.services import changes
from leancoffee.services.access import find_topic, meeting_write
from leancoffee.services.changes import Change
from leancoffee.services.errors import Conflict, Invalid
from leancoffee.services.topics import end_discussion


def merged_titles(topic) -> list[str]:
    """The titles a topic absorbed by merges, oldest first (its `merged_from` column holds them as JSON)."""
    return json.loads(topic.merged_from or "[]")


def merge_topics(user: User, code, source_id, target_id) -> Change:
    """Facilitator: fold a duplicate into another topic; votes and notes move, nobody keeps two votes on it."""
    if source_id in (None, "") or target_id in (None, ""):
        raise Invalid(gettext("Choose the topic to merge and the topic to merge it into."))
    with meeting_write(code, user, facilitator=True) as meeting:
        source, target = find_topic(meeting, source_id, user), find_topic(meeting, target_id, user)
        if source.unrevealed or target.unrevealed:
            raise Conflict(gettext("Reveal the topics first: a topic still private cannot be merged. Nothing was changed."))
        if source.id == target.id:
            raise Invalid(gettext("Choose another topic to merge into."))
        target_voters = Vote.select(Vote.user).where(Vote.topic == target.id)
        # Who voted for both gets their second dot back; everyone else's vote moves over.
        returned = tuple(
            v.user_id for v in Vote.select(Vote.user).where((Vote.topic == source.id) & Vote.user.in_(target_voters))
        )
        Vote.delete().where((Vote.topic == source.id) & Vote.user.in_(target_voters)).execute()
        moved = tuple(v.user_id for v in Vote.select(Vote.user).where(Vote.topic == source.id))
        Vote.update(topic=target.id).where(Vote.topic == source.id).execute()
        Note.update(topic=target.id).where(Note.topic == source.id).execute()
        # The trace: the survivor names what it absorbed, the merged topic last (and what that one had absorbed before it).
        trace = merged_titles(target) + merged_titles(source) + [source.title]
        Topic.update(merged_from=json.dumps(trace, ensure_ascii=False)).where(Topic.id == target.id).execute()
        if source.status == DISCUSSING:
            # Its timer goes with it, not on to another topic; it is deleted, not discussed (no webhook hears of it).
            end_discussion(meeting, TO_DISCUSS, utcnow())
        source.delete_instance()
    return Change(
        changes.TOPICS_MERGED, meeting.id, meeting.version, actor_id=user.id, topic_id=source.id,
        other_topic_id=target.id, affected_user_ids=returned + moved, returned_user_ids=returned,
        columns=tuple(dict.fromkeys((target.status, source.status))),
    )
