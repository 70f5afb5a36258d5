"""Meeting series: Run again starts the next meeting of a series; the series' stable link, its meetings and open actions."""

import secrets
from dataclasses import dataclass

from flask_babel import gettext, lazy_gettext

from leancoffee.models import (
    ACTION,
    COMPLETED,
    FACILITATOR,
    TO_DISCUSS,
    CarriedNote,
    Meeting,
    Note,
    Participant,
    Series,
    Topic,
    User,
)
from leancoffee.services import changes
from leancoffee.services.access import meeting_write
from leancoffee.services.action_items import carried_into, notes_query, shaped
from leancoffee.services.changes import Change
from leancoffee.services.errors import Conflict, NotFound
from leancoffee.services.meetings import new_meeting_code

NO_SUCH_SERIES = lazy_gettext("No series of meetings has this link. Check the address you were given.")


def series_of(meeting: Meeting) -> Series | None:
    return Series.get_or_none(Series.id == meeting.series_id) if meeting.series_id else None


def current_meeting(series: Series) -> Meeting:
    """The newest meeting of a series: where its stable link leads."""
    return Meeting.select().where(Meeting.series == series.id).order_by(Meeting.id.desc()).get()


def find_series(code) -> Series:
    """The series with this link code, or NotFound."""
    series = Series.get_or_none(Series.code == str(code)[:32])
    if series is None:
        raise NotFound(NO_SUCH_SERIES)
    return series


def _carried_topic(topic: Topic, meeting_id: int) -> dict:
    """A topic not discussed, as it comes along: its text, author and anonymity kept, its votes left behind."""
    return {"meeting": meeting_id, "author": topic.author_id, "title": topic.title, "description": topic.description,
            "anonymous": topic.anonymous}


def run_again(user: User, code) -> tuple[Change, Meeting]:
    """A facilitator starts the next meeting of a finished meeting's series: same settings and facilitators
    (those present with the role, the one who pressed among them), its topics not discussed (votes reset) and its
    open actions (the same rows) come along."""
    with meeting_write(code, user, facilitator=True, open_only=False) as meeting:
        if meeting.status != COMPLETED:
            raise Conflict(gettext("Finish this meeting first: Run again starts the next one from a finished meeting."))
        series = series_of(meeting) or Series.create(code=secrets.token_urlsafe(9))
        if meeting.series_id and current_meeting(series).id != meeting.id:
            raise Conflict(gettext("This meeting was already run again: its series goes on in a newer meeting."))
        Meeting.update(series=series.id).where(Meeting.id == meeting.id).execute()
        following = Meeting.create(
            code=new_meeting_code(), title=meeting.title, votes_per_person=meeting.votes_per_person,
            hidden_voting=meeting.hidden_voting, timebox_pattern=meeting.timebox_pattern, show_authors=meeting.show_authors,
            private_writing=meeting.private_writing, facilitator=user.id, series=series.id,
            collecting_seconds=meeting.collecting_seconds, voting_seconds=meeting.voting_seconds,
            planned_minutes=meeting.planned_minutes,
        )
        # Exactly the facilitators present at the end: one who stepped down or left does not come back with the role.
        # The creator field names the one who pressed, one of them: joining gives the creator the role (meetings.py).
        hosts = Participant.select().where((Participant.meeting == meeting.id) & (Participant.role == FACILITATOR)
                                           & Participant.is_active).order_by(Participant.id)
        for host in hosts:  # their names and numbers were told apart in this meeting, so they are in the next
            Participant.create(meeting=following.id, user=host.user_id, name=host.name, name_number=host.name_number,
                               role=FACILITATOR)
        waiting = Topic.select().where((Topic.meeting == meeting.id) & (Topic.status == TO_DISCUSS)
                                       & Topic.first_discussed_at.is_null()).order_by(Topic.created_at, Topic.id)
        for topic in waiting:
            Topic.create(**_carried_topic(topic, following.id))
        still_open = Note.select(Note.id).where(
            (Note.kind == ACTION) & ~Note.done & ((Note.meeting == meeting.id) | Note.id.in_(carried_into(meeting.id))))
        CarriedNote.insert_many([(following.id, n.id) for n in still_open],
                                fields=[CarriedNote.meeting, CarriedNote.note]).execute()
    return Change(changes.RUN_AGAIN, meeting.id, meeting.version, actor_id=user.id), following


@dataclass
class SeriesPage:
    """A series as its page shows it: its meetings, newest first, and its open actions."""

    series: Series
    meetings: list[Meeting]
    open_actions: list[Note]

    @property
    def current(self) -> Meeting:
        return self.meetings[0]


def series_page(code, user: User | None) -> SeriesPage:
    """Read a series for someone in one of its meetings: every meeting (newest first) and every open action."""
    series = find_series(code)
    meetings = list(Meeting.select().where(Meeting.series == series.id).order_by(Meeting.id.desc()))
    ids = [m.id for m in meetings]
    if user is None or not Participant.select().where((Participant.user == user.id) & Participant.meeting.in_(ids)).exists():
        raise NotFound(NO_SUCH_SERIES)  # the same words as no series at all: a link tells a stranger nothing
    actions = shaped(notes_query().where((Note.kind == ACTION) & ~Note.done & Note.meeting.in_(ids))
                      .order_by(Note.created_at, Note.id).objects())
    return SeriesPage(series=series, meetings=meetings, open_actions=actions)


@dataclass
class SeriesPlace:
    """Where a meeting stands in its series: what its summary links to, and whether it may be run again."""

    series: Series | None
    current: Meeting

    @property
    def is_current(self) -> bool:
        return self.series is None or self.current.id == self.meeting_id

    meeting_id: int = 0


def place_of(meeting: Meeting) -> SeriesPlace:
    """The meeting's series (None before it is run again) and the series' current meeting."""
    series = series_of(meeting)
    return SeriesPlace(series=series, current=current_meeting(series) if series else meeting, meeting_id=meeting.id)


def series_codes(meetings: list[Meeting]) -> dict[int, str]:
    """The series code of each meeting that belongs to a series, by meeting id: one query for a whole page of meetings."""
    ids = {m.series_id for m in meetings if m.series_id}
    codes = dict(Series.select(Series.id, Series.code).where(Series.id.in_(ids)).tuples()) if ids else {}
    return {m.id: codes[m.series_id] for m in meetings if m.series_id in codes}
