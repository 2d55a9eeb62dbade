"""Identifiers checked but not reformatted: electronic licence ids, registration numbers, organisation codes."""

from __future__ import annotations

import re

import pandas as pd
from stdnum.iso7064 import mod_37_36

from quality.standardize.enterprise_codes import (
    compact_code,
    is_valid_organisation_code,
    is_valid_registration_number,
)
from quality.standardize.result import NO_ISSUE, Outcome, Standardized, standardize_distinct
from quality.standardize.text import clean_value

# GB/T 36904: 1.2.156.3005.2.<type 21>.<issuer 18>.<serial>.<version 3>.<check>.
LICENCE_ID_ROOT = "1.2.156.3005.2"
_LICENCE_ID = re.compile(
    r"1\.2\.156\.3005\.2\.(?P<type>[0-9A-Z]{21})\.(?P<issuer>[0-9A-Z]{18})\.(?P<serial>[0-9A-Z]{1,32})"
    r"\.(?P<version>[0-9]{3})\.(?P<check>[0-9A-Z])"
)


def is_valid_licence_id(text: str) -> bool:
    """Whether `text` is a GB/T 36904 identifier whose MOD 37,36 check character is right."""
    match = _LICENCE_ID.fullmatch(text)
    if match is None:
        return False
    body = match["type"] + match["issuer"] + match["serial"] + match["version"]
    return bool(mod_37_36.is_valid(body + match["check"]))


def build_licence_id(type_code: str, issuer_code: str, serial: str, version: int) -> str:
    """The GB/T 36904 identifier of one licence version, its check character from python-stdnum."""
    body = f"{type_code}.{issuer_code}.{serial}.{version:03d}"
    return f"{LICENCE_ID_ROOT}.{body}.{mod_37_36.calc_check_digit(body.replace('.', ''))}"


def _licence_outcome(value: object) -> Outcome:
    text = clean_value(value)
    if text is None:
        return NO_ISSUE
    text = text.upper().replace(" ", "")
    return (text, None) if is_valid_licence_id(text) else (None, "licence_id.invalid")


def standardize_licence_id(s: pd.Series) -> Standardized:
    """Check electronic licence identifiers (upper case, spaces removed); invalid → None with an issue."""
    return standardize_distinct(s, _licence_outcome)


def _registration_outcome(value: object) -> Outcome:
    code = compact_code(value)
    if not code:
        return NO_ISSUE
    return (code, None) if is_valid_registration_number(code) else (None, "registration_number.invalid")


def standardize_registration_number(s: pd.Series) -> Standardized:
    """Check 15-digit registration numbers (GS 15-2006, ISO 7064 MOD 11,10)."""
    return standardize_distinct(s, _registration_outcome)


def _organisation_outcome(value: object) -> Outcome:
    code = compact_code(value)
    if not code:
        return NO_ISSUE
    return (code, None) if is_valid_organisation_code(code) else (None, "organisation_code.invalid")


def standardize_organisation_code(s: pd.Series) -> Standardized:
    """Check 9-character organisation codes (GB 11714), written without the hyphen."""
    return standardize_distinct(s, _organisation_outcome)
