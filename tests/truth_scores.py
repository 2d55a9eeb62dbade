"""Scoring a pipeline run against the legacy generator's truth file: precision and recall per quirk kind.

Every quirk instance of the truth file (table, key, column) is traced through the manifests to the records
and items it reaches: a column of a record's own table to that record, a column of a joined table to every
record joined to that row, an attribute row to its certificate, a column of an item's `from:` list to the
records where every column before it is empty. Each (instance, record, item) is one decision, right when
the pipeline fixed the value to the expected one (with the expected warning, if any) or quarantined the
record with the expected reason. Rows of one record (`merge:`) are judged row by row, as the run judges
them, with old codes resolved to a twin's code; a row-level quirk naming another row (a duplicate) is right
when both rows land in the same record. Precision counts, besides, the findings the pipeline made with a
quirk kind's issue code on cells where the truth has no such quirk.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import pandas as pd
import pyarrow.parquet as pq
import sqlalchemy as sa

from catalog import Catalog, Item
from exchange import staging
from exchange.steps import merge
from quality.records import UNUSABLE_MATCH, standardize_item, standardize_records
from quality.standardize.text import clean_value
from quality.validation import judge
from sandbox.legacy import LEGACY_TABLES
from schemas.manifest import ItemSource, Manifest, manifests

CELL = ["table", "key", "column"]
DECISION = ["resource", "row", "item"]
REQUIRED_MISSING = "required.missing"


@dataclass(frozen=True)
class Judged:
    """One resource's records and findings as the run's standardize step decided them.

    `group` is the item rows of one record are merged by (`merge.by`), None for a resource that merges none.
    """

    records: pd.DataFrame
    findings: pd.DataFrame
    group: str | None = None


def staged_rows(run_id: str) -> Iterator[tuple[Manifest, str, pd.DataFrame]]:
    """(manifest, resource, its extracted rows numbered from 0) for every resource the run extracted."""
    for manifest in manifests().values():
        path = staging.run_dir(run_id) / manifest.source / "raw.parquet"
        if not path.exists():
            continue
        raw = staging.to_frame(pq.read_table(path))
        for name in manifest.resources():
            rows = raw
            if manifest.partition_label:
                rows = raw[raw[manifest.partition_label].isin(manifest.partition_values([name]))]
            yield manifest, name, rows.reset_index(drop=True)


def judged_resources(catalog: Catalog, run_id: str, as_of: dt.date, curated: sa.Engine) -> dict[str, Judged]:
    """Every resource of the run, judged again from its staged raw rows by the step's own functions.

    The curated table keeps only the records that passed; the values of quarantined records are needed
    too, so the staged batch is standardized and judged once more (the caller checks the outcome is the
    run's). Rows of one record get their old codes resolved by the run's twin index, and records joined to
    an enterprise row by the enterprise master, as in the step.
    """
    out = {}
    for manifest, name, rows in staged_rows(run_id):
        resource = catalog.resource(name)
        batch = standardize_records(resource, manifest, rows, catalog)
        if manifest.merge is not None:
            with curated.connect() as conn:
                twins = merge.twin_index(conn, resource, manifest, run_id, catalog)
            batch = twins.resolve(batch, manifest)
        batch = merge.resolve_by_master(curated, resource, manifest, batch, rows, catalog)
        verdict = judge(resource, batch, catalog, as_of)
        out[name] = Judged(verdict.records, verdict.findings, manifest.merge.by if manifest.merge else None)
    return out


def _primary_key(table: str) -> str:
    (column,) = LEGACY_TABLES[table].primary_key.columns
    return str(column.name)


def _unique_keys(legacy: sa.Engine, table: str, column: str, soft_delete: dict | None) -> dict[str, str]:
    """Join value → primary key of the live rows whose value no other live row shares (a `match: unique`)."""
    source = LEGACY_TABLES[table]
    with legacy.connect() as conn:
        frame = pd.DataFrame(conn.execute(sa.select(source.c[_primary_key(table)], source.c[column])).all())
        if soft_delete:
            flags = pd.DataFrame(
                conn.execute(sa.select(source.c[soft_delete["column"]])).all(), columns=["flag"]
            )
            frame = frame[~flags["flag"].isin([str(v) for v in soft_delete["deleted"]]).to_numpy()]
    frame.columns = ["key", "value"]
    lone = frame[~frame["value"].duplicated(keep=False)]
    return dict(zip(lone["value"], lone["key"].astype(str), strict=True))


def _joined_keys(legacy: sa.Engine, manifest: Manifest, alias: str, raw: pd.DataFrame) -> pd.Series:
    """The primary key of the row of `alias` each record was joined to (None where none was)."""
    table = manifest.tables[alias]
    if alias == manifest.key_table:
        return raw[manifest.key_label].astype(str)
    ((own, other),) = table.join.items()
    values = raw[other].map(lambda v: None if v is None else str(v))
    if own != _primary_key(table.table):
        values = values.map(_unique_keys(legacy, table.table, own, table.soft_delete))
    presence = (table.presence or {}).get("column")
    if presence:  # a reference that found no row reaches no quirk of that table
        values = values.where(raw[f"{alias}.{presence}"].notna(), None)
    return values


def decision_cells(legacy: sa.Engine, catalog: Catalog, run_id: str) -> pd.DataFrame:
    """Every (legacy cell → record item) a manifest makes: table, key, column, resource, row, item.

    Row-level cells (column '') lead to the record itself (item None); they exist for the key table only.
    `rest` is what the later columns of the item's `from:` list give (None for the last or only column).
    """
    parts = []
    for manifest, name, raw in staged_rows(run_id):
        keys = {alias: _joined_keys(legacy, manifest, alias, raw) for alias in manifest.tables}
        rows = pd.Series(raw.index, index=raw.index)
        parts.append(pd.DataFrame({"table": manifest.primary.table, "key": keys[manifest.key_table],
                                   "column": "", "resource": name, "row": rows, "item": None,
                                   "rest": None}))  # fmt: skip
        for item in catalog.resource(name).items:
            # A `from:` list: each column reaches the item where every column before it is empty.
            earlier_empty = pd.Series(True, index=raw.index)
            source = manifest.items[item.name]
            if source.lookup is not None:
                # A code list's field for the code, not the cell's value: the item reading the code decides.
                continue
            for position, label in enumerate(source.columns):
                alias, column = label.split(".", 1)
                if alias not in manifest.tables:  # attribute items: see _attribute_cells
                    continue
                parts.append(pd.DataFrame({"table": manifest.tables[alias].table,
                                           "key": keys[alias].where(earlier_empty, None), "column": column,
                                           "resource": name, "row": rows, "item": item.name,
                                           "rest": _rest(item, source, position, raw, catalog)}))  # fmt: skip
                earlier_empty &= raw[label].map(lambda v: clean_value(v) is None).astype(bool)
        parts.append(_attribute_cells(legacy, manifest, name, raw))
    cells = pd.concat(parts, ignore_index=True)
    return cells[cells["key"].notna()].astype({"key": str})


def _rest(item: Item, source: ItemSource, position: int, raw: pd.DataFrame, catalog: Catalog) -> pd.Series:
    """What the columns after `position` of an item's `from:` list give: the item where this one is empty."""
    later = source.columns[position + 1 :]
    if not later:
        return pd.Series(None, index=raw.index, dtype=object)
    rest = dataclasses.replace(source, column=later[0], fallbacks=later[1:])
    return standardize_item(item, rest, raw, catalog).values


def _attribute_cells(legacy: sa.Engine, manifest: Manifest, name: str, raw: pd.DataFrame) -> pd.DataFrame:
    """An attribute row (KZID) reaches its record's item of the same name, whatever its spelling."""
    attrs = manifest.attributes
    if attrs is None:
        return pd.DataFrame(columns=[*CELL, *DECISION, "rest"])
    table = LEGACY_TABLES[attrs.table]
    pk = _primary_key(attrs.table)
    with legacy.connect() as conn:
        rows = pd.DataFrame(
            conn.execute(sa.select(table.c[pk], table.c[attrs.key], table.c[attrs.name_column])).all(),
            columns=["key", "owner", "name"],
        )
    item_of = {spelling: item for item, spellings in attrs.items.items() for spelling in spellings}
    rows["item"] = rows["name"].map(item_of)
    position = pd.Series(raw.index, index=raw[manifest.key_label].astype(str))
    rows = rows[rows["owner"].astype(str).isin(position.index) & rows["item"].notna()]
    return pd.DataFrame({"table": attrs.table, "key": rows["key"].astype(str), "column": attrs.name_column,
                         "resource": name, "row": position[rows["owner"].astype(str)].to_numpy(),
                         "item": rows["item"], "rest": None})  # fmt: skip


def attribute_values(legacy: sa.Engine, manifest: Manifest) -> dict[str, str]:
    """KZID → the attribute's value: what the item of a drifted attribute name must hold."""
    attrs = manifest.attributes
    assert attrs is not None
    table = LEGACY_TABLES[attrs.table]
    with legacy.connect() as conn:
        found = conn.execute(sa.select(table.c[_primary_key(attrs.table)], table.c[attrs.value_column])).all()
    return {str(key): clean_value(value) for key, value in found}


def _same(value: object, expected: object) -> bool:
    if value is None or expected is None:
        return value is None and expected is None
    if isinstance(value, dt.date):
        return value.isoformat() == str(expected)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return abs(float(value) - float(str(expected))) < 1e-9
        except ValueError:
            return False
    return str(value) == str(expected)


def _effective(decisions: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """What each decision must be in its resource: the truth speaks of the source, the item may ask less.

    A value found through a name match (`match: unique`) that cannot be used is emptied with a warning,
    not refused; an empty value where the resource's item is optional is simply empty, where it is
    required the record is refused; a column emptied
    hands a `from:` list's item to the next column; an item keeping the first of several values takes the
    first.
    """
    out = decisions.copy()
    by_source = {name: m for m in manifests().values() for name in m.resources()}
    for index, d in out[out["item"].notna()].iterrows():
        manifest = by_source[d["resource"]]
        source = manifest.items[d["item"]]
        if d["outcome"] == "nulled" and d["rest"] is not None:
            # An emptied column of a `from:` list hands the item to the columns after it.
            out.loc[index, ["outcome", "expected"]] = ["standardized", d["rest"]]
        elif d["outcome"] == "nulled" and catalog.resource(d["resource"]).item(d["item"]).required:
            # An item the receivers require cannot go empty: the record waits for a value.
            out.loc[index, ["outcome", "issue"]] = ["quarantined", REQUIRED_MISSING]
        elif source.first and isinstance(d["expected"], str):
            # An item keeping one of several values (the primary phone) takes the first.
            out.loc[index, "expected"] = d["expected"].split(";")[0]
    for index, d in out[out["outcome"] == "quarantined"].iterrows():
        if d["item"] is None:
            continue
        manifest = by_source[d["resource"]]
        item = next(i for i in catalog.resource(d["resource"]).items if i.name == d["item"])
        if not item.required and clean_value(d["raw"]) is None:
            out.loc[index, ["outcome", "issue"]] = ["nulled", None]
        elif manifest.from_unique_match(manifest.items[d["item"]].column):
            out.loc[index, ["outcome", "issue"]] = ["nulled", UNUSABLE_MATCH]
    return out


def _same_record(row: int, other_key: str, judged: Judged) -> bool:
    """Whether the row and the row keyed `other_key` are merged into one record (same code, none refused)."""
    records, findings = judged.records, judged.findings
    if judged.group is None:
        return False
    (other,) = records.index[records["source_key"] == other_key]
    refused = findings[(findings["item"] == judged.group) & (findings["severity"] == "error")]
    group = records[judged.group]
    both = {row, other}
    return group[row] is not None and group[row] == group[other] and not both & set(refused["row"])


def _right(d: pd.Series, judged: Judged) -> bool:
    records, findings = judged.records, judged.findings
    row = d["row"]
    if d["item"] is None:
        here = findings[(findings["row"] == row) & findings["item"].isna()]
    else:
        here = findings[(findings["row"] == row) & (findings["item"] == d["item"])]
    errors = set(here.loc[here["severity"] == "error", "issue"])
    issues = set(here["issue"])
    if d["outcome"] == "quarantined":
        return bool(records.at[row, "quarantined"]) and d["issue"] in errors
    if d["item"] is None and d["expected"] is not None:  # a row naming another row of its record: a twin
        return _same_record(row, str(d["expected"]), judged) and not errors
    if d["item"] is None:  # a row-level quirk the record passes with: a soft delete
        return bool(records.at[row, "deleted"]) and not bool(records.at[row, "quarantined"])
    value = records.at[row, d["item"]]
    expected = None if d["outcome"] == "nulled" else d["expected"]
    return _same(value, expected) and not errors and (d["issue"] is None or d["issue"] in issues)


@dataclass(frozen=True)
class Scores:
    """Per quirk kind: instances, decisions measured, right, wrong, false alarms, precision and recall.

    `decisions` holds every measured decision with `right`; `unexplained` every finding with an issue the
    truth does not account for.
    """

    table: pd.DataFrame
    decisions: pd.DataFrame
    unexplained: pd.DataFrame


def score(
    truth: pd.DataFrame,
    cells: pd.DataFrame,
    judged: Mapping[str, Judged],
    catalog: Catalog,
    attribute_values: Mapping[str, str | None],
    elsewhere: Mapping[str, str],
) -> Scores:
    """Score the run's decisions against the truth; quirk kinds in `elsewhere` are traced but not scored."""
    truth = truth.assign(column=truth["column"].fillna(""))
    decisions = truth.merge(cells, on=CELL, how="inner").astype(object)
    decisions = decisions.where(decisions.notna(), None)
    drifted = decisions["quirk"] == "kz.name_drift"
    decisions.loc[drifted, "expected"] = decisions.loc[drifted, "key"].map(attribute_values)
    decisions = _effective(decisions, catalog)
    deleted = decisions.apply(lambda d: bool(judged[d["resource"]].records.at[d["row"], "deleted"]), axis=1)
    # A delete carries no data to judge: only its own quirk (the soft delete) is decided on it.
    decisions = decisions[~deleted.astype(bool) | (decisions["quirk"] == "scbz.deleted")]
    decisions = decisions.assign(right=decisions.apply(lambda d: _right(d, judged[d["resource"]]), axis=1))
    unexplained = _unexplained(decisions, judged, elsewhere)
    measured = decisions[~decisions["quirk"].isin(list(elsewhere)) & decisions["decidable"]]
    rows = []
    for quirk, instances in truth.groupby("quirk"):
        mine = measured[measured["quirk"] == quirk]
        issues = set(instances["issue"].dropna()) - {None}
        alarms = int(unexplained["issue"].isin(issues).sum()) if quirk not in elsewhere else 0
        right = int(mine["right"].sum())
        rows.append({"quirk": quirk, "instances": len(instances), "decisions": len(mine), "right": right,
                     "wrong": len(mine) - right, "false_alarms": alarms,
                     "precision": right / (right + alarms) if right + alarms else None,
                     "recall": right / len(mine) if len(mine) else None})  # fmt: skip
    return Scores(pd.DataFrame(rows).set_index("quirk"), decisions, unexplained)


def _unexplained(
    decisions: pd.DataFrame, judged: Mapping[str, Judged], elsewhere: Mapping[str, str]
) -> pd.DataFrame:
    """Findings (issues a quirk kind of the truth carries, and every error) no truth instance explains.

    Cells holding a quirk kind decided elsewhere are left to the tests of that part.
    """
    expected_issues = set(decisions["issue"].dropna())
    explained = set(
        zip(decisions["resource"], decisions["row"], decisions["item"].fillna(""), decisions["issue"].fillna(""),
            strict=True)
    )  # fmt: skip
    # A record whose enterprise row is missing has nothing from that row: its empty items are no news.
    orphans = set(
        zip(*(decisions.loc[decisions["quirk"].str.startswith("orphan."), c] for c in ("resource", "row")),
            strict=True)
    )  # fmt: skip
    later = decisions[decisions["quirk"].isin(list(elsewhere))]
    left = set(zip(later["resource"], later["row"], later["item"].fillna(""), strict=True))
    out = []
    for name, judged_one in judged.items():
        found = judged_one.findings
        found = found[(found["severity"] == "error") | found["issue"].isin(expected_issues)]
        for f in found.itertuples(index=False):
            key = (name, f.row, f.item or "", f.issue)
            if key in explained or key[:3] in left or ((name, f.row) in orphans and f.item is not None):
                continue
            out.append({"resource": name, "row": f.row, "item": f.item, "issue": f.issue, "value": f.value})
    return pd.DataFrame(out, columns=["resource", "row", "item", "issue", "value"])
