"""Meetings and their participants: create, join, leave, change status."""

import re
import secrets

from flask_babel import gettext, lazy_gettext
from peewee import fn

from leancoffee.db import db
from leancoffee.models import (
    COLLECTING,
    COMPLETED,
    DEFAULT_TIMEBOX,
    DISCUSSED,
    DISCUSSING_PHASE,
    DONE,
    FACILITATOR,
    IN_PROGRESS,
    MEETING_STATUSES,
    MEETING_TITLE_MAX,
    NAME_MAX,
    PARTICIPANT,
    PLANNED,
    TO_DISCUSS,
    VOTES_MAX,
    VOTES_MIN,
    Meeting,
    Participant,
    User,
    utcnow,
)
from leancoffee.services import changes, outbox, quotas
from leancoffee.services.access import begin_change, meeting_write, membership, require_member, require_open
from leancoffee.services.changes import Change
from leancoffee.services.errors import Conflict, Invalid
from leancoffee.services.roles import require_another_facilitator
from leancoffee.services.timebox import format_pattern, parse_pattern
from leancoffee.services.topics import end_discussion, expected_state, require_expected, reveal_all
from leancoffee.services.validation import clean_int, clean_text

STATUS_LABELS = {"planned": lazy_gettext("Planned"), "in_progress": lazy_gettext("In progress"),
                 "completed": lazy_gettext("Completed")}


def my_meetings(user: User | None) -> list[Meeting]:
    """Meetings this user created or joined, newest first, each with the user's role in it (`my_role`)."""
    if user is None:
        return []
    mine = (Participant.meeting == Meeting.id) & (Participant.user == user.id)
    return list(Meeting.select(Meeting, Participant.role.alias("my_role")).join(Participant, on=mine)
                .order_by(Meeting.created_at.desc(), Meeting.id.desc()).objects())


# A name typed with a number, like "Ann (2)": its label is also the second Ann's.
NUMBERED = re.compile(r"(.*) \([1-9][0-9]*\)", re.DOTALL)


def _may_share_label(name: str):
    """Who could show a label this name may get ("Ann", "Ann (2)"…): namesakes, names typed with a number after this
    one ("Ann (2)"), and, for a name typed with one, those of the name before it ("Ann" for "Ann (2)")."""
    prefix = f"{name} ("
    rows = (Participant.name == name) | (fn.SUBSTR(Participant.name, 1, len(prefix)) == prefix)
    typed = NUMBERED.fullmatch(name)
    return rows | (Participant.name == typed[1]) if typed else rows


def name_number(meeting_id: int, name: str, participant_id: int | None = None) -> int:
    """The number that tells this name apart in the meeting: 1 for the first to join with it, then 2, 3…, skipping
    any whose label someone else shows already (a typed "Ann (2)"), so no two people of a meeting look the same."""
    others = list(Participant.select(Participant.name, Participant.name_number).where(
        (Participant.meeting == meeting_id) & (Participant.id != (participant_id or 0)) & _may_share_label(name)))
    taken = {p.label for p in others}
    number = max((p.name_number for p in others if p.name == name), default=0) + 1
    while Participant(name=name, name_number=number).label in taken:
        number += 1
    return number


def my_meetings_page(user: User, offset: int, limit: int) -> tuple[list[tuple[Meeting, Participant]], int]:
    """One page of the meetings this user created or joined, newest first, each with their membership; and how many in all."""
    mine = (Meeting.select(Meeting, Participant).join(Participant, on=(Participant.meeting == Meeting.id), attr="membership")
            .where(Participant.user == user.id))
    rows = mine.order_by(Meeting.created_at.desc(), Meeting.id.desc()).offset(offset).limit(limit)
    return [(m, m.membership) for m in rows], mine.count()


def new_meeting_code() -> str:
    """An unguessable link code (72 random bits, URL-safe)."""
    return secrets.token_urlsafe(9)


def create_user(name) -> User:
    """A new browser identity with a display name."""
    name = clean_text(name, gettext("Your name"), NAME_MAX)
    with db.atomic():
        return User.create(name=name)


def create_meeting(
    user: User | None, title, votes_per_person, facilitator_name=None, hidden_voting=False, timebox_pattern=None
) -> Meeting:
    """Open a meeting with the user (a new one, made in the same transaction, when None) as its facilitator."""
    title = clean_text(title, gettext("Meeting title"), MEETING_TITLE_MAX)
    pattern = format_pattern(parse_pattern(timebox_pattern)) if timebox_pattern else DEFAULT_TIMEBOX
    votes = clean_int(votes_per_person if votes_per_person not in (None, "") else 3, gettext("Votes per person"),
                      VOTES_MIN, VOTES_MAX)
    name = clean_text(facilitator_name, gettext("Your name"), NAME_MAX) if facilitator_name or user is None else user.name
    with db.atomic():
        if user is None:
            user = User.create(name=name)
        meeting = Meeting.create(
            code=new_meeting_code(), title=title, votes_per_person=votes, facilitator=user,
            hidden_voting=bool(hidden_voting), timebox_pattern=pattern,
        )
        Participant.create(meeting=meeting, user=user.id, name=name, role=FACILITATOR)
        if name != user.name:
            User.update(name=name).where(User.id == user.id).execute()
    return meeting


def require_joinable(meeting: Meeting, user: User | None) -> None:
    """Refuse joining or rejoining a completed meeting: its attendees are final."""
    if meeting.status == COMPLETED:
        again = membership(meeting, user) is not None
        raise Conflict(gettext("This meeting has ended, so it can no longer be rejoined.") if again
                       else gettext("This meeting has ended, so it can no longer be joined."))


def join_meeting(user: User, code, name) -> Change:
    """Add the user to the meeting, or reactivate them if they had left (seed: JoinSession)."""
    name = clean_text(name, gettext("Your name"), NAME_MAX)
    with db.atomic():
        meeting = begin_change(code)
        require_joinable(meeting, user)
        participant = membership(meeting, user)
        if participant is None:
            quotas.require_seat(meeting)
            role = FACILITATOR if meeting.facilitator_id == user.id else PARTICIPANT
            Participant.create(meeting=meeting, user=user.id, name=name, role=role, name_number=name_number(meeting.id, name))
        else:
            # The same name keeps its number (stable for the meeting); a new name is numbered among its namesakes.
            number = participant.name_number if name == participant.name else name_number(meeting.id, name, participant.id)
            Participant.update(name=name, name_number=number, is_active=True, left_at=None).where(
                Participant.id == participant.id).execute()
        User.update(name=name).where(User.id == user.id).execute()
    return Change(changes.PARTICIPANT_JOINED, meeting.id, meeting.version, actor_id=user.id)


def leave_meeting(user: User, code) -> Change:
    """Mark the user inactive in the meeting, with the time they left (seed: LeaveSession)."""
    with db.atomic():
        meeting = begin_change(code)
        participant = require_member(meeting, user)
        if meeting.status == COMPLETED:
            raise Conflict(gettext("This meeting has ended: its list of attendees is final, so you cannot leave it now."))
        require_another_facilitator(meeting, participant, gettext("leave"))
        Participant.update(is_active=False, left_at=utcnow()).where(Participant.id == participant.id).execute()
    return Change(changes.PARTICIPANT_LEFT, meeting.id, meeting.version, actor_id=user.id)


def status_fields(meeting: Meeting, status: str, now) -> dict:
    """Columns for a status change: start and end times are recorded on the first transition to each."""
    fields = {Meeting.status: status}
    if status == IN_PROGRESS and meeting.started_at is None:
        fields[Meeting.started_at] = now
    if status == COMPLETED and meeting.ended_at is None:
        fields[Meeting.ended_at] = now
    return fields


def change_meeting_status(user: User, code, status, *, expected=None) -> Change:
    """Facilitator moves the meeting between statuses (seed: ChangeSessionStatus); `expected` is the status left."""
    if status not in MEETING_STATUSES:
        raise Invalid(gettext("Unknown meeting status."))
    # Not open_only: moving a completed meeting back is how it reopens (and all it may do).
    with meeting_write(code, user, facilitator=True, open_only=False) as meeting:
        require_expected(expected, expected_state("status", meeting), f"it is {STATUS_LABELS[meeting.status].lower()} now")
        if status == COMPLETED:
            require_open(meeting)
        now = utcnow()
        fields = status_fields(meeting, status, now)
        # Planned is collecting, completed is done, reopening a finished meeting resumes discussing.
        if status == PLANNED:
            fields[Meeting.phase] = COLLECTING
        elif status == COMPLETED:
            fields[Meeting.phase] = DONE
        elif meeting.phase == DONE:
            fields[Meeting.phase] = DISCUSSING_PHASE
        # The same as the phase steps: Done closes the discussion (its time kept), going back undoes it.
        if status == COMPLETED:
            reveal_all(meeting)  # a finished meeting keeps nothing private: its summary lists every topic
        if status == COMPLETED:
            end_discussion(meeting, DISCUSSED, now)
        elif status == PLANNED and meeting.phase != COLLECTING:
            end_discussion(meeting, TO_DISCUSS, now)  # and the voting timebox, if one runs, ends
        Meeting.update(fields).where(Meeting.id == meeting.id).execute()
        if status == COMPLETED:
            outbox.tell(outbox.MEETING_FINISHED, meeting)
    return Change(changes.SESSION_STATUS_CHANGED, meeting.id, meeting.version, actor_id=user.id)
