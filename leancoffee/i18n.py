"""The team's language and the viewer's time zone: who reads which, and how dates and times show to them."""

from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime
from flask import has_request_context, request
from flask_babel import Babel, force_locale, get_locale, gettext

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
# Each language the interface speaks, named in itself (the switch shows a language as its readers call it).
LANGUAGES = {"en": "English", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "lang"
# Set by static/timezone.js to the browser's zone (an IANA name such as Europe/Berlin).
TIMEZONE_COOKIE = "tz"
COOKIE_MAX_AGE = 60 * 60 * 24 * 365
# Babel date patterns (CLDR): the date alone, and date and time, in the reader's language's order.
DATE_FORMAT = "medium"
DATETIME_FORMAT = "medium"

babel = Babel()


def request_language() -> str:
    """The language of this request: the switch's cookie if it names one we speak, else the browser's Accept-Language."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)


def request_timezone() -> ZoneInfo | None:
    """The browser's zone as its cookie names it; None (times say "UTC") without one, or for a name zoneinfo does not know."""
    if not has_request_context():
        return None
    return zone_named(request.cookies.get(TIMEZONE_COOKIE))


def zone_named(name: str | None) -> ZoneInfo | None:
    """The zone with this IANA name, or None for anything else (empty, a path, a name no zone has)."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def current_language() -> str:
    """The language being rendered now (a request's, or the one a fragment is rendered in)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


@contextmanager
def rendering_in(language: str):
    """Render what follows in this language (fragments pushed to screens that read it), whatever the request's."""
    with force_locale(language if language in LANGUAGES else DEFAULT_LANGUAGE):
        yield


def local_datetime(moment: datetime | None, with_time: bool = True) -> str:
    """A stored UTC moment as the viewer reads it: in their zone, or marked "UTC" when the browser has not said its zone."""
    if moment is None:
        return ""
    zone = request_timezone()
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    fmt = DATETIME_FORMAT if with_time else DATE_FORMAT
    if not with_time:
        return format_date(aware.astimezone(zone or UTC), fmt, locale=get_locale())
    text = format_datetime(aware, fmt, tzinfo=zone or UTC, locale=get_locale())
    return text if zone is not None else gettext("%(moment)s UTC", moment=text)


def iso_local(moment: datetime | None) -> str:
    """A stored UTC moment as ISO 8601 with the viewer's offset (machine-readable exports), UTC without a zone."""
    if moment is None:
        return ""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(request_timezone() or UTC).replace(microsecond=0).isoformat()


def script_text() -> dict[str, str]:
    """What static/board.js and confirm.js say or show, in the page's language; {name} marks what the script fills in."""
    return {
        "reconnected": gettext("Reconnected. The board is up to date."),
        "signedOut": gettext("Signed out. Reload the page to continue."),
        "stopped": gettext("Live updates stopped. Reload the page to catch up."),
        "reconnecting": gettext("Reconnecting…"),
        "connectionLost": gettext("Connection lost. Reconnecting…"),
        "newTopic": gettext("New topic: %(title)s", title="{title}"),
        "phase": gettext("Phase: %(phase)s", phase="{phase}"),
        "timeUp": gettext("Time is up."),
        "thumbsVote": gettext("Thumbs vote: continue, neutral or move on?"),
        "timeUpTitle": gettext("Time is up · %(title)s", title="{title}"),
        "chimeOn": gettext("Chime on: you will hear when time is up."),
        "chimeOff": gettext("Chime off."),
        "notSent": gettext("Not sent — tap again"),
        "copied": gettext("Copied"),
        "selected": gettext("Selected: copy it"),
        "linkCopied": gettext("Link copied."),
        "linkSelected": gettext("The link is selected: copy it with your device's copy command."),
        "oneMinute": gettext("1 minute left."),
        "cancel": gettext("Cancel"),
    }


def init_app(app) -> None:
    """Flask-Babel with our catalogs and language choice; date filters for templates."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=request_language)
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them
    app.jinja_env.filters.update(local_datetime=local_datetime, local_date=lambda m: local_datetime(m, with_time=False))
    app.jinja_env.globals.update(languages=LANGUAGES, current_language=current_language, script_text=script_text)
