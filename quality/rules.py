"""Row rules compiled from the catalogue: each rule marks the records that fail it, vectorized.

The same rule objects compile into the Great Expectations suite (quality/expectations.py), so the
quarantine decision and the GX validation count the same failures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from catalog import Catalog, Resource, Rule
from quality.standardize.codes import derive_certificate_status


@dataclass(frozen=True)
class RuleCheck:
    """One compiled rule: the item it reports on, its issue code and what it reads."""

    name: str
    item: str
    issue: str
    kind: str
    columns: tuple[str, ...]
    legal_years: int | None = None


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


def compile_rules(resource: Resource, catalog: Catalog) -> list[RuleCheck]:
    """The resource's checks: one `required` per required item, then its catalogue rules in order."""
    checks = [
        RuleCheck(f"required:{it.name}", it.name, "required.missing", "not_null", (it.name,))
        for it in resource.items
        if it.required
    ]
    years = _legal_years(resource, catalog)
    for rule in resource.rules:
        checks += _compile(rule, years)
    return checks


def _compile(rule: Rule, years: int | None) -> list[RuleCheck]:
    p = rule.params
    if rule.rule == "date_order":
        return [
            RuleCheck(
                f"date_order:{p['later']}",
                p["later"],
                "validity.reversed",
                "pair_order",
                (p["earlier"], p["later"]),
            )
        ]
    if rule.rule == "within_legal_validity":
        if years is None:
            return []
        cols = (p["valid_from"], p["valid_to"])
        return [
            RuleCheck(
                f"legal_validity:{p['valid_to']}",
                p["valid_to"],
                "validity.too_long",
                "within_years",
                cols,
                years,
            )
        ]
    if rule.rule == "required_when_expiring":
        if years is None:
            return []
        return [RuleCheck(f"required:{p['item']}", p["item"], "required.missing", "not_null", (p["item"],))]
    if rule.rule == "status_from_dates":
        return []  # a correction, applied by apply_corrections before the checks
    raise ValueError(f"unknown rule {rule.rule!r}")


def add_years(day: dt.date, years: int) -> dt.date:
    """`day` moved by whole years; 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def legal_bound(valid_from: pd.Series, years: int) -> pd.Series:
    """The last day a certificate issued on each `valid_from` may run to."""
    return valid_from.map(lambda d: add_years(d, years) if isinstance(d, dt.date) else None).astype(object)


def _fails(check: RuleCheck, records: pd.DataFrame) -> pd.Series:
    if check.kind == "not_null":
        return records[check.columns[0]].isna()
    earlier, later = records[check.columns[0]], records[check.columns[1]]
    both = earlier.notna() & later.notna()
    if check.kind == "pair_order":
        return both & (later.where(both, None) < earlier.where(both, None)).fillna(False).astype(bool)
    if check.kind == "within_years":
        bound = legal_bound(earlier, check.legal_years or 0)
        return both & (later.where(both, None) > bound.where(both, None)).fillna(False).astype(bool)
    raise ValueError(f"unknown check kind {check.kind!r}")


def evaluate(checks: list[RuleCheck], records: pd.DataFrame) -> list[RuleOutcome]:
    """Every check over `records`; deleted records break no rule (a delete carries no data to judge)."""
    live = ~records["deleted"].astype(bool)
    return [RuleOutcome(check, (_fails(check, records) & live).astype(bool)) for check in checks]


def apply_corrections(resource: Resource, records: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Apply the resource's correcting rules in place; returns findings (row, item, issue, value)."""
    found = []
    for rule in resource.rules:
        if rule.rule != "status_from_dates":
            continue
        status, valid_to = rule.params["status"], rule.params["valid_to"]
        result = derive_certificate_status(records[status], records[valid_to], as_of)
        changed = result.issues.notna()
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
        records[status] = result.values
    return (
        pd.concat(found, ignore_index=True)
        if found
        else pd.DataFrame(columns=["row", "item", "issue", "value"])
    )
