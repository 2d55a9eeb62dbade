"""Phone numbers: mobiles and landlines, several to a field, normalized to one format."""

from __future__ import annotations

import re

import pandas as pd

from quality.standardize.result import NO_ISSUE, Outcome, Standardized, standardize_distinct
from quality.standardize.text import clean_value

INVALID = "phone.invalid"

#: What every normalized number matches.
PHONE_FORMAT = re.compile(r"(1[3-9][0-9]{9}|0[0-9]{2,3}-[0-9]{7,8})", re.ASCII)

#: Changzhou's area code, for local numbers written without one.
LOCAL_AREA_CODE = "0519"

_SEPARATORS = re.compile(r"[/、;,]+")  # full-width ；，／ are half-width after cleaning
_COUNTRY_PREFIX = re.compile(r"(?:\+|00)\s*86[\s-]*|86[\s-]+", re.ASCII)
_PUNCTUATION = re.compile(r"[\s\-()]+")
_MOBILE = re.compile(r"(?:86)?(1[3-9][0-9]{9})", re.ASCII)
# Somewhere inside a longer text ("13912345678(张经理)"): a mobile, or a landline with its area code.
_EMBEDDED = re.compile(
    r"(?<![0-9])(?:1[3-9][0-9]{9}|\(?0[0-9]{2,3}\)?[\s-]?[2-9][0-9]{6,7})(?![0-9])", re.ASCII
)


def _area_code_length(digits: str) -> int:
    # Chinese area codes: 010 and 020–029 have three digits, all the others four.
    return 3 if digits[1] in "12" else 4


def normalize_number(text: str) -> str | None:
    """Normalize one phone number to ``13912345678`` or ``0519-88881234``; None when it is not one."""
    rest = text.strip()
    international = _COUNTRY_PREFIX.match(rest)
    if international:
        rest = rest[international.end() :]
    digits = _PUNCTUATION.sub("", rest)
    if not (digits.isascii() and digits.isdigit()):
        return None
    mobile = _MOBILE.fullmatch(digits)
    if mobile:
        return mobile.group(1)
    if international and not digits.startswith("0"):
        digits = "0" + digits  # +86 519 88881234: the trunk 0 is dropped after a country code
    if digits.startswith("0") and len(digits) > 4:
        area_length = _area_code_length(digits)
        area, local = digits[:area_length], digits[area_length:]
    elif not international:
        area, local = LOCAL_AREA_CODE, digits
    else:
        return None
    if 7 <= len(local) <= 8 and local[0] not in "01":
        return f"{area}-{local}"
    return None


def _numbers_in_piece(piece: str) -> tuple[list[str], bool]:
    """Read the numbers of one separator-free piece; also tell whether any of it could not be read."""
    whole = normalize_number(piece)
    if whole:
        return [whole], False
    # White space may separate two numbers or sit inside one (139 1234 5678): take the longest run of
    # tokens that reads as a number, then go on after it.
    tokens, found, start = piece.split(), [], 0
    while start < len(tokens):
        for end in range(len(tokens), start, -1):
            number = normalize_number(" ".join(tokens[start:end]))
            if number:
                found.append(number)
                start = end
                break
        else:
            break
    if start == len(tokens):
        return found, False
    embedded = [n for m in _EMBEDDED.findall(piece) if (n := normalize_number(m))]
    return found or embedded, True


def phone_outcome(value: object) -> Outcome:
    """Standardize one phone field (see ``standardize_phone``)."""
    text = clean_value(value)
    if text is None:
        return NO_ISSUE
    numbers: list[str] = []
    unreadable = False
    for piece in _SEPARATORS.split(text):
        if not piece.strip():
            continue
        found, rest_unreadable = _numbers_in_piece(piece)
        numbers += [n for n in found if n not in numbers]
        unreadable = unreadable or rest_unreadable
    if not numbers:
        return None, INVALID
    return ";".join(numbers), INVALID if unreadable else None


def standardize_phone(s: pd.Series) -> Standardized:
    """Standardize a phone column: every number normalized, several joined by ``;`` (the first is primary).

    Numbers may be separated by ``/``, ``、``, ``;``, ``,`` (half- or full-width) or white space.
    Mobiles lose their +86 / 0086 / 86 prefix; landlines become ``0519-88881234`` (from
    ``(0519)88881234``, ``0519 88881234`` or ``051988881234``); a 7–8 digit local number gets
    Changzhou's ``0519``.

    Args:
        s: the column; any dtype, any values.

    Returns:
        The numbers, each matching ``PHONE_FORMAT``; ``phone.invalid`` (a warning) when nothing could be
        read (value None) or when part of the field could not (the numbers found are kept). Empty values
        give None without an issue.
    """
    return standardize_distinct(s, phone_outcome)
