"""Who facilitates: a facilitator makes any participant a co-facilitator or takes it back; a meeting always keeps one."""

from flask_babel import gettext

from leancoffee.models import FACILITATOR, PARTICIPANT, Meeting, Participant, User
from leancoffee.services import changes
from leancoffee.services.access import PARTICIPANT as MEMBER
from leancoffee.services.access import meeting_write
from leancoffee.services.changes import Change
from leancoffee.services.errors import Conflict, Invalid, NotFound
from leancoffee.services.validation import row_id


def facilitators_in(meeting: Meeting) -> int:
    """How many of the meeting's present members facilitate it."""
    return (Participant.select().where((Participant.meeting == meeting.id) & (Participant.role == FACILITATOR)
                                       & Participant.is_active).count())


def require_another_facilitator(meeting: Meeting, participant: Participant, leaving: str) -> None:
    """Refuse the last facilitator leaving or stepping down: nobody could run the meeting after them."""
    if participant.facilitates and facilitators_in(meeting) <= 1:
        raise Conflict(gettext("A meeting always keeps a facilitator: make someone a co-facilitator before you %(leaving)s. "
                               "Nothing was changed.", leaving=leaving))


def _member(meeting: Meeting, person) -> Participant:
    """The present member named by a form's `person` (a user id), or NotFound."""
    person = row_id(person)
    participant = MEMBER.first(meeting.id, person) if person else None
    if participant is None or not participant.is_active:
        raise NotFound(gettext("That person is not in this meeting (they may have left)."))
    return participant


def set_role(user: User, code, person, role) -> Change:
    """Facilitator: make a participant a co-facilitator, or take it back (from anyone, themselves included)."""
    if role not in (FACILITATOR, PARTICIPANT):
        raise Invalid(gettext("Choose to make someone a co-facilitator or to take it back."))
    with meeting_write(code, user, facilitator=True) as meeting:
        target = _member(meeting, person)
        if target.role == role:
            already = (gettext("%(name)s is already a facilitator. Nothing was changed.",
                               name=target.label) if role == FACILITATOR
                       else gettext("%(name)s is already not a facilitator. Nothing was changed.", name=target.label))
            raise Conflict(already)
        if role == PARTICIPANT:
            leaving = gettext("step down") if target.user_id == user.id else gettext("take it back")
            require_another_facilitator(meeting, target, leaving)
        Participant.update(role=role).where(Participant.id == target.id).execute()
    return Change(changes.ROLE_CHANGED, meeting.id, meeting.version, actor_id=user.id, affected_user_ids=(target.user_id,))
