"""Division codes (GB/T 2260) of Changzhou: current codes, retired ones, names, aliases and zones."""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import yaml

from quality.standardize.result import (
    NO_ISSUE,
    Outcome,
    Standardized,
    aligned,
    as_series,
    standardize_distinct,
)
from quality.standardize.text import clean_value, to_text

UNKNOWN = "division.unknown"
AMBIGUOUS = "division.ambiguous"

# 6-digit county codes, and the 9- and 12-digit town and village codes that start with one.
_CODE = re.compile(r"([0-9]{6})(?:[0-9]{3}|[0-9]{6})?", re.ASCII)


@dataclass(frozen=True)
class Division:
    """One row of the history table: a county-level code as it was valid from one year to another."""

    code: str
    name: str
    level: str
    valid_from: int | None
    valid_to: int | None
    successors: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class Resolution:
    """Where a code leads today: the current codes it may have become, and the one to take without an address.

    Attributes:
        candidates: the current codes its territory went to.
        fallback: the code to use when no address decides, or None when only an address can.
    """

    candidates: frozenset[str]
    fallback: str | None


@dataclass(frozen=True)
class DivisionTable:
    """Changzhou's division history with the names and town list that identify a division, built once."""

    divisions: Mapping[str, Division]
    resolutions: Mapping[str, Resolution]
    aliases: Mapping[str, str]
    prefixes: tuple[str, ...]
    address_keywords: Mapping[str, str]

    @classmethod
    def load(cls) -> DivisionTable:
        """The table shipped in ``catalog/codelists``, read once per process."""
        return _shipped_table()

    @classmethod
    def from_texts(cls, history_csv: str, aliases_yaml: str) -> DivisionTable:
        """Build a table from the text of ``divisions_3204.csv`` and ``division_aliases.yaml``."""
        divisions = {d.code: d for d in map(_division, csv.DictReader(io.StringIO(history_csv)))}
        resolutions = {code: _resolve(code, divisions, ()) for code in divisions}
        spec = yaml.safe_load(aliases_yaml) or {}
        aliases = {
            _name_key(name): str(code)
            for code, names in (spec.get("aliases") or {}).items()
            for name in names
        }
        # The city's own name (常州市) is in every address: it names no district.
        cities = {d.code for d in divisions.values() if d.level == "prefecture"}
        keywords = {
            name: single
            for name, code in aliases.items()
            if (single := _single_current(resolutions.get(code))) is not None
            and single not in cities
            and not name.isascii()
        }
        for code, towns in (spec.get("towns") or {}).items():
            keywords.update({_name_key(town): str(code) for town in towns})
        prefixes = sorted((_name_key(p) for p in spec.get("prefixes") or ()), key=len, reverse=True)
        return cls(
            divisions=MappingProxyType(divisions),
            resolutions=MappingProxyType(resolutions),
            aliases=MappingProxyType(aliases),
            prefixes=tuple(prefixes),
            address_keywords=MappingProxyType(keywords),
        )

    @functools.cached_property
    def _keyword_pattern(self) -> re.Pattern[str]:
        # Longest first, so 武进高新区 is read as one name and not as 武进 plus 高新区.
        names = sorted(self.address_keywords, key=len, reverse=True)
        if not names:
            return re.compile(r"(?!)")
        # A road named after a town (河海路, 兰陵路) runs through several districts: it names none.
        return re.compile(f"(?:{'|'.join(map(re.escape, names))})(?!路|大道|大街|街(?!道)|巷|弄)")

    def code_of(self, value: object) -> str | None:
        """The table's code a raw value names (a code, a name or an alias), or None."""
        text = clean_value(value)
        if text is None:
            return None
        key = _name_key(text)
        match = _CODE.fullmatch(key)
        if match:
            return match.group(1) if match.group(1) in self.divisions else None
        if key in self.aliases:
            return self.aliases[key]
        for prefix in self.prefixes:
            if key.startswith(prefix) and key[len(prefix) :] in self.aliases:
                return self.aliases[key[len(prefix) :]]
        return None

    def named_in(self, address: str) -> set[str]:
        """The current codes whose district, zone or town names appear in an address."""
        return {self.address_keywords[m] for m in self._keyword_pattern.findall(_name_key(address))}


def _division(row: Mapping[str, str]) -> Division:
    def year(text: str | None) -> int | None:
        return int(text) if text and text.strip() else None

    return Division(
        code=row["code"].strip(),
        name=row["name"].strip(),
        level=row["level"].strip(),
        valid_from=year(row.get("valid_from")),
        valid_to=year(row.get("valid_to")),
        successors=tuple(s.strip() for s in (row.get("successors") or "").split(";") if s.strip()),
        note=(row.get("note") or "").strip(),
    )


def _resolve(code: str, divisions: Mapping[str, Division], seen: tuple[str, ...]) -> Resolution:
    successors = tuple(s for s in divisions[code].successors if s in divisions and s not in seen)
    if not divisions[code].successors:
        return Resolution(frozenset({code}), code)
    parts = [_resolve(s, divisions, (*seen, code)) for s in successors]
    candidates = frozenset().union(*(p.candidates for p in parts))
    if len(candidates) == 1:
        return Resolution(candidates, next(iter(candidates)))
    # A code whose one successor later split needs the address as much as that successor does:
    # 320421 武进县 became 320483 武进市, whose land went to 武进区 and 新北区 (standards/README.md).
    return Resolution(candidates, None)


def _single_current(resolution: Resolution | None) -> str | None:
    if resolution is None or len(resolution.candidates) != 1:
        return None
    return next(iter(resolution.candidates))


def _name_key(text: str) -> str:
    cleaned = clean_value(text, null_standins=False) or ""
    return cleaned.replace(" ", "").upper()


@functools.cache
def _shipped_table() -> DivisionTable:
    folder = resources.files("catalog") / "codelists"
    return DivisionTable.from_texts(
        (folder / "divisions_3204.csv").read_text(encoding="utf-8"),
        (folder / "division_aliases.yaml").read_text(encoding="utf-8"),
    )


def _first_pass(value: object, table: DivisionTable) -> Outcome:
    if clean_value(value) is None:
        return NO_ISSUE
    code = table.code_of(value)
    if code is None:
        return None, UNKNOWN
    resolution = table.resolutions[code]
    if len(resolution.candidates) == 1:
        return resolution.fallback, None
    return resolution, None  # decided per row, by the address


def _by_address(resolution: Resolution, address: Any, table: DivisionTable) -> Outcome:
    text = clean_value(address)
    named = table.named_in(text) & resolution.candidates if text else set()
    if len(named) == 1:
        return named.pop(), None
    if resolution.fallback is not None:
        return resolution.fallback, None
    return None, AMBIGUOUS


def standardize_division(
    s: pd.Series, *, address: pd.Series | None = None, table: DivisionTable | None = None
) -> Standardized:
    """Standardize a division column (``XZQH``, ``SSQX``) to current GB/T 2260 codes.

    A current code stays; a retired code becomes its successor, following the chain (320405 → 320412,
    320482 → 320413, 320423 → 320481); a code whose territory split (320483 → 武进 or 新北, 320403 → 天宁
    or 钟楼) is decided by the row's address naming one of the successor districts or one of their
    towns. Names, short names, names with the city prefix, old names and zones (经开区, 高新区) map
    through ``catalog/codelists/division_aliases.yaml``.

    Args:
        s: the column; any dtype, any values.
        address: the rows' address text (same length, or same index), used only for split codes.
        table: the division table; the shipped one by default.

    Returns:
        Current codes, or None with ``division.ambiguous`` (a split the address does not decide) or
        ``division.unknown``. Empty values give None without an issue.
    """
    series = as_series(s)
    table = table or DivisionTable.load()
    first = standardize_distinct(series, lambda v: _first_pass(v, table))
    values = first.values.to_numpy(dtype=object).copy()
    issues = first.issues.to_numpy(dtype=object).copy()
    pending = np.flatnonzero(np.fromiter((isinstance(v, Resolution) for v in values), bool, len(values)))
    if len(pending):
        addresses = aligned(address, series).to_numpy(dtype=object)
        decided: dict[tuple[Resolution, str | None], Outcome] = {}
        for i in pending:
            key = (values[i], to_text(addresses[i]))
            if key not in decided:
                decided[key] = _by_address(values[i], key[1], table)
            values[i], issues[i] = decided[key]
    return Standardized(
        values=pd.Series(values, index=series.index, dtype=object),
        issues=pd.Series(issues, index=series.index, dtype=object),
    )


def division_name(code: object, *, table: DivisionTable | None = None) -> str | None:
    """The name of a division code of the table, current or retired (``320412`` → ``武进区``), or None."""
    text = to_text(code)
    division = (table or DivisionTable.load()).divisions.get(text.strip() if text else "")
    return division.name if division else None
