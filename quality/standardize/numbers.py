"""Numbers stored as text: counts like '约120人' and quantities like '1,200kg'."""

from __future__ import annotations

import re
from decimal import Decimal, DecimalException

import numpy as np
import pandas as pd

from quality.standardize.result import NO_ISSUE, Outcome, Standardized, standardize_distinct
from quality.standardize.text import NULL_STANDINS, clean_value

UNPARSEABLE = "number.unparseable"
APPROXIMATE = "number.approximate"

# No count or quantity of this bureau's records comes near 10^15; beyond it a value is noise (and a
# text like "1e999999999" would otherwise become a billion-digit integer). Compared as a float, the
# form the value leaves in, so that reading an output again gives the same answer.
_LIMIT = 1e15
# In a number column 0 is a value, not a stand-in for "nothing".
_EMPTY = NULL_STANDINS - {"0"}
# A bare number as a spreadsheet writes it: sign, thousands separators, decimals, exponent.
_PLAIN = re.compile(
    r"[+-]?(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII
)
# A number inside other text, with an optional Chinese multiplier after it (1.2万).
_EMBEDDED = re.compile(r"(?<![0-9.,])([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]+)?\s?(万|千)?", re.ASCII)
_MULTIPLIERS = {"万": 10_000, "千": 1_000}


def _text_number(text: str) -> tuple[Decimal, bool] | None:
    """Read the one number in a text; also tell whether other text surrounded it (约, 余, 人, kg…)."""
    if _PLAIN.fullmatch(text):
        return Decimal(text.replace(",", "")), False
    found = list(_EMBEDDED.finditer(text))
    if len(found) != 1:
        return None  # no digits, or a range such as "100-120人": no single number to take
    match = found[0]
    whole, fraction, multiplier = match.groups()
    number = Decimal(whole.replace(",", "") + (fraction or ""))
    if abs(float(number)) >= _LIMIT:
        return None
    number *= _MULTIPLIERS.get(multiplier or "", 1)
    negative = text[: match.start()].rstrip().endswith("-")
    return (-number if negative else number), True


def _as_decimal(value: object) -> tuple[Decimal, bool] | str | None:
    """A number and whether it was approximate; None for empty; UNPARSEABLE when there is no number."""
    if isinstance(value, bool | np.bool_ | int | np.integer):
        return Decimal(int(value)), False
    if isinstance(value, float | np.floating | Decimal):
        number = Decimal(repr(float(value))) if isinstance(value, float | np.floating) else value
        if number.is_nan():
            return None
        return (number, False) if number.is_finite() else UNPARSEABLE
    text = clean_value(value, null_standins=False)
    if text is None or text in _EMPTY:
        return None
    try:
        return _text_number(text) or UNPARSEABLE
    except DecimalException:
        return UNPARSEABLE


def read_number(value: object, *, allow_negative: bool = False) -> tuple[Decimal | None, str | None]:
    """Read one value as a Decimal, with ``number.approximate`` or ``number.unparseable`` where due."""
    found = _as_decimal(value)
    if found is None:
        return NO_ISSUE
    if isinstance(found, str):
        return None, found
    number, approximate = found
    if (number < 0 and not allow_negative) or abs(float(number)) >= _LIMIT:
        return None, UNPARSEABLE
    return number, APPROXIMATE if approximate else None


def _count_outcome(value: object) -> Outcome:
    number, issue = read_number(value)
    if number is None:
        return None, issue
    if number != number.to_integral_value():
        return None, UNPARSEABLE  # 12.5 people
    return int(number), issue


def _decimal_outcome(value: object, allow_negative: bool) -> Outcome:
    number, issue = read_number(value, allow_negative=allow_negative)
    return (None if number is None else float(number)), issue


def parse_count(s: pd.Series) -> Standardized:
    """Parse a count column (``CYRS``…) into non-negative ints.

    ``'120'``, ``'１２０'``, ``'120.0'`` and ``'1,200'`` read cleanly; ``'约120人'``, ``'120余人'`` or
    ``'1.2万'`` give the number with ``number.approximate``; negative, fractional, ranges and text
    without one number give None with ``number.unparseable``. Empty values give None without an issue.
    """
    return standardize_distinct(s, _count_outcome)


def parse_decimal(s: pd.Series, *, allow_negative: bool = False) -> Standardized:
    """Parse a quantity column (涉氨量, areas, capacities…) into floats.

    ``'1,200kg'`` gives 1200.0 with ``number.approximate`` (a unit or a word around the number); text
    without one number (or a negative one, unless ``allow_negative``) gives None with
    ``number.unparseable``. Empty values give None without an issue.
    """
    return standardize_distinct(s, lambda v: _decimal_outcome(v, allow_negative))
