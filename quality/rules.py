"""Row rules compiled from the catalogue: each rule marks the records that fail it, vectorized.

The same rule objects compile into the Great Expectations suite (quality/expectations.py), so the
quarantine decision and the GX validation count the same failures.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from catalog import Catalog, Item, Resource
from quality.standardize.codes import DatedStatus, derive_certificate_status


@dataclass(frozen=True)
class RuleCheck:
    """One compiled rule: the item it reports on, its issue code, its kind and what it reads.

    `when` limits a check to rows whose columns hold one of the listed values (required_when), or, for
    `null_unless`, names the rows where the item may have a value.
    """

    name: str
    item: str
    issue: str
    kind: str
    columns: tuple[str, ...]
    legal_years: int | None = None
    when: dict[str, tuple[str, ...]] = field(default_factory=dict)
    low: float | None = None
    high: float | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class RuleOutcome:
    """A rule's verdict over a batch: `fails` is True for every record that breaks it."""

    check: RuleCheck
    fails: pd.Series


def _legal_years(resource: Resource, catalog: Catalog) -> int | None:
    if not resource.permit_type:
        return None
    years = catalog.codelist("permit_types").entry(resource.permit_type).attributes.get("validity_years")
    return int(years) if years else None


def _item_checks(item: Item) -> list[RuleCheck]:
    checks = []
    if item.required:
        checks.append(
            RuleCheck(f"required:{item.name}", item.name, "required.missing", "not_null", (item.name,))
        )
    if item.min is not None or item.max is not None:
        checks.append(
            RuleCheck(
                f"range:{item.name}",
                item.name,
                "value.out_of_range",
                "between",
                (item.name,),
                low=item.min,
                high=item.max,
            )
        )
    if item.pattern:
        checks.append(
            RuleCheck(
                f"pattern:{item.name}",
                item.name,
                "value.pattern_mismatch",
                "pattern",
                (item.name,),
                pattern=item.pattern,
            )
        )
    return checks


def compile_rules(resource: Resource, catalog: Catalog) -> list[RuleCheck]:
    """The resource's checks: those its items imply (required, range, pattern), then its catalogue rules."""
    checks = [check for item in resource.items for check in _item_checks(item)]
    years = _legal_years(resource, catalog)
    for rule in resource.rules:
        checks += RULE_COMPILERS[rule.rule](rule.params, years)
    return checks


def _when(params: dict) -> dict[str, tuple[str, ...]]:
    return {column: tuple(str(v) for v in values) for column, values in params["when"].items()}


def _date_order(p: dict, _years: int | None) -> list[RuleCheck]:
    return [
        RuleCheck(
            f"date_order:{p['later']}",
            p["later"],
            "validity.reversed",
            "pair_order",
            (p["earlier"], p["later"]),
        )
    ]


def _within_legal_validity(p: dict, years: int | None) -> list[RuleCheck]:
    if years is None:
        return []
    cols = (p["valid_from"], p["valid_to"])
    return [
        RuleCheck(
            f"legal_validity:{p['valid_to']}", p["valid_to"], "validity.too_long", "within_years", cols, years
        )
    ]


def _required_when_expiring(p: dict, years: int | None) -> list[RuleCheck]:
    if years is None:
        return []
    return [RuleCheck(f"required:{p['item']}", p["item"], "required.missing", "not_null", (p["item"],))]


def _required_when(p: dict, _years: int | None) -> list[RuleCheck]:
    when = _when(p)
    return [
        RuleCheck(
            f"required_when:{p['item']}",
            p["item"],
            "required.missing",
            "not_null",
            (p["item"], *when),
            when=when,
        )
    ]


def _null_unless(p: dict, _years: int | None) -> list[RuleCheck]:
    when = _when(p)
    return [
        RuleCheck(
            f"null_unless:{p['item']}",
            p["item"],
            "value.not_applicable",
            "null",
            (p["item"], *when),
            when=when,
        )
    ]


def _correction(_p: dict, _years: int | None) -> list[RuleCheck]:
    return []  # applied by apply_corrections before the checks


RULE_COMPILERS: dict[str, Callable[[dict, int | None], list[RuleCheck]]] = {
    "date_order": _date_order,
    "within_legal_validity": _within_legal_validity,
    "required_when_expiring": _required_when_expiring,
    "required_when": _required_when,
    "null_unless": _null_unless,
    "status_from_dates": _correction,
}


def add_years(day: dt.date, years: int) -> dt.date:
    """`day` moved by whole years; 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def legal_bound(valid_from: pd.Series, years: int) -> pd.Series:
    """The last day a certificate issued on each `valid_from` may run to."""
    return valid_from.map(lambda d: add_years(d, years) if isinstance(d, dt.date) else None).astype(object)


def when_mask(check: RuleCheck, records: pd.DataFrame) -> pd.Series:
    """True for the rows a conditional check applies to (every row when it has no condition)."""
    mask = pd.Series(True, index=records.index)
    for column, values in check.when.items():
        mask &= records[column].map(lambda v, allowed=values: pd.notna(v) and str(v) in allowed).astype(bool)
    return mask


def _compare(check: RuleCheck, records: pd.DataFrame) -> pd.Series:
    earlier, later = records[check.columns[0]], records[check.columns[1]]
    both = earlier.notna() & later.notna()
    if check.kind == "within_years":
        earlier = legal_bound(earlier, check.legal_years or 0)
        earlier, later = later, earlier  # the bound must not be before valid_to
    return both & (later.where(both, None) < earlier.where(both, None)).fillna(False).astype(bool)


def _outside(check: RuleCheck, values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    low = numbers < check.low if check.low is not None else False
    high = numbers > check.high if check.high is not None else False
    return values.notna() & (low | high)


def _mismatch(check: RuleCheck, values: pd.Series) -> pd.Series:
    pattern = re.compile(check.pattern or "")
    return values.map(lambda v: pd.notna(v) and pattern.fullmatch(str(v)) is None).astype(bool)


def _fails(check: RuleCheck, records: pd.DataFrame) -> pd.Series:
    values = records[check.columns[0]]
    if check.kind == "not_null":
        return values.isna() & when_mask(check, records)
    if check.kind == "null":
        return values.notna() & ~when_mask(check, records)
    if check.kind == "between":
        return _outside(check, values)
    if check.kind == "pattern":
        return _mismatch(check, values)
    return _compare(check, records)


def evaluate(checks: list[RuleCheck], records: pd.DataFrame) -> list[RuleOutcome]:
    """Every check over `records`; deleted records break no rule (a delete carries no data to judge)."""
    live = ~records["deleted"].astype(bool)
    return [RuleOutcome(check, (_fails(check, records) & live).astype(bool)) for check in checks]


def apply_corrections(
    resource: Resource,
    records: pd.DataFrame,
    catalog: Catalog,
    as_of: dt.date,
    refused: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Apply the resource's correcting rules in place; returns findings (row, item, issue, value).

    `refused` (row, item) lists values already refused: a date that could not be read is empty, which
    would read as "no expiry", so a status is never corrected from it.
    """
    found = []
    for rule in resource.rules:
        if rule.rule != "status_from_dates":
            continue
        status, valid_to = rule.params["status"], rule.params["valid_to"]
        codelist = resource.item(status).codelist
        if codelist is None:
            raise ValueError(f"{resource.name}: status_from_dates needs a status item with a code list")
        result = derive_certificate_status(
            records[status], records[valid_to], as_of, DatedStatus.from_codelist(catalog.codelist(codelist))
        )
        unread = records.index.isin(
            [] if refused is None else refused.loc[refused["item"] == valid_to, "row"]
        )
        changed = result.issues.notna() & ~unread
        if changed.any():
            found.append(
                pd.DataFrame(
                    {
                        "row": records.index[changed],
                        "item": status,
                        "issue": result.issues[changed],
                        "value": records[status][changed],
                    }
                )
            )
        records[status] = result.values.where(~unread, records[status])
    return (
        pd.concat(found, ignore_index=True)
        if found
        else pd.DataFrame(columns=["row", "item", "issue", "value"])
    )
