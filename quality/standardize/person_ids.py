"""Resident identity numbers (GB 11643) and the masks that keep personal data out of logs and reports."""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from collections.abc import Callable

import pandas as pd
from stdnum import numdb
from stdnum.cn import ric

from quality.standardize.result import NO_ISSUE, Outcome, Standardized, standardize_distinct
from quality.standardize.text import NULL_STANDINS, to_text

INVALID_FORMAT = "id.invalid_format"
BAD_CHECK = "id.bad_check"
BAD_BIRTH_DATE = "id.bad_birth_date"
UNKNOWN_ADDRESS = "id.unknown_address"

# Nobody alive was born before this; a year like 0190 is a typo, not a birth.
_FIRST_BIRTH_YEAR = 1850
_SECOND_GENERATION = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_FIRST_GENERATION = re.compile(r"[0-9]{15}", re.ASCII)
_SPACES = re.compile(r"[\s\u200b-\u200d\ufeff\u2060]+")


@functools.cache
def address_code_ever_existed(code: str) -> bool:
    """Tell whether a six-digit address code was a GB/T 2260 code at any time (python-stdnum's county list).

    ``stdnum.cn.ric.is_valid`` also demands the code be current in the birth year, which refuses real
    people whose county was renamed before they were born but whose number was issued earlier (a
    1980-born person from 金坛 holds 320482, a code of 1993–2015), so the same database is read here
    without the year test.
    """
    info = numdb.get("cn/loc").info(code)
    return any("county" in props for _, props in info)


def _birth_date(number18: str) -> datetime.date | None:
    try:
        born = datetime.date(int(number18[6:10]), int(number18[10:12]), int(number18[12:14]))
    except ValueError:
        return None
    if born.year < _FIRST_BIRTH_YEAR or born > datetime.date.today():
        return None
    return born


def _upgrade_first_generation(number15: str) -> str:
    # stdnum's calc_check_digit expects the check position present and ignores it: pass a placeholder.
    number17 = number15[:6] + "19" + number15[6:]
    return number17 + ric.calc_check_digit(number17 + "0")


def resident_id_outcome(value: object) -> Outcome:
    """Standardize one resident identity number (see ``standardize_resident_id``)."""
    text = to_text(value)
    if text is None:
        return NO_ISSUE
    number = _SPACES.sub("", unicodedata.normalize("NFKC", text)).upper()
    if number in NULL_STANDINS:
        return NO_ISSUE
    if _FIRST_GENERATION.fullmatch(number):
        number = _upgrade_first_generation(number)
    elif not _SECOND_GENERATION.fullmatch(number):
        return None, INVALID_FORMAT
    elif number[-1] != ric.calc_check_digit(number):
        return None, BAD_CHECK
    if _birth_date(number) is None:
        return None, BAD_BIRTH_DATE
    if not address_code_ever_existed(number[:6]):
        return None, UNKNOWN_ADDRESS
    return number, None


def standardize_resident_id(s: pd.Series) -> Standardized:
    """Standardize a resident-ID column (``SFZH``) to valid 18-character GB 11643 numbers.

    Spaces go, ``x`` becomes ``X``, full-width digits become half-width, and 15-digit first-generation
    numbers are converted (``19`` inserted before the year, check digit appended).

    Args:
        s: the column; any dtype, any values.

    Returns:
        The 18-character number, or None with ``id.invalid_format``, ``id.bad_check``,
        ``id.bad_birth_date`` (not a real date, or in the future) or ``id.unknown_address`` (an address
        code that never existed; retired codes are accepted). Empty values give None without an issue.
    """
    return standardize_distinct(s, resident_id_outcome)


def _keep_ends(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail :]


def _mask_id_text(text: str) -> str:
    return _keep_ends(text, 3, 2)


def _mask_phone_text(text: str) -> str:
    masked = []
    for number in text.split(";"):
        digits = [i for i, c in enumerate(number) if c.isdigit()]
        shown = set(digits[:3] + digits[-2:]) if len(digits) > 5 else set()
        masked.append("".join(c if i in shown or not c.isdigit() else "*" for i, c in enumerate(number)))
    return ";".join(masked)


def _mask_name_text(text: str) -> str:
    return text[0] + "*" * (len(text) - 1) if len(text) > 1 else "*" * len(text)


def _mask_scalar(value: object, mask: Callable[[str], str]) -> str | None:
    text = to_text(value)
    return None if text is None else mask(text.strip())


def _masked(data: object, mask: Callable[[str], str]) -> pd.Series | str | None:
    if isinstance(data, pd.Series):
        return standardize_distinct(data, lambda v: (_mask_scalar(v, mask), None)).values
    return _mask_scalar(data, mask)


def mask_resident_id(s: object) -> pd.Series | str | None:
    """Mask an ID number for logs and reports: first 3 and last 2 characters kept (``320*************17``).

    Takes a Series (returns a Series of masked text) or one value (returns masked text); never raises.
    Values of five characters or fewer are masked entirely.
    """
    return _masked(s, _mask_id_text)


def mask_phone(s: object) -> pd.Series | str | None:
    """Mask phone numbers for logs and reports: each keeps its first 3 and last 2 digits (``139******78``).

    Numbers joined by ``;`` are masked one by one; separators stay. Takes a Series or one value; never raises.
    """
    return _masked(s, _mask_phone_text)


def mask_name(s: object) -> pd.Series | str | None:
    """Mask a person's name for logs and reports: the first character kept (``张**``).

    Takes a Series or one value; never raises.
    """
    return _masked(s, _mask_name_text)
