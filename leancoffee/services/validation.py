"""Cleaning of submitted text and numbers, with the messages people see."""

import unicodedata

from flask_babel import gettext

from leancoffee.services.errors import Invalid

# Embeddings, overrides and isolates reorder what is shown, so a name or title could read differently from what it is.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and symbols that render as nothing: alone they would make a name or topic look empty.
BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u034f\u17b4\u17b5")
# Zero-width (non-)joiners shape scripts and build emoji such as 👩‍💻 when they sit between two visible characters.
JOINERS = frozenset("\u200c\u200d")
# Tag characters after an emoji spell out subdivision flags such as 🏴󠁧󠁢󠁥󠁮󠁧󠁿; CANCEL TAG ends the run.
TAG_FIRST, TAG_CANCEL = 0xE0020, 0xE007F


def is_visible(ch: str) -> bool:
    """Whether a character shows something by itself: not whitespace, a format character, a blank-looking
    glyph, nor a mark (an accent or variation selector shows only on the character before it)."""
    category = unicodedata.category(ch)
    return not ch.isspace() and category != "Cf" and category[0] != "M" and ch not in BLANK_GLYPHS


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "M"


def _is_tag(ch: str) -> bool:
    return TAG_FIRST <= ord(ch) <= TAG_CANCEL


def _shows(ch: str) -> bool:
    """A visible character, or a mark on one (a joiner may follow ❤️'s variation selector)."""
    return is_visible(ch) or _is_mark(ch)


def _tag_run_end(text: str, start: int) -> int:
    """Where the run of tag characters starting at `start` ends (start itself if there is none)."""
    end = start
    while end < len(text) and _is_tag(text[end]):
        end += 1
    return end


def _strip_invisible(text: str) -> str:
    """Drop whitespace and invisible characters from both ends, keeping the marks of the last visible
    character (é as e + U+0301, ❤️ as U+2764 + U+FE0F) and the tags that finish a trailing flag."""
    visible = [i for i, ch in enumerate(text) if is_visible(ch)]
    if not visible:
        return ""
    end = visible[-1] + 1
    while end < len(text) and _is_mark(text[end]):
        end += 1
    return text[visible[0]:_tag_run_end(text, end)]


def _format_characters_allowed(text: str) -> bool:
    """Only joiners between two visible characters and emoji tag sequences may hide inside text."""
    i = 0
    while i < len(text):
        ch = text[i]
        if _is_tag(ch):
            end = _tag_run_end(text, i)
            after_emoji = i > 0 and unicodedata.category(text[i - 1]) == "So" and is_visible(text[i - 1])
            if not (after_emoji and text[end - 1] == chr(TAG_CANCEL)):
                return False
            i = end
            continue
        if unicodedata.category(ch) == "Cf" and not (
            ch in JOINERS and 0 < i < len(text) - 1 and _shows(text[i - 1]) and _shows(text[i + 1])
        ):
            return False
        i += 1
    return True


def clean_text(value, label: str, max_length: int, required: bool = True, multiline: bool = False) -> str:
    """Strip and check a submitted string; refuse empty, invisible, over-long, direction-control or control text."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(gettext("%(label)s must be text.", label=label))
    if any(ch in BIDI_CONTROLS for ch in value):
        raise Invalid(gettext("%(label)s contains text-direction control characters (U+202A–U+202E, U+2066–U+2069), "
                              "which are not allowed.", label=label))
    text = _strip_invisible(value.replace("\r\n", "\n"))
    allowed = {"\n", "\t"} if multiline else set()
    for ch in text:
        # U+FFFD is what undecodable (invalid UTF-8) bytes become: refuse rather than store garbage.
        if ch == "\ufffd" or (ch not in allowed and unicodedata.category(ch) in ("Cc", "Cs")):
            raise Invalid(gettext("%(label)s contains characters that are not allowed.", label=label))
    if not _format_characters_allowed(text):
        raise Invalid(gettext("%(label)s contains invisible characters (such as zero-width spaces) that are not allowed.",
                              label=label))
    if required and not text:
        raise Invalid(gettext("%(label)s is required.", label=label))
    if len(text) > max_length:
        raise Invalid(gettext("%(label)s must be at most %(most)s characters (it has %(length)s).", label=label,
                              most=max_length, length=len(text)))
    return text


def clean_int(value, label: str, low: int, high: int) -> int:
    """Parse a whole number and check it lies in [low, high]."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise Invalid(gettext("%(label)s must be a whole number from %(low)s to %(high)s.", label=label, low=low,
                              high=high)) from None
    if not low <= number <= high:
        raise Invalid(gettext("%(label)s must be from %(low)s to %(high)s.", label=label, low=low, high=high))
    return number


def row_id(value) -> int | None:
    """A database id from a form or a URL (ASCII digits), or None: anything else ("²", "٣", 0, a novel of digits) names no row."""
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = int(text)
    return number if 0 < number < 2**63 else None
