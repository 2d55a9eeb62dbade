"""Code lists: mapping free-text values onto codes, and certificate status against validity dates."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from catalog import CodeList
from quality.standardize.dates import parse_date
from quality.standardize.result import (
    NO_ISSUE,
    Outcome,
    Standardized,
    aligned,
    as_series,
    standardize_distinct,
)
from quality.standardize.text import NULL_STANDINS, clean_value

CONTRADICTS_DATES = "status.contradicts_dates"


@dataclass(frozen=True)
class DatedStatus:
    """The two status codes validity dates decide between: the entries a code list marks `dated`."""

    valid: str
    expired: str

    @classmethod
    def from_codelist(cls, codelist: CodeList) -> DatedStatus:
        """Read the entries marked ``dated: valid`` and ``dated: expired`` (certificate_status.yaml)."""
        marked = {
            str(e.attributes.get("dated")): e.code for e in codelist.entries if e.attributes.get("dated")
        }
        if set(marked) != {"valid", "expired"}:
            raise ValueError(
                f"code list {codelist.name} must mark one entry dated: valid and one dated: expired"
            )
        return cls(valid=marked["valid"], expired=marked["expired"])


class _Lookup:
    """A mapping prepared for cleaned, case-insensitive lookups; values already coded map to themselves."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self.exact: dict[str, str] = {}
        for key, code in mapping.items():
            cleaned = clean_value(key, null_standins=False)
            if cleaned is not None:
                self.exact.setdefault(cleaned, code)
        self.codes = {str(code): str(code) for code in mapping.values()}
        self.folded = {k.casefold(): v for k, v in self.exact.items()}
        self.folded_codes = {k.casefold(): v for k, v in self.codes.items()}

    def find(self, text: str) -> str | None:
        for table, key in (
            (self.exact, text),
            (self.codes, text),
            (self.folded, text.casefold()),
            (self.folded_codes, text.casefold()),
        ):
            if key in table:
                return table[key]
        return None


def _code_outcome(value: object, lookup: _Lookup, unknown_issue: str) -> Outcome:
    text = clean_value(value, null_standins=False)
    if text is None:
        return NO_ISSUE
    code = lookup.find(text)
    if code is not None:
        return code, None
    if text in NULL_STANDINS:  # looked up first: "0" or "无" may be real keys of a code list
        return NO_ISSUE
    return None, unknown_issue


def map_codes(
    s: pd.Series, mapping: Mapping[str, str], *, unknown_issue: str = "code.unknown"
) -> Standardized:
    """Map a free-text column onto codes: cleaned text looked up exactly, then case-insensitively.

    A value that already is one of the mapping's codes stays as it is, so mapping twice changes nothing.

    Args:
        s: the column; any dtype, any values.
        mapping: legacy value → code (e.g. ``{"有效": "01", "正常": "01", "1": "01"}``).
        unknown_issue: the issue code for a non-empty value the mapping does not know.

    Returns:
        Codes, or None with ``unknown_issue``; empty values and null stand-ins give None without an issue.
    """
    lookup = _Lookup(mapping)
    return standardize_distinct(s, lambda v: _code_outcome(v, lookup, unknown_issue))


def derive_certificate_status(
    status_code: pd.Series, valid_to: pd.Series, as_of: datetime.date, statuses: DatedStatus
) -> Standardized:
    """Correct a certificate status that its validity date contradicts.

    A valid status (``statuses.valid``, 有效) whose ``valid_to`` is before ``as_of`` becomes
    ``statuses.expired`` (失效/过期); an expired status whose ``valid_to`` is ``as_of`` or later, or empty
    (no expiry), becomes valid; both with ``status.contradicts_dates``. Other statuses (revoked,
    cancelled…) and rows whose ``valid_to`` cannot be read are kept.

    Args:
        status_code: status codes, already mapped onto the code list.
        valid_to: validity end dates (``datetime.date``, or text ``parse_date`` reads), row for row.
        as_of: the day the status should be true on.
        statuses: the code list's valid and expired codes (``DatedStatus.from_codelist``).

    Returns:
        The status codes, on the index of ``status_code``.
    """
    status = as_series(status_code)
    codes = standardize_distinct(status, lambda v: (clean_value(v, null_standins=False), None)).values
    dates = parse_date(aligned(valid_to, status))
    end = pd.to_datetime(pd.Series(dates.values.to_numpy(dtype=object), dtype=object), errors="coerce")
    unreadable = dates.issues.notna().to_numpy(dtype=bool)
    expired = (end < pd.Timestamp(as_of).normalize()).to_numpy(dtype=bool)
    code_values = codes.to_numpy(dtype=object)
    to_expired = (code_values == statuses.valid) & expired
    to_valid = (code_values == statuses.expired) & ~expired & ~unreadable
    values = code_values.copy()
    values[to_expired], values[to_valid] = statuses.expired, statuses.valid
    issues = np.full(len(values), None, dtype=object)
    issues[to_expired | to_valid] = CONTRADICTS_DATES
    return Standardized(
        values=pd.Series(values, index=status.index, dtype=object),
        issues=pd.Series(issues, index=status.index, dtype=object),
    )


# Separators a legacy multi-valued field uses between codes or names: 生产、使用 / 综合;专项.
_LIST_SEPARATORS = re.compile(r"[、,，;；/／|\s]+")


def _code_list_outcome(value: object, lookup: _Lookup) -> Outcome:
    text = clean_value(value)
    if text is None:
        return NO_ISSUE
    codes, unknown = [], False
    for part in filter(None, _LIST_SEPARATORS.split(text)):
        code, issue = _code_outcome(part, lookup, "code_list.unknown")
        if issue:
            unknown = True
        elif code is not None and code not in codes:
            codes.append(code)
    if unknown:
        return None, "code_list.unknown"
    return (sorted(codes) or None), None


def map_code_list(s: pd.Series, mapping: Mapping[str, str]) -> Standardized:
    """Map a multi-valued field ('生产、使用') onto a sorted list of codes; any unknown part refuses the row."""
    lookup = _Lookup(mapping)
    parsed = standardize_distinct(s, lambda v: _code_list_outcome(v, lookup))
    # Rows with the same text would share one list object: give each row its own.
    values = parsed.values.map(lambda v: list(v) if isinstance(v, list) else v)
    return Standardized(values=values.astype(object), issues=parsed.issues)
