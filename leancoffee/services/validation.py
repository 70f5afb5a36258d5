"""Cleaning of submitted text and numbers, with the messages people see."""

import unicodedata

from leancoffee.services.errors import Invalid


def clean_text(value, label: str, max_length: int, required: bool = True, multiline: bool = False) -> str:
    """Strip and check a submitted string; refuse empty, over-long or control-character text."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(f"{label} must be text.")
    text = value.replace("\r\n", "\n").strip()
    allowed = {"\n", "\t"} if multiline else set()
    for ch in text:
        # U+FFFD is what undecodable (invalid UTF-8) bytes become: refuse rather than store garbage.
        if ch == "\ufffd" or (ch not in allowed and unicodedata.category(ch) in ("Cc", "Cs")):
            raise Invalid(f"{label} contains characters that are not allowed.")
    if required and not text:
        raise Invalid(f"{label} is required.")
    if len(text) > max_length:
        raise Invalid(f"{label} must be at most {max_length} characters (it has {len(text)}).")
    return text


def clean_int(value, label: str, low: int, high: int) -> int:
    """Parse a whole number and check it lies in [low, high]."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise Invalid(f"{label} must be a whole number from {low} to {high}.") from None
    if not low <= number <= high:
        raise Invalid(f"{label} must be from {low} to {high}.")
    return number
