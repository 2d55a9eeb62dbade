"""Merging source rows that are one record: the enterprise master, one record per USCC from every bureau's rows.

The legacy has the same enterprise entered by the city, district and town bureaus under different QYIDs.
Each row is standardized and judged on its own (so a bad row is quarantined with its own reason); the rows
that pass are kept in `sdx_merged_row`, and the curated record of a group (a USCC) is rebuilt from all of
its live rows there whenever one of them changes. An incremental run sees only the changed rows, so the
group's other rows come from that table, never from the batch alone.

Which row speaks for the enterprise (the canonical row, whose items the record takes whole): the most
recently updated live row (legacy GXSJ; rows never stamped count as oldest), then the higher bureau level
(city 320400, then a district 3204xx, then a town), then the smallest QYID. The newest row is what a clerk
last confirmed; on a tie the city's row wins because the city bureau issues most permits and checks the
enterprise against its licence. The whole row is taken rather than item by item, so that a phone never
comes from a different row than the name it belongs to.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from catalog import Catalog, Resource
from connectors.sql import bulk
from exchange import staging, state
from quality.records import UNUSABLE_MATCH, StandardizedBatch, is_deleted, standardize_item
from quality.standardize import Standardized
from quality.standardize.enterprise_codes import (
    ORGANISATION_CODE,
    REGISTRATION_NUMBER,
    enterprise_name_key,
    resolve_enterprise_codes,
)
from schemas.manifest import Manifest, Merge, manifest_for, master_key

OLD_CODES = frozenset({REGISTRATION_NUMBER, ORGANISATION_CODE})
# Columns a merged resource's judged records carry besides the items: what ranks a row in its group.
RANK_FIELDS = [("sdx_newest", pa.timestamp("us")), ("sdx_level", pa.int64())]
_LEVEL_OTHER = 3
# Groups read with one IN list; more are read with the resource's rows at once.
_GROUPS_PER_QUERY = 1000


def rank_fields(manifest: Manifest) -> list[tuple[str, pa.DataType]]:
    """The extra record columns a resource of `manifest` carries (none unless it merges)."""
    return RANK_FIELDS if manifest.merge is not None else []


def bureau_level(code: object) -> int:
    """0 for the city bureau (a 6-digit code ending 00), 1 for a district, 2 for a town, 3 when unknown."""
    text = str(code).strip() if code is not None else ""
    if not text.isdigit():
        return _LEVEL_OTHER
    if len(text) == 6:
        return 0 if text.endswith("00") else 1
    return 2 if len(text) == 9 else _LEVEL_OTHER


def twin_keys(names: pd.Series, divisions: pd.Series) -> pd.Series:
    """The key twin rows share: standardized division and the name without city/district prefixes."""
    keys = [
        None if d is None or (name := enterprise_name_key(n)) is None else f"{d}|{name}"
        for n, d in zip(names, divisions, strict=True)
    ]
    return pd.Series(keys, index=names.index, dtype=object)


class TwinIndex:
    """The USCC each twin key carries: on live rows of this run and on the live rows merged before.

    Built once per run over the whole extract, because twins land in different batches, and over the
    merged rows, because an incremental run reads only the changed row and not its unchanged twin.
    """

    def __init__(self, keys: pd.Series, codes: pd.Series) -> None:
        self.keys = keys.reset_index(drop=True)
        self.codes = codes.reset_index(drop=True)

    @classmethod
    def build(
        cls, conn: sa.Connection, resource: Resource, manifest: Manifest, raw: pd.DataFrame, catalog: Catalog
    ) -> TwinIndex:
        """The index of `raw` (every row this run extracted) and of the live rows merged before."""
        merge = _merge_of(manifest)
        keys, codes = [], []
        if len(raw):
            own = _item_values(resource, manifest, raw, catalog, merge)
            live = ~is_deleted(raw, manifest.key_table, manifest.primary.soft_delete)
            good = own["code"].notna() & own["issue"].isna() & own["key"].notna() & live
            keys.append(own.loc[good, "key"])
            codes.append(own.loc[good, "code"])
        read = set(raw[manifest.key_label].astype(str)) if len(raw) else set()
        rows = state.merged_rows
        stored = conn.execute(
            sa.select(rows.c.source_key, rows.c.twin_key, rows.c.group_key).where(
                rows.c.resource == resource.name, rows.c.deleted.is_(False), rows.c.twin_key.is_not(None)
            )
        ).all()
        kept = [r for r in stored if r.source_key not in read]
        keys.append(pd.Series([r.twin_key for r in kept], dtype=object))
        codes.append(pd.Series([r.group_key for r in kept], dtype=object))
        return cls(pd.concat(keys, ignore_index=True), pd.concat(codes, ignore_index=True))

    def resolve(self, batch: StandardizedBatch, manifest: Manifest) -> StandardizedBatch:
        """Give rows carrying an old code their twin's USCC; the others keep their finding (quarantined)."""
        merge = _merge_of(manifest)
        records, findings = batch.records, batch.findings
        on_code = findings[(findings["item"] == merge.by) & findings["issue"].isin(OLD_CODES)]
        if on_code.empty:
            return batch
        issues = pd.Series(None, index=records.index, dtype=object)
        issues[on_code["row"].to_numpy()] = on_code["issue"].to_numpy()
        keys = twin_keys(records[merge.twins], records[merge.division])
        n = len(records)
        resolved = resolve_enterprise_codes(
            Standardized(
                values=pd.concat([records[merge.by], self.codes], ignore_index=True).astype(object),
                issues=pd.concat(
                    [issues, pd.Series([None] * len(self.codes), dtype=object)], ignore_index=True
                ),
            ),
            pd.concat([keys, self.keys], ignore_index=True),
        )
        now_clear = resolved.issues.iloc[:n].isna().to_numpy() & issues.notna().to_numpy()
        records = records.copy()
        records.loc[now_clear, merge.by] = resolved.values.iloc[:n].to_numpy()[now_clear]
        cleared = set(records.index[now_clear])
        keep = ~(findings.index.isin(on_code.index) & findings["row"].isin(cleared))
        return StandardizedBatch(records=records, findings=findings.loc[keep].reset_index(drop=True))


def master_groups(conn: sa.Connection, master: str, by: str, keys: Iterable[str]) -> dict[str, str]:
    """Source key → group (the USCC) of the master's merged rows among `keys`.

    A live row gives its group. A deleted row (one bureau's entry of an enterprise another bureau's row
    still carries) gives the group it was resolved to (its stored `by` value) while that group has a live
    row; a row neither merged nor in a live group gives nothing.
    """
    rows = state.merged_rows
    wanted = sorted(set(keys))
    found: dict[str, str] = {}
    former: dict[str, str] = {}
    for start in range(0, len(wanted), 1000):
        stmt = sa.select(rows.c.source_key, rows.c.group_key, rows.c.deleted, rows.c.data).where(
            rows.c.resource == master, rows.c.source_key.in_(wanted[start : start + 1000])
        )
        for r in conn.execute(stmt):
            if not r.deleted and r.group_key:
                found[r.source_key] = r.group_key
            elif r.deleted and (code := json.loads(r.data).get(by)):
                former[r.source_key] = code
    codes = sorted(set(former.values()))
    live: set[str] = set()
    for start in range(0, len(codes), 1000):
        stmt = sa.select(rows.c.group_key).where(
            rows.c.resource == master,
            rows.c.deleted.is_(False),
            rows.c.group_key.in_(codes[start : start + 1000]),
        )
        live.update(conn.execute(stmt).scalars())
    return found | {key: code for key, code in former.items() if code in live}


def resolve_by_master(
    curated: sa.Engine,
    resource: Resource,
    manifest: Manifest,
    batch: StandardizedBatch,
    raw: pd.DataFrame,
    catalog: Catalog,
) -> StandardizedBatch:
    """Old codes of items read from a master's row (`master:`) resolved to the USCC of that row's record.

    The master (the enterprise resource) has resolved its rows through their twins and keeps each row's
    group in `sdx_merged_row`; a record joined to such a row takes that USCC and loses the finding the old
    code raised (a refusal, or the warning a name-matched value gets instead). A row the master has not
    resolved (no twin, or quarantined there too) leaves the record's finding as it was.
    """
    raw = raw.reset_index(drop=True)
    records, findings = batch.records, batch.findings
    for item in resource.items:
        source = manifest.items[item.name]
        if source.master is None:
            continue
        old = standardize_item(item, source, raw, catalog).issues.isin(OLD_CODES).to_numpy()
        if not old.any():
            continue
        master = manifest_for(source.master)
        keys = raw[master_key(manifest, source, master)][old].map(
            lambda v: None if v is None or pd.isna(v) else str(v)
        )
        with curated.connect() as conn:
            groups = master_groups(conn, source.master, _merge_of(master).by, keys.dropna())
        codes = keys.map(groups).dropna()
        if codes.empty:
            continue
        if records is batch.records:
            records = records.copy()
        records.loc[codes.index, item.name] = codes.to_numpy()
        on_code = (findings["item"] == item.name) & findings["row"].isin(codes.index)
        findings = findings[~(on_code & findings["issue"].isin([*OLD_CODES, UNUSABLE_MATCH]))]
    if records is batch.records:
        return batch
    return StandardizedBatch(records=records, findings=findings.reset_index(drop=True))


def _merge_of(manifest: Manifest) -> Merge:
    if manifest.merge is None:
        raise ValueError(f"manifest {manifest.source} merges nothing")
    return manifest.merge


def _item_values(
    resource: Resource, manifest: Manifest, raw: pd.DataFrame, catalog: Catalog, merge: Merge
) -> pd.DataFrame:
    def standardized(name: str) -> Standardized:
        return standardize_item(resource.item(name), manifest.items[name], raw, catalog)

    code = standardized(merge.by)
    return pd.DataFrame(
        {
            "code": code.values,
            "issue": code.issues,
            "key": twin_keys(standardized(merge.twins).values, standardized(merge.division).values),
        }
    )


def twin_index(
    conn: sa.Connection, resource: Resource, manifest: Manifest, run_id: str, catalog: Catalog
) -> TwinIndex:
    """The twin index of a run's extract of `manifest`'s source."""
    path = staging.path(run_id, manifest.source, "raw.parquet")
    raw = staging.to_frame(pq.read_table(path)) if path.exists() else pd.DataFrame()
    return TwinIndex.build(conn, resource, manifest, raw, catalog)


def with_rank(batch: StandardizedBatch, manifest: Manifest, raw: pd.DataFrame) -> StandardizedBatch:
    """Records with the columns that rank them in their group (`RANK_FIELDS`)."""
    merge = _merge_of(manifest)
    records = batch.records.copy()
    raw = raw.reset_index(drop=True)
    newest = raw[merge.newest] if merge.newest in raw else pd.Series(None, index=raw.index)
    records["sdx_newest"] = pd.to_datetime(newest.astype(object), errors="coerce").to_numpy()
    records["sdx_newest"] = records["sdx_newest"].astype(object).where(records["sdx_newest"].notna(), None)
    level = raw[merge.level] if merge.level in raw else pd.Series(None, index=raw.index)
    records["sdx_level"] = level.map(bureau_level).to_numpy()
    return StandardizedBatch(records=records, findings=batch.findings)


# --- curate: the merged rows and the records rebuilt from them ----------------------------------------


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _item_value(family: str, value: Any) -> Any:
    if value is None:
        return None
    if family == "date":
        return dt.date.fromisoformat(value)
    if family == "integer":
        return int(value)
    if family == "decimal":
        return float(value)
    return value


def _level(value: Any) -> int:
    return _LEVEL_OTHER if value is None or pd.isna(value) else int(value)


def _stored(conn: sa.Connection, resource: str, keys: list[str]) -> dict[str, sa.Row]:
    rows = state.merged_rows
    found: dict[str, sa.Row] = {}
    for start in range(0, len(keys), 1000):
        stmt = sa.select(rows.c.source_key, rows.c.group_key).where(
            rows.c.resource == resource, rows.c.source_key.in_(keys[start : start + 1000])
        )
        found.update({r.source_key: r for r in conn.execute(stmt)})
    return found


def _replace(conn: sa.Connection, resource: str, values: list[dict[str, Any]]) -> None:
    rows = state.merged_rows
    keys = [v["source_key"] for v in values]
    for start in range(0, len(keys), 1000):
        conn.execute(
            rows.delete().where(
                rows.c.resource == resource, rows.c.source_key.in_(keys[start : start + 1000])
            )
        )
    for start in range(0, len(values), 5000):
        bulk.insert_rows(conn, rows, values[start : start + 5000])


def store_rows(
    conn: sa.Connection,
    resource: Resource,
    manifest: Manifest,
    frame: pd.DataFrame,
    run_id: str,
    now: dt.datetime,
) -> dict[str, str]:
    """Keep the judged rows of one batch as merged rows; return the groups whose record must be rebuilt.

    A deleted row leaves the group it was in (its own code may be unreadable by now); a row whose code
    changed leaves its old group, which is rebuilt too. Each group comes with the key of a row that
    touched it: what a delete names when no row is left in the group.
    """
    merge = _merge_of(manifest)
    if frame.empty:
        return {}
    old = _stored(conn, resource.name, frame["source_key"].astype(str).tolist())
    keys = twin_keys(frame[merge.twins], frame[merge.division])
    affected: dict[str, str] = {}
    values = []
    for position, rec in enumerate(frame.to_dict("records")):
        before = old.get(str(rec["source_key"]))
        before_group = before.group_key if before is not None else None
        group = before_group if rec["deleted"] else rec[merge.by]
        for touched in (group, before_group):
            if touched:
                affected[touched] = str(rec["source_key"])
        values.append(
            {
                "resource": resource.name,
                "source_key": str(rec["source_key"]),
                "group_key": group,
                "twin_key": None if rec["deleted"] else keys.iloc[position],
                "deleted": bool(rec["deleted"]),
                "newest": rec.get("sdx_newest"),
                "level": _level(rec.get("sdx_level")),
                "data": json.dumps({n: _json_value(rec[n]) for n in resource.item_names}, ensure_ascii=False),
                "warnings": rec["warnings"],
                "run_id": run_id,
                "updated_at": now,
            }
        )
    _replace(conn, resource.name, values)
    return affected


def vanish_rows(
    conn: sa.Connection, resource: Resource, read_keys: set[str], run_id: str, now: dt.datetime
) -> tuple[list[str], dict[str, str]]:
    """After a full read, mark merged rows whose source row was not read as deleted (hard deletes)."""
    rows = state.merged_rows
    live = conn.execute(
        sa.select(rows.c.source_key, rows.c.group_key).where(
            rows.c.resource == resource.name, rows.c.deleted.is_(False)
        )
    ).all()
    gone = [r for r in live if r.source_key not in read_keys]
    for start in range(0, len(gone), 1000):
        conn.execute(
            rows.update()
            .where(
                rows.c.resource == resource.name,
                rows.c.source_key.in_([r.source_key for r in gone[start : start + 1000]]),
            )
            .values(deleted=True, twin_key=None, run_id=run_id, updated_at=now)
        )
    return [r.source_key for r in gone], {r.group_key: r.source_key for r in gone if r.group_key}


def _canonical_order(frame: pd.DataFrame) -> pd.DataFrame:
    # Newest first (never stamped = oldest), then city before district before town, then the key.
    frame = frame.assign(_stamped=frame["newest"].notna(), _newest=frame["newest"].fillna(pd.Timestamp.min))
    return frame.sort_values(
        ["group_key", "_stamped", "_newest", "level", "source_key"],
        ascending=[True, False, False, True, True],
    )


def _group_rows(conn: sa.Connection, resource: str, groups: dict[str, str]) -> pd.DataFrame:
    rows = state.merged_rows
    mine = sa.select(rows).where(rows.c.resource == resource)
    ordered = sorted(groups)
    if len(ordered) > _GROUPS_PER_QUERY:
        # A first or full run touches most groups: one read of the resource's rows beats many IN lists.
        found = conn.execute(mine).all()
    else:
        found = conn.execute(mine.where(rows.c.group_key.in_(ordered))).all()
    frame = pd.DataFrame(found, columns=[c.name for c in rows.columns])
    return frame[frame["group_key"].isin(groups)]


def group_records(
    conn: sa.Connection, resource: Resource, manifest: Manifest, groups: dict[str, str]
) -> pd.DataFrame:
    """The curated records of `groups`: each from its canonical live row, or a delete when none is live.

    `groups` maps each group to the source key a delete names when the group has no row left at all.
    """
    frame = _group_rows(conn, resource.name, groups)
    records = []
    families = {item.name: item.sql_family for item in resource.items}
    alive: set[str] = set()
    if len(frame):
        frame["newest"] = pd.to_datetime(frame["newest"], errors="coerce")
        live = _canonical_order(frame[~frame["deleted"].astype(bool)]).drop_duplicates("group_key")
        for row in live.itertuples(index=False):
            data = json.loads(row.data)
            records.append(
                {
                    "record_id": manifest.record_id_prefix + row.group_key,
                    "source_key": row.source_key,
                    "deleted": False,
                    "warnings": row.warnings,
                    **{name: _item_value(families[name], data.get(name)) for name in resource.item_names},
                }
            )
        alive = set(live["group_key"])
    for group in sorted(set(groups) - alive):
        records.append(
            {
                "record_id": manifest.record_id_prefix + group,
                "source_key": groups[group],
                "deleted": True,
                "warnings": None,
                **dict.fromkeys(resource.item_names),
            }
        )
    columns = ["record_id", "source_key", "deleted", "warnings", *resource.item_names]
    # Object columns keep None for a missing value (text columns would otherwise hold NaN, written as 'NaN').
    frame = pd.DataFrame(records, columns=columns, dtype=object)
    return frame.where(frame.notna(), None)


def curate_merged(
    conn: sa.Connection,
    resource: Resource,
    manifest: Manifest,
    frames: Iterable[pd.DataFrame],
    read_keys: set[str] | None,
    run_id: str,
    now: dt.datetime,
) -> tuple[pd.DataFrame, list[str]]:
    """Store a run's judged rows as merged rows; return the records of every group touched and vanished keys.

    `read_keys` is every key a full read saw (None for an incremental read, which cannot see hard deletes).
    """
    affected: dict[str, str] = {}
    for frame in frames:
        affected |= store_rows(conn, resource, manifest, frame, run_id, now)
    gone: list[str] = []
    if read_keys is not None:
        gone, groups = vanish_rows(conn, resource, read_keys, run_id, now)
        affected |= groups
    return group_records(conn, resource, manifest, affected), gone
