"""What the JSON API says about meetings, boards, people, votes, summaries and series: the pages' rules, as data.

Everything shown comes from the read model (services/board.py, services/summary.py), which already
hides what hidden voting hides; the fields each role may see are decided here and only here.
"""

from datetime import datetime

from leancoffee.models import Meeting, Note, Participant
from leancoffee.services.board import BoardState
from leancoffee.services.series import SeriesPage
from leancoffee.services.summary import Summary, TopicSummary
from leancoffee.services.viewing import TopicView, Viewer
from leancoffee.web.routing import path_for, public_url


def timestamp(moment: datetime | None) -> str | None:
    """A naive UTC time as RFC 3339 (`2024-05-01T09:30:00Z`)."""
    return None if moment is None else moment.replace(microsecond=0).isoformat() + "Z"


def meeting_item(meeting: Meeting, participant: Participant, series_code: str | None) -> dict:
    """One of the caller's meetings, as the list shows it (its series: anyone in one of its meetings may read it)."""
    return {
        **_meeting_fields(meeting),
        "role": participant.role,
        "member": participant.is_active,
        "series": series_ref(series_code),
        "links": _links(meeting),
    }


def _meeting_fields(meeting: Meeting) -> dict:
    """What every answer naming a meeting says of it: code, title, status, phase and times."""
    return {"code": meeting.code, "title": meeting.title, "status": meeting.status, "phase": meeting.phase,
            "created_at": timestamp(meeting.created_at), "started_at": timestamp(meeting.started_at),
            "ended_at": timestamp(meeting.ended_at)}


def _links(meeting: Meeting) -> dict:
    return {
        "board": public_url(path_for("pages.board", code=meeting.code)),
        "summary": public_url(path_for("pages.summary", code=meeting.code)),
        "api": public_url(path_for("api.board", code=meeting.code)),
    }


def series_ref(code: str | None) -> dict | None:
    """A meeting's series as a meeting names it: its code and links (None: no series, or not the caller's to know)."""
    if code is None:
        return None
    return {"code": code, "links": {
        "current": public_url(path_for("pages.series_link", series_code=code)),
        "page": public_url(path_for("pages.series_meetings", series_code=code)),
        "api": public_url(path_for("api.series", series_code=code)),
    }}


def topic_json(topic: TopicView, viewer: Viewer, counts_hidden: bool) -> dict:
    """A topic as any API answer shows it: the one place that decides its author and its count.

    An anonymous topic names nobody: only its author learns it is theirs (`yours`), as the page says "yours".
    """
    yours = viewer.user_id is not None and viewer.user_id == topic.author_id
    return {
        "id": topic.id,
        "title": topic.title,
        "description": topic.description,
        "column": topic.status,
        "author": None if topic.anonymous else topic.author_name,
        "anonymous": topic.anonymous,
        "yours": yours,
        # None while hidden voting keeps counts secret, for everyone (the facilitator included).
        "votes": None if counts_hidden else topic.votes,
        "merged_from": list(topic.merged_from),
    }


def board_json(state: BoardState, viewer: Viewer, series_code: str | None) -> dict:
    """A meeting's board for one member: phase, status, times, its series, the timer and the topics in board order."""
    meeting = state.meeting
    current = state.current_topic
    body = {
        "code": meeting.code,
        "title": meeting.title,
        "status": meeting.status,
        "phase": meeting.phase,
        "version": meeting.version,
        "votes_per_person": meeting.votes_per_person,
        "hidden_voting": meeting.hidden_voting,
        "votes_hidden": state.counts_hidden,
        "created_at": timestamp(meeting.created_at),
        "started_at": timestamp(meeting.started_at),
        "ended_at": timestamp(meeting.ended_at),
        "series": series_ref(series_code),
        "current_topic_id": current.id if current else None,
        "timer": _timer_json(state),
        "columns": [
            {"column": status, "label": label, "topics": [topic_json(t, viewer, state.counts_hidden) for t in topics]}
            for status, label, topics in state.columns(viewer)
        ],
        "links": _links(meeting),
    }
    if state.is_facilitating(viewer):
        # What only the facilitator's page shows: the room screen's link (a credential) and the timeboxes.
        body["facilitator"] = {
            "room_link": public_url(path_for("pages.room_by_link", secret=meeting.room_secret)),
            "timebox_pattern": meeting.timebox_pattern,
        }
    return body


def _timer_json(state: BoardState) -> dict:
    timer = state.timer
    thumbs = state.thumbs_counts() if state.current_topic and timer.round else None
    return {"state": timer.state, "round": timer.round, "remaining_seconds": round(max(0.0, timer.remaining), 1),
            "ends_at": timestamp(timer.ends_at), "expired": timer.expired, "thumbs": thumbs}


def participants_json(state: BoardState, present: set[int], viewer: Viewer) -> dict:
    """The people in the meeting now (those who left are not listed, as on the page), with presence."""
    return {
        "code": state.meeting.code,
        "participants": [
            {"user_id": p.user_id, "name": p.label, "role": p.role,
             "present": p.user_id in present, "you": p.user_id == viewer.user_id, "joined_at": timestamp(p.joined_at)}
            for p in state.participants
        ],
    }


def my_votes_json(state: BoardState, viewer: Viewer) -> dict:
    """The caller's own dots (the page shows a voter theirs even while voting is hidden): never anyone else's."""
    mine = state.my_votes(viewer)
    topics = sorted((state.topics[i] for i in mine if i in state.topics), key=lambda t: t.id)
    return {
        "code": state.meeting.code,
        "votes_per_person": state.meeting.votes_per_person,
        "dots_left": state.dots_left(viewer),
        "voting_open": state.voting_open,
        "topics": [{"id": t.id, "title": t.title} for t in topics],
    }


def action_json(note: Note) -> dict:
    """An action as the summary page shows it: its owner (a participant picked, or a name typed) and whether it is done."""
    return {"id": note.id, "text": note.text, "owner": note.owner_name or None, "done": bool(note.done)}


def summary_json(summary: Summary, state: BoardState, viewer: Viewer, series_code: str | None = None) -> dict:
    """What the meeting produced, topics in the summary's order, each through topic_json; then every action it lists.

    Its series only for the meeting's members, as the summary page links it for them alone.
    """
    meeting = summary.meeting

    def topic(t: TopicSummary) -> dict:
        return {
            **topic_json(state.topics[t.id], viewer, state.counts_hidden),
            "time_spent_seconds": t.seconds,
            "thumbs_rounds": [{"round": r.round, "timebox_seconds": r.timebox_seconds, "up": r.up, "neutral": r.neutral,
                               "down": r.down, "outcome": r.outcome} for r in t.rounds],
            "takeaways": [{"id": n.id, "text": n.text} for n in t.takeaways],
            "actions": [action_json(n) for n in t.actions],
        }

    return {
        "code": meeting.code,
        "title": meeting.title,
        "status": meeting.status,
        "started_at": timestamp(meeting.started_at),
        "ended_at": timestamp(meeting.ended_at),
        "votes_hidden": state.counts_hidden,
        "series": series_ref(series_code if viewer.is_member else None),
        "attendees": list(summary.attendees),
        "discussed": [topic(t) for t in summary.discussed],
        "not_discussed": [topic(t) for t in summary.not_discussed],
        # The page's "All actions": the meeting's own and those carried into it from an earlier meeting of its series.
        "actions": [{**action_json(n), "topic": n.topic_title, "carried": n.carried} for n in summary.actions],
    }


def series_json(page: SeriesPage) -> dict:
    """A series as its page shows it: its meetings (newest first, the current one marked) and its open actions."""
    current = page.current
    return {
        **series_ref(page.series.code),
        "title": current.title,
        "current_meeting": current.code,
        "meetings": [{**_meeting_fields(m), "current": m.id == current.id, "links": _links(m)} for m in page.meetings],
        "open_actions": [{**action_json(n), "topic": n.topic_title, "meeting": n.meeting_code,
                          "since": timestamp(n.created_at)} for n in page.open_actions],
    }
