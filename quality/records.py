"""Standardizing extracted legacy rows into catalogue records, item by item, driven by each item's type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from catalog import Catalog, Item, Resource
from quality.issues import issue_kind
from quality.standardize import Standardized
from quality.standardize.chemicals import parse_chemical_list, standardize_cas
from quality.standardize.codes import map_code_list, map_codes
from quality.standardize.contacts import standardize_phone
from quality.standardize.coordinates import standardize_coordinates
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
from quality.standardize.text import clean_text, clean_value, parse_flag
from schemas.canonical import canonical_json
from schemas.manifest import ItemSource, Manifest, SourceTable


def _flag_as_integer(s: pd.Series) -> Standardized:
    # A yes/no item is stored as 1/0: its column family is integer in every target database.
    flags = parse_flag(s)
    values = flags.values.map(lambda v: None if v is None else int(v)).astype(object)
    return Standardized(values=values, issues=flags.issues)


# Item type → standardizer. `code` and `division` need more than the column and are handled apart.
TYPE_STANDARDIZERS: dict[str, Callable[[pd.Series], Standardized]] = {
    "text": clean_text,
    "date": parse_date,
    "uscc": standardize_uscc,
    "resident_id": standardize_resident_id,
    "phone": standardize_phone,
    "integer": parse_count,
    "decimal": parse_decimal,
    "boolean": _flag_as_integer,
    "cas": standardize_cas,
    "licence_id": standardize_licence_id,
    "registration_number": standardize_registration_number,
    "organisation_code": standardize_organisation_code,
}

# Parsers a manifest names for structured (`json`) items read from legacy text.
JSON_PARSERS: dict[str, Callable[[pd.Series], Standardized]] = {"chemical_list": parse_chemical_list}

FINDING_COLUMNS = ["row", "item", "issue", "value"]
# The warning that replaces a refusal of a value found by matching a name (tables with `match: unique`).
UNUSABLE_MATCH = "match.unusable"


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


def _source_column(raw: pd.DataFrame, source: ItemSource, catalog: Catalog) -> pd.Series:
    """An item's raw values: the column, else its fallbacks in order; words meaning none emptied."""
    column = _raw_column(raw, source.column)
    for label in source.fallbacks:
        column = column.where(~_is_empty(column), _raw_column(raw, label))
    if source.empty:
        words = set(source.empty)
        column = column.map(lambda v: None if clean_value(v) in words else v).astype(object)
    if source.lookup is not None:
        codelist = catalog.codelist(source.lookup.codelist)
        found = map_codes(column, codelist.legacy_mapping()).values
        field = source.lookup.field
        fields = {
            e.code: e.name if field == "name" else e.code if field == "code" else e.attributes.get(field)
            for e in codelist.entries
        }
        # An unknown code leaves the item empty: the item's own rules (required) then speak for it.
        looked_up = [fields.get(code) if isinstance(code, str) else None for code in found]
        column = pd.Series(looked_up, index=column.index, dtype=object)
    return column


def _first(result: Standardized) -> Standardized:
    # Several values standardize to one text joined by ';', the first being the primary one.
    values = result.values.map(lambda v: v.split(";")[0] if isinstance(v, str) else v)
    return Standardized(values=values.astype(object), issues=result.issues)


def _address(raw: pd.DataFrame, source: ItemSource) -> pd.Series | None:
    if not source.address:
        return None
    parts = [_raw_column(raw, label).fillna("") for label in source.address]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + " " + part
    return joined


def _stored(result: Standardized) -> Standardized:
    # Lists and maps are stored, digested and sent to the exchange database as canonical JSON text.
    values = result.values.map(
        lambda v: v if v is None or isinstance(v, str) else canonical_json(v).decode("utf-8")
    )
    return Standardized(values=values.astype(object), issues=result.issues)


def standardize_item(item: Item, source: ItemSource, raw: pd.DataFrame, catalog: Catalog) -> Standardized:
    """Standardize one item's raw column with the standardizer its catalogue type names.

    Structured values (`code_list`, `json`) come out as canonical JSON text, the form the record keeps.
    """
    column = _source_column(raw, source, catalog)
    if source.lookup is not None:
        # The code list's own value (an official item name with full-width brackets) is kept as written.
        return Standardized(values=column, issues=pd.Series(None, index=column.index, dtype=object))
    if source.first:
        return _first(_standardize_column(item, source, raw, column, catalog))
    return _standardize_column(item, source, raw, column, catalog)


def _standardize_column(
    item: Item, source: ItemSource, raw: pd.DataFrame, column: pd.Series, catalog: Catalog
) -> Standardized:
    if item.type == "code":
        if item.codelist is None:
            raise ValueError(f"item {item.name} has type code but no codelist")
        return map_codes(column, catalog.codelist(item.codelist).legacy_mapping())
    if item.type == "code_list":
        if item.codelist is None:
            raise ValueError(f"item {item.name} has type code_list but no codelist")
        return _stored(map_code_list(column, catalog.codelist(item.codelist).legacy_mapping()))
    if item.type == "division":
        return standardize_division(column, address=_address(raw, source))
    if item.type == "json":
        if source.parser is None:
            # Built by a resource builder, not read from legacy text: passed on as it is.
            return Standardized(values=column, issues=pd.Series(None, index=column.index, dtype=object))
        return _stored(JSON_PARSERS[source.parser](column))
    return TYPE_STANDARDIZERS[item.type](column)


def is_deleted(raw: pd.DataFrame, alias: str, soft_delete: dict | None) -> pd.Series:
    """Which extracted rows the soft-delete flag of table `alias` marks as deleted."""
    if not soft_delete:
        return pd.Series(False, index=raw.index)
    flags = _raw_column(raw, f"{alias}.{soft_delete['column']}").fillna("").astype(str).str.strip()
    return flags.isin([str(v) for v in soft_delete["deleted"]])


def _is_referenced(raw: pd.DataFrame, table: SourceTable) -> pd.Series:
    # A record refers to a joined row when every column it is joined by holds a value ('' is none).
    referenced = pd.Series(True, index=raw.index)
    for label in table.references():
        referenced &= _raw_column(raw, label).fillna("").astype(str).str.strip() != ""
    return referenced


def _record_findings(manifest: Manifest, raw: pd.DataFrame) -> list[pd.DataFrame]:
    # Joined tables that must exist (the enterprise of a certificate) and must not be deleted.
    found = []
    for alias, table in manifest.tables.items():
        if alias == manifest.key_table:
            continue
        checks = []
        if table.presence:
            missing = _raw_column(raw, f"{alias}.{table.presence['column']}").isna()
            if table.presence.get("when_referenced"):
                # A reference left empty expects no row (a person's certificate named by work-unit name only).
                missing &= _is_referenced(raw, table)
            checks.append((missing, table.presence["missing_issue"]))
        if table.soft_delete and "issue" in table.soft_delete:
            checks.append((is_deleted(raw, alias, table.soft_delete), table.soft_delete["issue"]))
        for mask, issue in checks:
            rows = raw.index[mask.to_numpy()]
            found.append(pd.DataFrame({"row": rows, "item": None, "issue": issue, "value": None}))
    return found


def _coordinates(manifest: Manifest, raw: pd.DataFrame) -> dict[str, Standardized]:
    # A point is read as one: swapped axes are put back, zeros and points outside Changzhou emptied, each
    # with a warning, where two items read alone would refuse the record for a range.
    if manifest.coordinates is None:
        return {}
    longitude, latitude = manifest.coordinates
    lon, lat = standardize_coordinates(
        _raw_column(raw, manifest.items[longitude].column), _raw_column(raw, manifest.items[latitude].column)
    )
    return {longitude: lon, latitude: lat}


def _is_empty(column: pd.Series) -> pd.Series:
    return column.map(lambda v: clean_value(v) is None).astype(bool)


def _refused(issues: pd.Series) -> pd.Series:
    return issues.map(lambda code: code is not None and issue_kind(code).is_error).astype(bool)


def _as_kept(
    item: Item, source: ItemSource, manifest: Manifest, given: pd.Series, result: Standardized
) -> Standardized:
    """An item's standardized values with the findings its record answers for (`given`: its raw values)."""
    values, issues = result.values, result.issues
    if not issues.notna().any():
        return result
    if not item.required:
        # An optional item may be left empty (or hold a null stand-in): a standardizer that refuses an
        # empty value (uscc.missing) speaks for required items. Warnings (coord.zero) stay.
        issues = issues.where(~(_refused(issues) & _is_empty(given)), None)
    if manifest.from_unique_match(source.column):
        # A value found by matching a name is a best effort: one that cannot be used leaves the item empty
        # with a warning, and the record is not refused for another table's data.
        refused = _refused(issues)
        values, issues = values.where(~refused, None), issues.where(~refused, UNUSABLE_MATCH)
    return Standardized(values=values.astype(object), issues=issues.astype(object))


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
            "deleted": is_deleted(raw, manifest.key_table, manifest.primary.soft_delete).to_numpy(),
        },
        index=raw.index,
    )
    findings = _record_findings(manifest, raw)
    points = _coordinates(manifest, raw)
    for item in resource.items:
        source = manifest.items[item.name]
        standardized = (
            points[item.name] if item.name in points else standardize_item(item, source, raw, catalog)
        )
        given = _source_column(raw, source, catalog)
        result = _as_kept(item, source, manifest, given, standardized)
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
                        "value": given[has_issue].to_numpy(),
                    }
                )
            )
    frame = pd.concat(findings, ignore_index=True) if findings else pd.DataFrame(columns=FINDING_COLUMNS)
    return StandardizedBatch(records=records, findings=frame.astype(object))
