"""Chemicals: CAS registry numbers and the '名称(CAS号)' lists of hazardous-chemical records."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
from stdnum import casrn
from stdnum.exceptions import InvalidChecksum, ValidationError

from quality.standardize.result import NO_ISSUE, Outcome, Standardized, standardize_distinct
from quality.standardize.text import NULL_STANDINS, clean_value, to_text

BAD_CHECK = "cas.bad_check"
INVALID_FORMAT = "cas.invalid_format"

# Dashes of every width and kind clerks paste between the three parts of a CAS number.
_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
_SPACES = re.compile(r"\s+")
_ITEM_SEPARATORS = re.compile(r"[;\r\n\u2028\u2029]+")  # applied after NFKC, which makes ； half-width
# The last bracketed part of an item is its CAS number: names have brackets of their own (氢氧化钠(固体)).
_ITEM = re.compile(r"(?P<name>.*?)\s*\((?P<cas>[^()]*)\)\s*", re.DOTALL)
_CAS_LIKE = re.compile(r"[0-9][0-9\s-]*[0-9]", re.ASCII)


def cas_outcome(value: object) -> Outcome:
    """Standardize one CAS registry number (see ``standardize_cas``)."""
    text = to_text(value)
    if text is None:
        return NO_ISSUE
    compact = _SPACES.sub("", _DASHES.sub("-", unicodedata.normalize("NFKC", text)))
    if compact in NULL_STANDINS:
        return NO_ISSUE
    if not compact.isascii():
        return None, INVALID_FORMAT
    try:
        return casrn.validate(compact), None
    except InvalidChecksum:
        return None, BAD_CHECK
    except ValidationError:
        return None, INVALID_FORMAT


def standardize_cas(s: pd.Series) -> Standardized:
    """Standardize a CAS-number column to ``7664-41-7`` form, checked by python-stdnum.

    Full-width digits and dashes become half-width; a number written without dashes gets them.

    Returns:
        The CAS number, or None with ``cas.bad_check`` or ``cas.invalid_format``. Empty values give None
        without an issue.
    """
    return standardize_distinct(s, cas_outcome)


def _item(text: str) -> tuple[dict[str, str | None], str | None]:
    match = _ITEM.fullmatch(text)
    if not match or not _CAS_LIKE.fullmatch(match["cas"].strip()):
        return {"mc": text, "cas": None}, None
    cas, issue = cas_outcome(match["cas"])
    return {"mc": match["name"] or None, "cas": cas}, issue


def chemical_list_outcome(value: object) -> Outcome:
    """Split one '名称(CAS号);名称(CAS号)' text into items (see ``parse_chemical_list``)."""
    raw = to_text(value)
    if raw is None:
        return NO_ISSUE
    items, first_issue = [], None
    for part in _ITEM_SEPARATORS.split(unicodedata.normalize("NFKC", raw)):
        text = clean_value(part)
        if text is None:
            continue
        item, issue = _item(text)
        items.append(item)
        first_issue = first_issue or issue
    return (items or None), first_issue


def parse_chemical_list(s: pd.Series) -> Standardized:
    """Parse a chemical-list column ('液氨(7664-41-7);硫酸（7664-93-9）') into lists of ``{"mc", "cas"}``.

    Items are separated by ``;`` or ``；`` (or line breaks); the last bracketed part of an item, when it
    looks like a CAS number, is checked as one. An item without one has ``"cas": None``.

    Returns:
        Lists of dicts (each row its own list), or None for empty; the first CAS issue of the row
        (``cas.bad_check``, ``cas.invalid_format``), whose item keeps its name with ``"cas": None``.
    """
    parsed = standardize_distinct(s, chemical_list_outcome)
    # Rows with the same text would share one list object; give each row its own so that a caller
    # editing one record cannot change another.
    copies = [None if v is None else [dict(item) for item in v] for v in parsed.values]
    return Standardized(pd.Series(copies, index=parsed.values.index, dtype=object), parsed.issues)
