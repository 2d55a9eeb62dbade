"""Standardizing extracted legacy rows into catalogue records, item by item, driven by each item's type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from catalog import Catalog, Item, Resource
from quality.standardize import Standardized
from quality.standardize.chemicals import parse_chemical_list, standardize_cas
from quality.standardize.codes import map_code_list, map_codes
from quality.standardize.contacts import standardize_phone
from quality.standardize.dates import parse_date
from quality.standardize.divisions import standardize_division
from quality.standardize.enterprise_codes import standardize_uscc
from quality.standardize.identifiers import (
    standardize_licence_id,
    standardize_organisation_code,
    standardize_registration_number,
)
from quality.standardize.numbers import parse_count, parse_decimal
from quality.standardize.person_ids import standardize_resident_id
from quality.standardize.text import clean_text, parse_flag
from schemas.manifest import ItemSource, Manifest

# Item type → standardizer. `code` and `division` need more than the column and are handled apart.
TYPE_STANDARDIZERS: dict[str, Callable[[pd.Series], Standardized]] = {
    "text": clean_text,
    "date": parse_date,
    "uscc": standardize_uscc,
    "resident_id": standardize_resident_id,
    "phone": standardize_phone,
    "integer": parse_count,
    "decimal": parse_decimal,
    "boolean": parse_flag,
    "cas": standardize_cas,
    "licence_id": standardize_licence_id,
    "registration_number": standardize_registration_number,
    "organisation_code": standardize_organisation_code,
}

# Parsers a manifest names for structured (`json`) items read from legacy text.
JSON_PARSERS: dict[str, Callable[[pd.Series], Standardized]] = {"chemical_list": parse_chemical_list}

FINDING_COLUMNS = ["row", "item", "issue", "value"]


@dataclass
class StandardizedBatch:
    """Records in catalogue form, with every finding (issue code per row and item) beside them.

    `records` has `record_id`, `source_key`, `deleted` and one column per catalogue item; `findings` has
    `row` (the record's index), `item` (None for record-level findings), `issue` and the raw `value`.
    """

    records: pd.DataFrame
    findings: pd.DataFrame


def _raw_column(raw: pd.DataFrame, label: str) -> pd.Series:
    if label not in raw.columns:
        return pd.Series([None] * len(raw), index=raw.index, dtype=object)
    return raw[label].astype(object).where(raw[label].notna(), None)


def _address(raw: pd.DataFrame, source: ItemSource) -> pd.Series | None:
    if not source.address:
        return None
    parts = [_raw_column(raw, label).fillna("") for label in source.address]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + " " + part
    return joined


def standardize_item(item: Item, source: ItemSource, raw: pd.DataFrame, catalog: Catalog) -> Standardized:
    """Standardize one item's raw column with the standardizer its catalogue type names."""
    column = _raw_column(raw, source.column)
    if item.type == "code":
        if item.codelist is None:
            raise ValueError(f"item {item.name} has type code but no codelist")
        return map_codes(column, catalog.codelist(item.codelist).legacy_mapping())
    if item.type == "code_list":
        if item.codelist is None:
            raise ValueError(f"item {item.name} has type code_list but no codelist")
        return map_code_list(column, catalog.codelist(item.codelist).legacy_mapping())
    if item.type == "division":
        return standardize_division(column, address=_address(raw, source))
    if item.type == "json":
        if source.parser is None:
            # Built by a resource builder, not read from legacy text: passed on as it is.
            return Standardized(values=column, issues=pd.Series(None, index=column.index, dtype=object))
        return JSON_PARSERS[source.parser](column)
    return TYPE_STANDARDIZERS[item.type](column)


def _is_deleted(raw: pd.DataFrame, alias: str, soft_delete: dict | None) -> pd.Series:
    if not soft_delete:
        return pd.Series(False, index=raw.index)
    flags = _raw_column(raw, f"{alias}.{soft_delete['column']}").fillna("").astype(str).str.strip()
    return flags.isin([str(v) for v in soft_delete["deleted"]])


def _record_findings(manifest: Manifest, raw: pd.DataFrame) -> list[pd.DataFrame]:
    # Joined tables that must exist (the enterprise of a certificate) and must not be deleted.
    found = []
    for alias, table in manifest.tables.items():
        if alias == manifest.key_table:
            continue
        checks = []
        if table.presence:
            missing = _raw_column(raw, f"{alias}.{table.presence['column']}").isna()
            checks.append((missing, table.presence["missing_issue"]))
        if table.soft_delete and "issue" in table.soft_delete:
            checks.append((_is_deleted(raw, alias, table.soft_delete), table.soft_delete["issue"]))
        for mask, issue in checks:
            rows = raw.index[mask.to_numpy()]
            found.append(pd.DataFrame({"row": rows, "item": None, "issue": issue, "value": None}))
    return found


def standardize_records(
    resource: Resource, manifest: Manifest, raw: pd.DataFrame, catalog: Catalog
) -> StandardizedBatch:
    """Turn one batch of extracted rows into the resource's records and their findings."""
    raw = raw.reset_index(drop=True)
    key = _raw_column(raw, manifest.key_label).astype(str)
    records = pd.DataFrame(
        {
            "record_id": manifest.record_id_prefix + key,
            "source_key": key,
            "deleted": _is_deleted(raw, manifest.key_table, manifest.primary.soft_delete).to_numpy(),
        },
        index=raw.index,
    )
    findings = _record_findings(manifest, raw)
    for item in resource.items:
        source = manifest.items[item.name]
        result = standardize_item(item, source, raw, catalog)
        records[item.name] = result.values
        has_issue = result.issues.notna()
        if has_issue.any():
            rows = raw.index[has_issue.to_numpy()]
            findings.append(
                pd.DataFrame(
                    {
                        "row": rows,
                        "item": item.name,
                        "issue": result.issues[has_issue].to_numpy(),
                        "value": _raw_column(raw, source.column)[has_issue].to_numpy(),
                    }
                )
            )
    frame = pd.concat(findings, ignore_index=True) if findings else pd.DataFrame(columns=FINDING_COLUMNS)
    return StandardizedBatch(records=records, findings=frame.astype(object))
