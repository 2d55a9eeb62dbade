"""Cleaning free text: width, invisible characters, line breaks, white space and null stand-ins."""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import Decimal

import numpy as np
import pandas as pd

from quality.standardize.result import NO_ISSUE, Outcome, Standardized, is_null, standardize_distinct

#: Values the legacy system's clerks typed for "nothing"; they mean missing, after cleaning.
NULL_STANDINS: frozenset[str] = frozenset({"", "无", "/", "-", "--", "暂无", "NULL", "null", "0"})

CONTROL_CHARS = "text.control_chars"

# C0 and C1 controls and DEL, except tab, CR and LF (those are white space / line breaks). Lone
# surrogates are here too: they cannot be encoded as UTF-8, so no database or Arrow file could take them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u2060"))
# A line break inside a name or address is a wrap in the legacy form, not a word gap: join without space.
_LINE_BREAK = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")
_SPACES = re.compile(r"\s+")

_TRUE = frozenset({"Y", "YES", "T", "TRUE", "1", "是"})
_FALSE = frozenset({"N", "NO", "F", "FALSE", "0", "否"})


def to_text(value: object) -> str | None:
    """Render any scalar as text the way a clerk would have typed it; None for missing.

    Whole numbers lose their ``.0`` (numeric columns hold codes and counts too), dates are ISO.
    """
    if isinstance(value, str):
        return value
    if is_null(value):
        return None
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    if isinstance(value, Decimal):
        return str(int(value)) if value.is_finite() and value == value.to_integral_value() else str(value)
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    try:
        return str(value)
    except Exception:
        return None


def _already_clean(text: str) -> bool:
    # isprintable() is False for controls, zero-width and format characters and every space but
    # U+0020, so this cheap C-level test lets most values skip the regular expressions.
    return (
        text.isprintable()
        and "  " not in text
        and text == text.strip()
        and unicodedata.is_normalized("NFKC", text)
    )


def _clean_once(text: str) -> str:
    text = _CONTROL.sub("", text).translate(_ZERO_WIDTH)
    text = unicodedata.normalize("NFKC", text)
    text = _LINE_BREAK.sub("", text)
    return _SPACES.sub(" ", text).strip()


def clean_with_flag(text: str) -> tuple[str, bool]:
    """Clean one string; also tell whether control characters were removed."""
    if _already_clean(text):
        return text, False
    had_controls = _CONTROL.search(text) is not None
    # Removing characters can bring a base letter next to a combining mark that NFKC then
    # composes, so repeat until nothing changes: cleaning must be idempotent.
    for _ in range(4):
        cleaned = _clean_once(text)
        if cleaned == text:
            break
        text = cleaned
    return text, had_controls


def clean_value(value: object, *, null_standins: bool = True) -> str | None:
    """Clean one value as ``clean_text`` does; None for missing and (optionally) for null stand-ins."""
    text = to_text(value)
    if text is None:
        return None
    text, _ = clean_with_flag(text)
    if text == "" or (null_standins and text in NULL_STANDINS):
        return None
    return text


def _clean_outcome(value: object, null_standins: bool) -> Outcome:
    text = to_text(value)
    if text is None:
        return NO_ISSUE
    text, had_controls = clean_with_flag(text)
    issue = CONTROL_CHARS if had_controls else None
    if text == "" or (null_standins and text in NULL_STANDINS):
        return None, issue
    return text, issue


def clean_text(s: pd.Series, *, null_standins: bool = True) -> Standardized:
    """Clean a text column: half-width, no invisible characters, one space between words, stripped.

    Full-width letters, digits and punctuation become half-width (NFKC), zero-width characters and
    controls are removed (controls other than tab, CR and LF raise ``text.control_chars``), line
    breaks inside a value are joined without a space, and runs of white space (U+3000 included)
    become one space.

    Args:
        s: the column; any dtype, any values.
        null_standins: when true, the stand-ins in ``NULL_STANDINS`` (``'无'``, ``'/'``, ``'0'``…)
            become None without an issue; ``''`` always does.

    Returns:
        Cleaned strings (or None), with ``text.control_chars`` where controls were removed.
    """
    return standardize_distinct(s, lambda v: _clean_outcome(v, null_standins))


def _flag_outcome(value: object) -> Outcome:
    text = clean_value(value, null_standins=False)
    if text is None:
        return NO_ISSUE
    key = text.upper()
    if key in _TRUE:
        return True, None
    if key in _FALSE:
        return False, None
    if text in NULL_STANDINS:
        return NO_ISSUE
    return None, "code.unknown"


def parse_flag(s: pd.Series) -> Standardized:
    """Parse a yes/no column: Y/N, 1/0, 是/否, true/false to bool; empty to None; others ``code.unknown``."""
    return standardize_distinct(s, _flag_outcome)
