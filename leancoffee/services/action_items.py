"""Takeaways and actions as the board shows them: who owns an action, who may change it, which meeting lists it."""

from collections import defaultdict

from peewee import JOIN

from leancoffee.models import ACTION, CarriedNote, Meeting, Note, Participant, Topic


def notes_query():
    """Notes with their topic's title, meeting code, author's and owner's names (as each was in the note's own meeting)."""
    owner, author = Participant.alias(), Participant.alias()
    return (
        Note.select(Note, Topic.title.alias("topic_title"), Meeting.code.alias("meeting_code"),
                    Meeting.title.alias("meeting_title"), owner.name.alias("owner_name_picked"),
                    owner.name_number.alias("owner_number"), owner.user.alias("owner_user_id"),
                    author.name.alias("author_name"), author.name_number.alias("author_number"))
        .join(Topic, on=(Note.topic == Topic.id))
        .switch(Note).join(Meeting, on=(Note.meeting == Meeting.id))
        .switch(Note).join(owner, JOIN.LEFT_OUTER, on=(Note.owner_participant == owner.id))
        .switch(Note).join(author, JOIN.LEFT_OUTER, on=((author.meeting == Note.meeting) & (author.user == Note.author)))
    )


def shaped(notes, meeting_id: int | None = None) -> list[Note]:
    """Each note with the names it shows (a typed owner, or the picked participant's name) and whether it was carried."""
    for note in notes:
        note.owner_name = labelled(note.owner_name_picked, note.owner_number) or note.owner
        note.author_name = labelled(note.author_name, note.author_number) or "someone"
        note.carried = meeting_id is not None and note.meeting_id != meeting_id
    return notes


def labelled(name: str | None, number: int | None) -> str | None:
    """A participant's name as shown everywhere: "Ann", or "Ann (2)" for the second Ann (Participant.label)."""
    return name if name is None or number in (None, 1) else f"{name} ({number})"


def carried_into(meeting_id):
    """Ids of the notes carried into a meeting (Run again)."""
    return CarriedNote.select(CarriedNote.note).where(CarriedNote.meeting == meeting_id)


def load_notes(meeting_id: int) -> tuple[dict[int, list], list]:
    """A meeting's notes by topic, and its action list: those carried into it, then its own, each oldest first."""
    rows = shaped(notes_query().where((Note.meeting == meeting_id) | Note.id.in_(carried_into(meeting_id)))
                   .order_by(Note.created_at, Note.id).objects(), meeting_id)
    by_topic: dict[int, list] = defaultdict(list)
    for note in rows:
        if not note.carried:
            by_topic[note.topic_id].append(note)
    actions = [n for n in rows if n.kind == ACTION]
    return dict(by_topic), sorted(actions, key=lambda n: n.carried, reverse=True)


def open_actions_of(user_id: int) -> list[Note]:
    """"My actions": the open actions a person owns (picked as a participant), across meetings, oldest first."""
    owned = Participant.select(Participant.id).where(Participant.user == user_id)
    rows = shaped(notes_query().where((Note.kind == ACTION) & ~Note.done & Note.owner_participant.in_(owned))
                   .order_by(Note.created_at, Note.id).objects())
    return _with_latest_meeting(rows, user_id)


def _with_latest_meeting(notes: list[Note], user_id: int) -> list[Note]:
    """Each note's `shown_in`: the newest meeting listing it that the person is in (else the note's own meeting)."""
    latest = {}
    if notes:
        theirs = Participant.select(Participant.meeting).where((Participant.user == user_id) & Participant.is_active)
        carried = (CarriedNote.select(CarriedNote.note, Meeting.code).join(Meeting)
                   .where(CarriedNote.note.in_([n.id for n in notes]) & Meeting.id.in_(theirs)).order_by(Meeting.id).tuples())
        latest = dict(carried)
    for note in notes:
        note.shown_in = latest.get(note.id, note.meeting_code)
    return notes


class NoteRules:
    """Who may change a note on a board (mixed into BoardState)."""

    def can_edit_note(self, viewer, note) -> bool:
        """Its author or a facilitator, on the board of any meeting listing it while that meeting is open."""
        return self.can_act(viewer) and (viewer.is_facilitator or note.author_id == viewer.user_id)

    def can_mark_done(self, viewer, note) -> bool:
        """Its owner or a facilitator, also once the meeting is completed (the one change a completed meeting takes)."""
        return (note.kind == ACTION and viewer.is_member and viewer.screen == "board"
                and (viewer.is_facilitator or (note.owner_user_id is not None and note.owner_user_id == viewer.user_id)))
