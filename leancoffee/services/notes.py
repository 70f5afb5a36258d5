"""Takeaways and action items captured on topics: add, edit, delete; an action is done, or open again."""

from flask_babel import gettext, lazy_gettext

from leancoffee.models import ACTION, NAME_MAX, NOTE_MAX, TAKEAWAY, CarriedNote, Meeting, Note, Participant, User, utcnow
from leancoffee.services import changes, quotas
from leancoffee.services.access import find_topic, meeting_write, require_facilitator
from leancoffee.services.changes import Change
from leancoffee.services.errors import Conflict, Forbidden, Invalid, NotFound
from leancoffee.services.validation import clean_text, row_id

NO_SUCH_NOTE = lazy_gettext("That takeaway or action does not exist in this meeting (it may have been deleted).")


def _owner(meeting: Meeting, kind: str, picked, typed, current: Participant | None = None) -> tuple[int | None, str]:
    """An action's owner: a participant (picked by id, or typed as the board names them), or a name typed for
    someone not in the meeting. An edit that leaves the field naming the `current` owner keeps them."""
    typed = clean_text(typed, gettext("Owner"), NAME_MAX, required=False) if kind == ACTION else ""
    if kind != ACTION or picked in (None, ""):
        if current is not None and typed.casefold() == current.label.casefold():
            # Also when they are not in this meeting: an action carried here keeps its owner from an earlier one.
            return current.id, ""
        named = _participant_named(meeting, typed) if typed else None
        return (named.id, "") if named is not None else (None, typed)
    if typed:
        raise Invalid(gettext("Pick the owner from the list or type a name, not both."))
    participant_id = row_id(picked)
    owner = participant_id and Participant.get_or_none((Participant.id == participant_id) & (Participant.meeting == meeting.id))
    if owner is None or not owner.is_active:
        raise Invalid(gettext("That person is not in this meeting: pick someone from the list, or type a name."))
    return owner.id, ""


def _participant_named(meeting: Meeting, label: str) -> Participant | None:
    """The meeting's participant whose name as the board shows it ("Ann", "Ann (2)") is this one, case aside.

    Someone who has left counts too: editing their action's text keeps it theirs."""
    wanted = label.casefold()
    return next((p for p in Participant.select().where(Participant.meeting == meeting.id) if p.label.casefold() == wanted), None)


def add_note(user: User, code, topic_id, kind, text, owner="", owner_participant=None) -> Change:
    """Any participant adds a takeaway, or an action with an optional owner, to a topic."""
    if kind not in (TAKEAWAY, ACTION):
        raise Invalid(gettext("Choose a takeaway or an action."))
    text = clean_text(text, gettext("Takeaway") if kind == TAKEAWAY else gettext("Action"), NOTE_MAX, multiline=True)
    with meeting_write(code, user) as meeting:
        topic = find_topic(meeting, topic_id, user)
        if topic.unrevealed:
            raise Conflict(gettext("Takeaways come once the topics are revealed. Nothing was changed."))
        quotas.require_note_room(topic)
        picked, typed = _owner(meeting, kind, owner_participant, owner)
        note = Note.create(meeting=meeting.id, topic=topic.id, author=user.id, kind=kind, text=text, owner=typed,
                           owner_participant=picked)
    return Change(changes.NOTE_ADDED, meeting.id, meeting.version, actor_id=user.id, topic_id=topic.id, note_id=note.id)


def _find_note(meeting: Meeting, note_id, carried_too: bool = False) -> Note:
    """The note with this id in this meeting (or, with `carried_too`, carried into it), or NotFound."""
    note_id = row_id(note_id)
    note = Note.get_or_none(Note.id == note_id) if note_id else None
    carried = carried_too and note is not None and CarriedNote.select().where(
        (CarriedNote.meeting == meeting.id) & (CarriedNote.note == note.id)).exists()
    if note is None or (note.meeting_id != meeting.id and not carried):
        raise NotFound(NO_SUCH_NOTE)
    return note


def _require_note_editor(meeting: Meeting, user: User, note: Note) -> None:
    """Only the note's author or a facilitator of the meeting acting on it may change it."""
    if note.author_id != user.id:
        try:
            require_facilitator(meeting, user)
        except Forbidden:
            raise Forbidden(gettext("Only the note's author or the facilitator can change it.")) from None


def edit_note(user: User, code, note_id, text, owner="", owner_participant=None) -> Change:
    """The author or a facilitator changes a note's text (and an action's owner), in any open meeting listing it."""
    with meeting_write(code, user) as meeting:
        note = _find_note(meeting, note_id, carried_too=True)
        _require_note_editor(meeting, user, note)
        label = gettext("Takeaway") if note.kind == TAKEAWAY else gettext("Action")
        text = clean_text(text, label, NOTE_MAX, multiline=True)
        current = Participant.get_or_none(Participant.id == note.owner_participant_id) if note.owner_participant_id else None
        picked, typed = _owner(meeting, note.kind, owner_participant, owner, current)
        Note.update(text=text, owner=typed, owner_participant=picked).where(Note.id == note.id).execute()
    return Change(changes.NOTE_EDITED, meeting.id, meeting.version, actor_id=user.id, topic_id=note.topic_id, note_id=note.id,
                  also=_elsewhere(note, meeting, changes.NOTE_EDITED))


def carried_here(change: Change) -> bool:
    """Whether the change's note was carried into its meeting (shown in the action list, not on a topic's card)."""
    return not Note.select().where((Note.id == change.note_id) & (Note.meeting == change.meeting_id)).exists()


def delete_note(user: User, code, note_id) -> Change:
    """The author or a facilitator deletes a note, in any open meeting listing it (and so from every one)."""
    with meeting_write(code, user) as meeting:
        note = _find_note(meeting, note_id, carried_too=True)
        _require_note_editor(meeting, user, note)
        also = _elsewhere(note, meeting, changes.NOTE_DELETED)
        note.delete_instance()
    return Change(changes.NOTE_DELETED, meeting.id, meeting.version, actor_id=user.id, topic_id=note.topic_id,
                  note_id=note.id, also=also)


def mark_action(user: User, code, note_id, done: bool) -> Change:
    """An action's owner or a facilitator marks it done (or open again): also in a completed meeting, and for every
    meeting of the series that lists it."""
    with meeting_write(code, user, open_only=False) as meeting:
        note = _find_note(meeting, note_id, carried_too=True)
        if note.kind != ACTION:
            raise Invalid(gettext("Only an action can be marked done."))
        owner = Participant.get_or_none(Participant.id == note.owner_participant_id) if note.owner_participant_id else None
        if owner is None or owner.user_id != user.id:
            try:
                require_facilitator(meeting, user)
            except Forbidden:
                raise Forbidden(gettext("Only the action's owner or the facilitator can mark it done or open.")) from None
        Note.update(done=done, done_at=utcnow() if done else None).where(Note.id == note.id).execute()
        kind = changes.ACTION_DONE if done else changes.ACTION_REOPENED
        also = _elsewhere(note, meeting, kind)
    return Change(kind, meeting.id, meeting.version, actor_id=user.id, topic_id=note.topic_id, note_id=note.id, also=also)


def _elsewhere(note: Note, acting: Meeting, kind: str) -> tuple[Change, ...]:
    """The same change for every other meeting listing the note (its own, those it was carried to), each a version on."""
    carried = CarriedNote.select(CarriedNote.meeting).where(CarriedNote.note == note.id)
    listing = {note.meeting_id} | {c.meeting_id for c in carried}
    others = sorted(listing - {acting.id})
    if not others:
        return ()
    Meeting.update(version=Meeting.version + 1).where(Meeting.id.in_(others)).execute()
    versions = dict(Meeting.select(Meeting.id, Meeting.version).where(Meeting.id.in_(others)).tuples())
    return tuple(Change(kind, m, versions[m], topic_id=note.topic_id, note_id=note.id) for m in others)
