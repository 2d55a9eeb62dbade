"""Parsing the many shapes of dates the legacy VARCHAR columns hold into ``datetime.date``."""

from __future__ import annotations

import datetime
import re

import numpy as np
import pandas as pd

from quality.standardize.result import (
    NO_ISSUE,
    Outcome,
    Standardized,
    as_series,
    distinct,
    from_arrays,
    from_outcomes,
    with_null_entry,
)
from quality.standardize.text import NULL_STANDINS, clean_value

UNPARSEABLE = "date.unparseable"
IMPOSSIBLE = "date.impossible"
PLACEHOLDER = "date.placeholder"
OUT_OF_RANGE = "date.out_of_range"

#: Years a date of this bureau's records can fall in (the People's Republic to the end of the century).
FIRST_YEAR, LAST_YEAR = 1949, 2100

# Dates that systems write when they have none: MySQL's zero date, Excel's day 0 and day 1, "forever".
PLACEHOLDERS = frozenset({(1900, 1, 1), (1899, 12, 30), (1899, 12, 31), (9999, 12, 31)})

# Excel's 1900 date system counts from 1899-12-31 but wrongly believes 1900 was a leap year (a bug
# kept for Lotus 1-2-3 compatibility), so every serial after 60 is one day ahead: count from 12-30.
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_EXCEL_SERIALS = range(20000, 60001)

# Shapes tried in order of how often they occur, all anchored (fullmatch) and ASCII-only after NFKC.
_TIME = r"(?:[ T][0-9]{1,2}:[0-9]{1,2}(?::[0-9]{1,2}(?:\.[0-9]{1,9})?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
_SHAPES = tuple(
    re.compile(pattern, re.ASCII)
    for pattern in (
        r"(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})" + _TIME,
        r"(?P<y>[0-9]{4}) ?年 ?(?P<m>[0-9]{1,2}) ?月 ?(?P<d>[0-9]{1,2}) ?[日号]?"
        r"(?: ?[0-9]{1,2}[:时][0-9:分秒 ]*)?",
        r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})(?:[0-9]{6})?",
    )
)
_SERIAL = re.compile(r"([0-9]{5})(?:\.[0-9]+)?", re.ASCII)

# The vectorized pass takes the shapes most rows have: plain ISO dates and date-times, no time zone.
_ISO_SHAPE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T][0-9]{2}:[0-9]{2}:[0-9]{2})?"


def _days_in_month(year: int, month: int) -> int:
    # Written out because datetime and calendar refuse year 0, which "0000-03-05" still needs judged.
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def judge_parts(year: int, month: int, day: int) -> Outcome:
    """Turn year, month and day into a date, or say why they are not one."""
    if 0 in (year, month, day) or (year, month, day) in PLACEHOLDERS:
        return None, PLACEHOLDER
    if not (1 <= month <= 12 and day <= _days_in_month(year, month)):
        return None, IMPOSSIBLE
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None, OUT_OF_RANGE
    return datetime.date(year, month, day), None


def _parse_text(text: str) -> Outcome:
    for shape in _SHAPES:
        match = shape.fullmatch(text)
        if match:
            return judge_parts(int(match["y"]), int(match["m"]), int(match["d"]))
    match = _SERIAL.fullmatch(text)
    if match and int(match.group(1)) in _EXCEL_SERIALS:
        return _EXCEL_EPOCH + datetime.timedelta(days=int(match.group(1))), None
    return None, UNPARSEABLE


def parse_date_value(value: object) -> Outcome:
    """Parse one value of any type into a date, with an issue code when it is not a usable date."""
    if isinstance(value, datetime.datetime):  # pandas Timestamps included
        return judge_parts(value.year, value.month, value.day)
    if isinstance(value, datetime.date):
        return judge_parts(value.year, value.month, value.day)
    text = clean_value(value, null_standins=False)
    if text is None or text in NULL_STANDINS:
        return NO_ISSUE
    return _parse_text(text)


def _iso_texts(uniques: pd.Index) -> pd.Series:
    """The distinct values that are plain ISO dates or date-times, on their positions in ``uniques``."""
    texts = pd.Series(uniques, dtype=uniques.dtype)
    texts.index = pd.RangeIndex(len(texts))
    if texts.dtype == object:
        texts = texts[np.fromiter((type(v) is str for v in texts), dtype=bool, count=len(texts))]
    elif not pd.api.types.is_string_dtype(texts.dtype):
        return texts.iloc[:0]
    return texts[texts.str.fullmatch(_ISO_SHAPE).fillna(False).to_numpy(dtype=bool)]


def _fast_pass(uniques: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Parse the common ISO shapes in bulk; return which positions parsed and their dates."""
    done = np.zeros(len(uniques), dtype=bool)
    dates = np.empty(len(uniques), dtype=object)
    if isinstance(uniques, pd.DatetimeIndex):
        parsed = pd.Series(uniques)
    else:
        texts = _iso_texts(uniques)
        parsed = pd.to_datetime(texts, format="ISO8601", errors="coerce")
    # Placeholder years (1899, 1900, 9999) fall outside the range, so the per-value path judges them.
    parsed = parsed[parsed.notna() & parsed.dt.year.between(FIRST_YEAR, LAST_YEAR)]
    positions = parsed.index.to_numpy()
    done[positions] = True
    dates[positions] = parsed.dt.date.to_numpy(dtype=object)
    return done, dates


def parse_date(s: pd.Series) -> Standardized:
    """Parse a date column of any shape into ``datetime.date`` values.

    Handles ``2019-03-05``, ``2019/3/5``, ``20190305``, ``2019.03.05``, ``2019年3月5日``,
    ``2019-03-05 00:00:00`` (or with ``T``), full-width digits and Excel serials 20000–60000 (text or
    number). Empty values and null stand-ins give None without an issue.

    Args:
        s: the column; any dtype, any values.

    Returns:
        Dates or None, with ``date.impossible`` (2019-02-30), ``date.placeholder`` (0000-00-00,
        1900-01-01, 1899-12-30, 9999-12-31), ``date.out_of_range`` (years outside 1949–2100) or
        ``date.unparseable``.
    """
    series = as_series(s)
    found = distinct(series)
    if found is None:
        return from_outcomes([parse_date_value(v) for v in series], series.index)
    codes, uniques = found
    done, values = _fast_pass(uniques)
    issues = np.full(len(uniques), None, dtype=object)
    objects = uniques.to_numpy(dtype=object)
    for i in np.flatnonzero(~done):
        values[i], issues[i] = parse_date_value(objects[i])
    return from_arrays(*with_null_entry(values, issues, NO_ISSUE), codes, series.index)
