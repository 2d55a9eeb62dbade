"""Enterprise codes: GB 32100 unified social credit codes and the older codes clerks typed instead."""

from __future__ import annotations

import functools
import re
import unicodedata

import numpy as np
import pandas as pd
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.iso7064 import mod_11_10

from quality.standardize.divisions import DivisionTable
from quality.standardize.result import Outcome, Standardized, aligned, standardize_distinct
from quality.standardize.text import NULL_STANDINS, clean_value, to_text

INVALID_FORMAT = "uscc.invalid_format"
BAD_CHECK = "uscc.bad_check"
TRUNCATED = "uscc.truncated"
PILOT_CHECK = "uscc.pilot_check"
REGISTRATION_NUMBER = "uscc.registration_number"
ORGANISATION_CODE = "uscc.organisation_code"
MISSING = "uscc.missing"

# GB 11714-1997 weights for the eight body characters of an organisation code.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CODE = re.compile(r"[0-9A-Z]{8}[0-9X]", re.ASCII)
# Separators clerks put inside codes, and invisible characters that ride along from copy-paste.
_NOISE = re.compile(r"[\s\-.\u2010-\u2015\u2212\u200b-\u200d\ufeff\u2060_]+")
# A failing outer check with a valid inner code is also what a typo in the last character gives
# (91110000600037341N for …L). The pilot codes on record (厦门, 福州: 91350211M00013FA1N,
# 91350100M0001TGQXM…) have inner codes "M" + digit, issued before GB 32100 fixed the check character;
# the national series since runs MA, MB… So only that series counts as a pilot; anything else with
# this pattern is reported as a bad check character.
_PILOT_SERIES = re.compile(r"M[0-9]", re.ASCII)


def compact_code(value: object) -> str | None:
    """Upper-case, half-width, without spaces, hyphens, dots and invisible characters; None for missing."""
    text = to_text(value)
    if text is None:
        return None
    return _NOISE.sub("", unicodedata.normalize("NFKC", text)).upper()


def _org_char_value(char: str) -> int:
    if "0" <= char <= "9":
        return ord(char) - ord("0")
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    raise ValueError(f"not an organisation code character: {char!r}")


def organisation_code_check_char(code8: str) -> str:
    """Compute the GB 11714-1997 check character for the eight body characters of an organisation code.

    Written by hand: python-stdnum has no GB 11714 module. Digits count at face value, letters
    A=10 … Z=35; check = 11 − (Σ value × weight mod 11), where 10 is written ``X`` and 11 is ``0``.

    Args:
        code8: the eight body characters (digits and upper-case letters).

    Returns:
        The check character, ``0``–``9`` or ``X``.

    Raises:
        ValueError: when ``code8`` is not eight digits and upper-case letters.
    """
    if len(code8) != 8:
        raise ValueError(f"an organisation code body has 8 characters, got {len(code8)}")
    total = sum(_org_char_value(c) * w for c, w in zip(code8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def _is_organisation_code(compact: str) -> bool:
    return bool(_ORG_CODE.fullmatch(compact)) and organisation_code_check_char(compact[:8]) == compact[8]


def is_valid_organisation_code(code: object) -> bool:
    """Tell whether ``code`` is a GB 11714 organisation code (``D2143569-X`` or ``D2143569X``)."""
    compact = compact_code(code)
    return compact is not None and _is_organisation_code(compact)


def is_valid_registration_number(code: object) -> bool:
    """Tell whether ``code`` is a 15-digit GS 15-2006 registration number (ISO 7064 MOD 11,10)."""
    compact = compact_code(code)
    if compact is None or len(compact) != 15 or not compact.isascii() or not compact.isdigit():
        return False
    return bool(mod_11_10.is_valid(compact))


# python-stdnum spends ~20 µs per call normalizing its input; the same enterprise's code recurs in
# every table of a run, so the verdicts are kept for the process.
@functools.lru_cache(maxsize=1 << 17)
def _judge_18(code: str) -> Outcome:
    try:
        stdnum_uscc.validate(code)
        outer_ok = True
    except InvalidChecksum:
        outer_ok = False
    except ValidationError:  # characters outside the GB 32100 set, or authority codes stdnum refuses
        return None, INVALID_FORMAT
    inner = code[8:17]
    inner_ok = _is_organisation_code(inner)
    if outer_ok and inner_ok:
        return code, None
    # Spreadsheets keep 15 significant digits: the last three of a numeric-looking code become 000.
    if code.isdigit() and code.endswith("000"):
        return None, TRUNCATED
    if not outer_ok and inner_ok and _PILOT_SERIES.match(inner):
        return code, PILOT_CHECK
    return None, BAD_CHECK


def uscc_outcome(value: object) -> Outcome:
    """Standardize one enterprise code (see ``standardize_uscc``)."""
    code = compact_code(value)
    if code is None or code in NULL_STANDINS or code.lower() in NULL_STANDINS:
        return None, MISSING
    if not code.isascii():
        return None, INVALID_FORMAT
    if len(code) == 18:
        return _judge_18(code)
    if is_valid_registration_number(code):
        return code, REGISTRATION_NUMBER
    if _is_organisation_code(code):
        return code, ORGANISATION_CODE
    return None, INVALID_FORMAT


def standardize_uscc(s: pd.Series) -> Standardized:
    """Standardize an enterprise-code column (``TYSHXYDM``) to GB 32100 unified social credit codes.

    Codes are upper-cased, made half-width and stripped of spaces, hyphens and dots first.

    Args:
        s: the column; any dtype, any values.

    Returns:
        Per row, one of: a valid USCC (outer check by python-stdnum and inner GB 11714 organisation
        code both pass), no issue; a pilot code whose outer check fails but whose "M0…" inner code is
        valid, kept with ``uscc.pilot_check``; a valid 15-digit registration number or 9-character
        organisation code, kept with ``uscc.registration_number`` / ``uscc.organisation_code`` (see
        ``resolve_enterprise_codes``); or None with ``uscc.truncated``, ``uscc.bad_check``,
        ``uscc.missing`` or ``uscc.invalid_format``.
    """
    return standardize_distinct(s, uscc_outcome, on_null=(None, MISSING))


def _lone_candidates(pairs: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Map each key combination that points at exactly one distinct USCC to that USCC."""
    unique = pairs.drop_duplicates()
    return unique[~unique.duplicated(subset=keys, keep=False)].set_index(keys)["value"]


def _text_keys(group_keys: pd.Series) -> np.ndarray:
    # Keys of any type (even unhashable ones) become text, so grouping never fails on them.
    return standardize_distinct(group_keys, lambda v: (to_text(v), None)).values.to_numpy(dtype=object)


def resolve_enterprise_codes(codes: Standardized, group_keys: pd.Series) -> Standardized:
    """Replace old registration numbers and organisation codes by the USCC another row of the same group has.

    The same enterprise is often entered by several bureau levels, one with its USCC and one with an
    older code. Within a group (the caller's key, e.g. the normalized enterprise name), an
    organisation code takes the group's valid USCC whose inner code (characters 9–17) it equals, and
    a registration number takes the group's valid USCC when the group has exactly one. Rows resolved
    lose their issue; the others are returned unchanged.

    Args:
        codes: the output of ``standardize_uscc``.
        group_keys: one key per row of ``codes`` (by position, or by index label if lengths differ);
            None never groups.

    Returns:
        The resolved Standardized, on the index of ``codes.values``.
    """
    index = codes.values.index
    frame = pd.DataFrame(
        {
            "value": codes.values.to_numpy(dtype=object),
            "issue": aligned(codes.issues, codes.values).to_numpy(dtype=object),
            "key": _text_keys(aligned(group_keys, codes.values)),
        },
        dtype=object,
    )
    keyed = frame["key"].notna()
    is_uscc = frame["value"].map(lambda v: isinstance(v, str) and len(v) == 18).astype(bool)
    valid = frame[keyed & frame["issue"].isna() & is_uscc]
    found = pd.Series(None, index=frame.index, dtype=object)

    org_rows = frame[keyed & (frame["issue"] == ORGANISATION_CODE)]
    if len(org_rows) and len(valid):
        by_org = _lone_candidates(valid.assign(org=valid["value"].str.slice(8, 17)), ["key", "org"])
        wanted = pd.MultiIndex.from_arrays([org_rows["key"], org_rows["value"]])
        found[org_rows.index] = by_org.reindex(wanted).to_numpy(dtype=object)

    reg_rows = frame[keyed & (frame["issue"] == REGISTRATION_NUMBER)]
    if len(reg_rows) and len(valid):
        by_group = _lone_candidates(valid[["key", "value"]], ["key"])
        found[reg_rows.index] = by_group.reindex(reg_rows["key"]).to_numpy(dtype=object)

    resolved = found.notna().to_numpy(dtype=bool)
    values = frame["value"].to_numpy(dtype=object).copy()
    issues = frame["issue"].to_numpy(dtype=object).copy()
    values[resolved] = found.to_numpy(dtype=object)[resolved]
    issues[resolved] = None
    return Standardized(
        values=pd.Series(values, index=index, dtype=object),
        issues=pd.Series(issues, index=index, dtype=object),
    )


# What is left of a name after a prefix must still be a name (not the 市 of 常州市).
_SHORTEST_NAME = 2


@functools.cache
def _name_prefix() -> re.Pattern[str]:
    # Province and city prefixes and every division name the legacy knows, longest first, so that
    # 常州市武进区华达化工有限公司 loses 常州市 and then 武进区; what is left must still be a name.
    table = DivisionTable.load()
    names = {*table.prefixes, *(name for name in table.aliases if not name.isascii() and len(name) >= 2)}
    alternatives = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
    return re.compile(f"(?:{alternatives})(?=.{{{_SHORTEST_NAME},}})", re.DOTALL)


def enterprise_name_key(value: object) -> str | None:
    """The key twin rows of one enterprise share: the cleaned name without spaces and city/district prefixes.

    常州市华达化工有限公司, 华达化工有限公司 and 华达化工有限公司 with a trailing space all give
    华达化工有限公司. A name that is nothing but a prefix keeps it (it is the whole name).
    Written by hand: no library folds Chinese division prefixes; the prefixes are the catalogue's
    division names and aliases.
    """
    text = clean_value(value)
    if text is None:
        return None
    key = re.sub(r"\s+", "", text).upper()
    prefix = _name_prefix()
    while match := prefix.match(key):
        key = key[match.end() :]
    return key
