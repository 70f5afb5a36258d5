"""What a committed write changed: the one thing the live layer turns into fragments."""

from dataclasses import dataclass, field
from typing import Any

PARTICIPANT_JOINED = "ParticipantJoined"
PARTICIPANT_LEFT = "ParticipantLeft"
TOPIC_ADDED = "TopicAdded"
TOPIC_EDITED = "TopicEdited"
TOPIC_DELETED = "TopicDeleted"
TOPIC_STATUS_CHANGED = "TopicStatusChanged"
VOTE_CAST = "VoteCast"
VOTE_REMOVED = "VoteRemoved"
SESSION_STATUS_CHANGED = "SessionStatusChanged"
PHASE_CHANGED = "PhaseChanged"
SETTINGS_CHANGED = "SettingsChanged"
TIMER_CHANGED = "TimerChanged"
THUMB_CAST = "ThumbCast"
NOTE_ADDED = "NoteAdded"
NOTE_EDITED = "NoteEdited"
NOTE_DELETED = "NoteDeleted"
ACTION_DONE = "ActionDone"
ACTION_REOPENED = "ActionReopened"
# A finished meeting was run again: its screens learn where the series goes on.
RUN_AGAIN = "RunAgain"
TOPICS_MERGED = "TopicsMerged"
# A facilitator revealed the topics written privately.
TOPICS_REVEALED = "TopicsRevealed"
# Someone became a co-facilitator or stopped being one: their screens' controls change, and everyone's list.
ROLE_CHANGED = "RoleChanged"
# Someone said "I'm done voting", or took it back.
DONE_VOTING = "DoneVotingChanged"
# Not database changes: who is connected right now changed; a running timebox ran out.
PRESENCE_CHANGED = "PresenceChanged"
TIME_UP = "TimeUp"
# Under hidden voting, the facilitators' voting progress: sent at most every few seconds (live/timers.py, Throttle).
VOTING_PROGRESS = "VotingProgress"
# The actor signed out: their open sockets close.
SIGNED_OUT = "SignedOut"
# The facilitator renewed the room link: room screens opened with the old one close.
ROOM_LINK_RENEWED = "RoomLinkRenewed"


@dataclass(frozen=True)
class Change:
    """One committed change of a meeting, at the meeting version it produced."""

    kind: str
    meeting_id: int
    version: int | None
    actor_id: int | None = None
    topic_id: int | None = None
    # Users whose own view (votes, remaining dots) the change altered besides the actor.
    affected_user_ids: tuple[int, ...] = field(default=())
    # Columns whose order or membership changed.
    columns: tuple[str, ...] = field(default=())
    # A second topic involved: the target of a merge, or the topic a move or "Discuss next" retired to Discussed.
    other_topic_id: int | None = None
    # The note a NOTE_ADDED added: it travels alone, not as its topic's whole list.
    note_id: int | None = None
    # Of affected_user_ids, those a merge gave a dot back (they voted for both topics): each is told so.
    returned_user_ids: tuple[int, ...] = field(default=())
    # A change to an unrevealed topic that made its author start or stop being one of those writing privately:
    # everyone's "how many others have written" changes (and nothing else of it reaches them).
    writers_changed: bool = False
    # What the write's own transaction already read, so that rendering it here need not read it again:
    # the meeting row as the write left it, and the actor's dots after it (a vote). Never sent to other workers.
    meeting: Any = field(default=None, compare=False, repr=False)
    actor_dots: frozenset[int] | None = field(default=None, compare=False, repr=False)
    # A tie the actor must settle (agenda.TieChoice): their answer asks; nobody else needs it.
    choice: Any = field(default=None, compare=False, repr=False)
    # The same change in other meetings (a note of a series is listed in several): each is published too.
    also: tuple = field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict:
        """Plain data, for the wire between workers."""
        return {
            "kind": self.kind,
            "meeting_id": self.meeting_id,
            "version": self.version,
            "actor_id": self.actor_id,
            "topic_id": self.topic_id,
            "affected_user_ids": list(self.affected_user_ids),
            "columns": list(self.columns),
            "other_topic_id": self.other_topic_id,
            "note_id": self.note_id,
            "returned_user_ids": list(self.returned_user_ids),
            "writers_changed": self.writers_changed,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Change":
        """Rebuild a Change sent by to_dict."""
        return cls(
            kind=data["kind"],
            meeting_id=data["meeting_id"],
            version=data["version"],
            actor_id=data.get("actor_id"),
            topic_id=data.get("topic_id"),
            affected_user_ids=tuple(data.get("affected_user_ids", ())),
            columns=tuple(data.get("columns", ())),
            other_topic_id=data.get("other_topic_id"),
            note_id=data.get("note_id"),
            returned_user_ids=tuple(data.get("returned_user_ids", ())),
            writers_changed=bool(data.get("writers_changed", False)),
        )
