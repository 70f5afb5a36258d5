"""What a delivery says: a JSON document, or the message Slack, Mattermost or Microsoft Teams (Workflows) shows.

Everything comes from the summary as the API gives it to nobody in particular (services/summary.py through
web/api_json.py): under hidden voting no count, for an anonymous topic no name; links start with PUBLIC_URL.
"""

import json

from flask_babel import gettext, ngettext

from leancoffee.models import Meeting
from leancoffee.services.board import load_board
from leancoffee.services.summary import md_text, summary_of
from leancoffee.services.viewing import Viewer
from leancoffee.web.api_json import summary_json, timestamp
from leancoffee.web.routing import path_for, public_url
from leancoffee.webhooks.tables import MEETING_FINISHED, TOPIC_DISCUSSED

NOBODY = Viewer(None)
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def document(event: str, meeting: Meeting, topic_id: int | None = None) -> dict:
    """The JSON document of an event: the meeting's summary (finished) or one discussed topic with its notes."""
    state = load_board(meeting.id)
    summary = summary_json(summary_of(state), state, NOBODY)
    links = {"board": public_url(path_for("pages.board", code=meeting.code)),
             "summary": public_url(path_for("pages.summary", code=meeting.code))}
    head = {"event": event, "occurred_at": timestamp(state.now)}
    if event == MEETING_FINISHED:
        return {**head, "meeting": {**summary, "links": links}}
    topic = next(t for t in summary["discussed"] + summary["not_discussed"] if t["id"] == topic_id)
    meeting_part = {key: summary[key] for key in ("code", "title", "status", "votes_hidden")}
    return {**head, "meeting": {**meeting_part, "phase": state.meeting.phase, "links": links}, "topic": topic}


def render(fmt: str, doc: dict) -> str:
    """The body sent to a webhook of format `fmt`, from an event's document."""
    if fmt == "json":
        body = doc
    elif fmt == "teams":
        body = teams_message(doc)
    else:
        body = {"text": chat_text(doc, slack_link if fmt == "slack" else markdown_link,
                                  slack_text if fmt == "slack" else chat_md_text)}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def slack_text(text: str) -> str:
    """User text in Slack's mrkdwn: the three characters Slack asks to escape."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str, label: str) -> str:
    return f"<{url}|{slack_text(label).replace('|', '¦')}>"


def chat_md_text(text: str) -> str:
    """User text in Mattermost's Markdown: shown as typed, and no mention (@channel, @all, @someone) a participant typed."""
    return md_text(text).replace("@", "@\u2060")  # a word joiner: the mention no longer parses, the text reads the same


def markdown_link(url: str, label: str) -> str:
    return f"[{chat_md_text(label)}]({url})"


def _topic_line(topic: dict) -> str:
    """“3 votes · 8 min” (no count under hidden voting)."""
    minutes = round(topic["time_spent_seconds"] / 60)
    spent = ngettext("%(num)d minute", "%(num)d minutes", minutes)
    if topic["votes"] is None:
        return spent
    return ngettext("%(num)d vote", "%(num)d votes", topic["votes"]) + " · " + spent


def _action(note: dict, escape) -> str:
    """“Action: text (owner)”, and “✓ done” once it is, as the summary page says it."""
    line = (gettext("Action: %(text)s (%(owner)s)", text=escape(note["text"]), owner=escape(note["owner"])) if note["owner"]
            else gettext("Action: %(text)s", text=escape(note["text"])))
    return (line + " " + gettext("✓ done")) if note["done"] else line


def _notes(topic: dict, escape) -> list[str]:
    return [gettext("Takeaway: %(text)s", text=escape(n["text"])) for n in topic["takeaways"]] + [
        _action(n, escape) for n in topic["actions"]]


def _carried(meeting: dict, escape) -> list[str]:
    """The actions carried into a finished meeting from earlier ones of its series (its summary lists them too)."""
    return [_action(n, escape) for n in meeting["actions"] if n["carried"]]


def chat_text(doc: dict, link, escape) -> str:
    """A chat message in Markdown (Slack's links or standard ones): the title linked, then topics with their notes."""
    meeting = doc["meeting"]
    title = link(meeting["links"]["summary"], meeting["title"])
    if doc["event"] == TOPIC_DISCUSSED:
        topic = doc["topic"]
        lines = [gettext("Discussed in %(meeting)s: *%(topic)s* (%(figures)s)", meeting=title, topic=escape(topic["title"]),
                         figures=_topic_line(topic))]
        return "\n".join(lines + [f"• {line}" for line in _notes(topic, escape)])
    lines = [gettext("Lean Coffee finished: %(meeting)s", meeting=title),
             ngettext("%(num)d topic discussed", "%(num)d topics discussed", len(meeting["discussed"]))
             + " · " + ngettext("%(num)d attendee", "%(num)d attendees", len(meeting["attendees"]))]
    for topic in meeting["discussed"]:
        lines.append(f"• *{escape(topic['title'])}* ({_topic_line(topic)})")
        lines += [f"    ◦ {line}" for line in _notes(topic, escape)]
    carried = _carried(meeting, escape)
    if carried:
        lines += [gettext("Actions from earlier meetings:")] + [f"• {line}" for line in carried]
    return "\n".join(lines)


def _text_block(text: str, **style) -> dict:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def teams_message(doc: dict) -> dict:
    """A Teams Workflows message: one Adaptive Card (1.4) in an attachment, with a button to the summary."""
    meeting = doc["meeting"]
    if doc["event"] == TOPIC_DISCUSSED:
        topic = doc["topic"]
        heading = gettext("Discussed: %(topic)s", topic=md_text(topic["title"]))
        body = [_text_block(heading, size="Medium", weight="Bolder"),
                _text_block(md_text(meeting["title"]) + " · " + _topic_line(topic), isSubtle=True)]
        body += [_text_block("- " + line) for line in _notes(topic, md_text)]
    else:
        body = [_text_block(gettext("Lean Coffee finished: %(meeting)s", meeting=md_text(meeting["title"])),
                            size="Medium", weight="Bolder"),
                _text_block(ngettext("%(num)d topic discussed", "%(num)d topics discussed", len(meeting["discussed"])),
                            isSubtle=True)]
        for topic in meeting["discussed"]:
            body.append(_text_block(f"**{md_text(topic['title'])}** ({_topic_line(topic)})"))
            body += [_text_block("- " + line) for line in _notes(topic, md_text)]
        carried = _carried(meeting, md_text)
        if carried:
            body += [_text_block(f"**{gettext('Actions from earlier meetings:')}**")]
            body += [_text_block("- " + line) for line in carried]
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
            "body": body,
            "actions": [{"type": "Action.OpenUrl", "title": gettext("Open the summary"), "url": meeting["links"]["summary"]}]}
    return {"type": "message", "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}]}
