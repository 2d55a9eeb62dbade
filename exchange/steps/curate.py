"""Curate: load a resource's judged records into the curated database, with quarantine and watermark, at once."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import sqlalchemy as sa

from catalog import Resource
from connectors.sql import bulk
from exchange import faults, settings, staging, state
from exchange.context import RunContext, shanghai_now
from exchange.steps import merge
from quality.quarantine import record_quarantine, resolve_vanished
from schemas.canonical import record_digest
from schemas.manifest import manifest_for

log = logging.getLogger(__name__)


def _existing(conn: sa.Connection, table: sa.Table, ids: list[str]) -> dict[str, sa.Row]:
    found: dict[str, sa.Row] = {}
    cols = [table.c.record_id, table.c.sdx_digest, table.c.sdx_seq, table.c.sdx_deleted]
    for start in range(0, len(ids), 1000):
        found.update(
            {
                r.record_id: r
                for r in conn.execute(
                    sa.select(*cols).where(bulk.key_in(conn, table.c.record_id, ids[start : start + 1000]))
                )
            }
        )
    return found


def _load_batch(
    conn: sa.Connection, resource: Resource, frame: pd.DataFrame, run_id: str, now: dt.datetime
) -> dict[str, int]:
    table = state.curated(resource)
    existing = _existing(conn, table, frame["record_id"].tolist())
    inserts, updates = [], []
    counts = {"inserted": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    for rec in frame.to_dict("records"):
        data = {name: rec[name] for name in resource.item_names}
        old = existing.get(rec["record_id"])
        if rec["deleted"]:
            if old is None or old.sdx_deleted:
                counts["unchanged"] += 1
                continue
            digest, kind = record_digest(None), "deleted"
        else:
            digest = record_digest(data)
            if old is not None and not old.sdx_deleted and old.sdx_digest == digest:
                counts["unchanged"] += 1
                continue
            kind = "updated" if old is not None else "inserted"
        values = {
            "sdx_source_key": rec["source_key"], "sdx_deleted": bool(rec["deleted"]), "sdx_digest": digest,
            "sdx_seq": (old.sdx_seq + 1) if old is not None else 1, "sdx_warnings": rec["warnings"],
            "sdx_run_id": run_id, "sdx_updated_at": now,
        }  # fmt: skip
        counts[kind] += 1
        if old is None:
            inserts.append({"record_id": rec["record_id"], **data, **values})
        elif kind == "deleted":
            # The last data stays beside the delete: the exchange needs its division, reports its name.
            updates.append({"k_record_id": rec["record_id"], **values})
        else:
            updates.append({"k_record_id": rec["record_id"], **data, **values})
    if inserts:
        bulk.insert_rows(conn, table, inserts)
    for group in _by_columns(updates):
        conn.execute(table.update().where(table.c.record_id == sa.bindparam("k_record_id")), group)
    return counts


def _by_columns(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    # executemany needs the same keys in every row; deletes and updates set different columns.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


def _noted(frames: Iterable[pd.DataFrame], seen: set[str]) -> Iterator[pd.DataFrame]:
    # Every record id that passed clears its earlier quarantine entry.
    for frame in frames:
        seen.update(frame["record_id"])
        yield frame


def _vanished(conn: sa.Connection, resource: Resource, read_keys: set[str]) -> pd.DataFrame:
    # A live curated record whose source row was not read by a full scan is gone (hard delete).
    table = state.curated(resource)
    live = conn.execute(
        sa.select(table.c.record_id, table.c.sdx_source_key).where(table.c.sdx_deleted.is_(False))
    )
    gone = [(rid, key) for rid, key in live if key not in read_keys]
    return pd.DataFrame(
        {
            "record_id": [g[0] for g in gone],
            "source_key": [g[1] for g in gone],
            "deleted": True,
            "warnings": None,
        }
        | {name: None for name in resource.item_names}
    )


def _store_snapshot(
    conn: sa.Connection, resource: Resource, keys: pd.DataFrame, gone: list[str], run_id: str
) -> None:
    # Hashes of the rows this run processed replace the old ones; vanished rows leave the snapshot.
    snap = state.snapshots
    changed = keys.loc[keys["passed"].astype(bool)]
    stale = changed["key"].tolist() + gone
    for start in range(0, len(stale), 1000):
        conn.execute(
            snap.delete().where(
                snap.c.resource == resource.name,
                bulk.key_in(conn, snap.c.source_key, stale[start : start + 1000]),
            )
        )
    rows = [
        {"resource": resource.name, "source_key": k, "row_hash": h, "run_id": run_id}
        for k, h in zip(changed["key"], changed["row_hash"], strict=True)
    ]
    bulk.insert_rows(conn, snap, rows)


def _read_keys(ctx: RunContext, source: str, partition_values: list[str]) -> pd.DataFrame:
    keys = pq.read_table(staging.path(ctx.run_id, source, "keys.parquet")).to_pandas()
    # The same key can be read twice when a row moves while the cursor runs; the last read wins.
    keys = keys.loc[keys["partition"].isin(partition_values)].drop_duplicates("key", keep="last")
    return keys.reset_index(drop=True)


def _hold(
    ctx: RunContext, resource_name: str, standardized: dict[str, Any], extract: dict[str, Any]
) -> dict[str, Any]:
    # Held by the quality gate: nothing loaded, the watermark stays, so the next run reads it all again.
    stats = {
        "held": True,
        "reasons": standardized["gate"]["reasons"],
        "inserted": 0,
        "updated": 0,
        "deleted": 0,
        "unchanged": 0,
    }
    now = shanghai_now()
    with ctx.curated.get_conn().begin() as conn:
        state.record_step(conn, ctx.run_id, resource_name, "curate", stats, now)
        state.record_step(conn, ctx.run_id, resource_name, "standardize", standardized, now)
        state.record_step(conn, ctx.run_id, resource_name, "extract", extract, now)
    log.error("curate %s: held back by the quality gate", resource_name)
    return stats


def curate_resource(ctx: RunContext, resource_name: str) -> dict[str, Any]:
    """Upsert valid records by record id (new digest → seq + 1), record quarantine, move the watermark."""
    resource = ctx.catalog.resource(resource_name)
    manifest = manifest_for(resource_name)
    extract = staging.read_json(staging.path(ctx.run_id, manifest.source, "extract.json"))
    standardized = staging.read_json(staging.path(ctx.run_id, resource_name, "standardize.json"))
    if standardized.get("gate", {}).get("held"):
        return _hold(ctx, resource_name, standardized, extract)
    valid = pq.ParquetFile(staging.path(ctx.run_id, resource_name, "valid.parquet"))
    findings = staging.to_frame(pq.read_table(staging.path(ctx.run_id, resource_name, "findings.parquet")))
    errors = findings[findings["severity"] == "error"]
    keys = _read_keys(ctx, manifest.source, manifest.partition_values([resource_name]))
    clock, now = time.monotonic(), shanghai_now()
    totals = {"inserted": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    seen: set[str] = set(findings["record_id"].dropna())
    full_read = extract["mode"] in ("full", "snapshot")
    batches = (staging.to_frame(b) for b in valid.iter_batches(batch_size=settings.batch_size()))
    with ctx.curated.get_conn().begin() as conn:
        loads: Iterable[pd.DataFrame] = _noted(batches, seen)
        gone: list[str] = []
        if manifest.merge is not None:
            # Rows of one record: kept as merged rows, and the records of the groups they touch rebuilt.
            records, gone = merge.curate_merged(
                conn, resource, manifest, loads, set(keys["key"]) if full_read else None, ctx.run_id, now
            )
            loads = [records]
        for frame in loads:
            for key, value in _load_batch(conn, resource, frame, ctx.run_id, now).items():
                totals[key] += value
        vanished_keys = 0
        if full_read:
            if manifest.merge is None:
                vanished = _vanished(conn, resource, set(keys["key"]))
                gone = vanished["source_key"].tolist()
                for key, value in _load_batch(conn, resource, vanished, ctx.run_id, now).items():
                    totals[key] += value
            # A quarantined record whose source row is gone was never curated: only a full read can close it.
            vanished_keys = resolve_vanished(
                conn, state.quarantine, resource, set(keys["key"]), run_id=ctx.run_id, now=now
            )
        _store_snapshot(conn, resource, keys, gone, ctx.run_id)
        quarantine = record_quarantine(
            conn, state.quarantine, resource, source_table=manifest.primary.table, errors=errors,
            seen_record_ids=sorted(seen), run_id=ctx.run_id, now=now,
        )  # fmt: skip
        quarantine["resolved_vanished"] = vanished_keys
        if extract.get("changed_until"):
            state.move_watermark(
                conn, resource_name, dt.datetime.fromisoformat(str(extract["changed_until"])), ctx.run_id, now
            )
        stats = {**totals, "quarantine": quarantine, "seconds": round(time.monotonic() - clock, 3)}
        state.record_step(conn, ctx.run_id, resource_name, "curate", stats, now)
        state.record_step(conn, ctx.run_id, resource_name, "standardize", standardized, now)
        state.record_step(conn, ctx.run_id, resource_name, "extract", extract, now)
        faults.crash_point(faults.CURATE_BEFORE_COMMIT)
    faults.crash_point(faults.CURATE_AFTER_COMMIT)
    log.info("curate %s: %s", resource_name, stats)
    return stats
