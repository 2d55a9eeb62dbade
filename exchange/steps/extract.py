"""Extract: read what changed in one legacy source into the run's staging area."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from connectors.legacy.attributes import pivot_attributes
from connectors.legacy.changes import (
    MAX_PARAMETERS,
    SharedChanges,
    TooManyChanges,
    changed_keys,
    read_by_key,
    shared_columns,
)
from connectors.legacy.query import Window, build_attribute_select, build_select
from exchange import faults, settings, staging, state
from exchange.context import RunContext, shanghai_now
from schemas.manifest import Manifest, manifests

log = logging.getLogger(__name__)

# Changed records are read by key while there are at most this many batches of them: their keys are held
# in memory. Past that (a bulk fix touching most rows) one windowed pass is as cheap and holds nothing.
BY_KEY_LIMIT = 10

# Every row read: its key, which resource it feeds, its content hash, and whether it went on to be processed.
KEYS_SCHEMA = pa.schema(
    [("key", pa.string()), ("partition", pa.string()), ("row_hash", pa.string()), ("passed", pa.bool_())]
)


def _window(ctx: RunContext, resources: list[str], lookback: dt.timedelta) -> Window:
    if ctx.mode == "backfill":
        return Window(since=ctx.since, until=ctx.until)
    if ctx.mode in ("full", "snapshot"):
        return Window()
    with ctx.curated.get_conn().connect() as conn:
        marks = [state.watermark(conn, r) for r in resources]
    if any(m is None for m in marks):
        return Window()  # a resource never loaded needs everything
    # Rows committed late with an earlier GXSJ, and bulk fixes sharing one GXSJ, fall in the look-back.
    return Window(since=min(m for m in marks if m is not None) - lookback)


def row_hashes(batch: pa.RecordBatch, content: list[str]) -> list[str]:
    """A 64-bit content hash per row over `content` columns (hex); change timestamps are left out.

    The value is pandas' `hash_pandas_object(frame, index=False)` of the columns as Python objects (None
    for null), which the stored snapshots hold: it is computed column by column with `pandas.util.hash_array`
    and combined as pandas combines them (`pandas.core.util.hashing.combine_hash_arrays`, private, hence
    written out here), skipping the DataFrame that made hashing a sixth of the extraction's time.
    """
    combined = np.full(batch.num_rows, 0x345678, dtype=np.uint64)
    multiplier = np.uint64(1000003)
    for position, name in enumerate(content):
        # Content columns are text (only change timestamps are not): str objects, None for null.
        column = batch.column(batch.schema.get_field_index(name))
        combined ^= pd.util.hash_array(column.to_numpy(zero_copy_only=False))
        combined *= multiplier
        multiplier += np.uint64(82520 + 2 * (len(content) - position))
    combined += np.uint64(97531)
    return [f"{h:016x}" for h in combined.tolist()]


def _stored_hashes(conn: sa.Connection, resources: list[str], keys: list[str]) -> dict[str, str]:
    snap = state.snapshots
    found: dict[str, str] = {}
    for start in range(0, len(keys), 1000):
        stmt = sa.select(snap.c.source_key, snap.c.row_hash).where(
            snap.c.resource.in_(resources), snap.c.source_key.in_(keys[start : start + 1000])
        )
        found.update({key: row_hash for key, row_hash in conn.execute(stmt)})
    return found


class _Staged:
    """The files one extraction writes, created on the first batch and swapped in atomically at the end."""

    def __init__(self, ctx: RunContext, source: str) -> None:
        self.raw_path = staging.path(ctx.run_id, source, "raw.parquet")
        self.keys_path = staging.path(ctx.run_id, source, "keys.parquet")
        self.raw: pq.ParquetWriter | None = None
        self.keys = pq.ParquetWriter(self.keys_path.with_suffix(".parquet.tmp"), KEYS_SCHEMA)
        self.schema: pa.Schema | None = None

    def write(self, rows: pa.RecordBatch, keys: pa.RecordBatch) -> None:
        if self.raw is None:
            self.schema = rows.schema
            self.raw = pq.ParquetWriter(self.raw_path.with_suffix(".parquet.tmp"), rows.schema)
        self.raw.write_batch(rows)
        self.keys.write_batch(keys)

    def close(self) -> None:
        self.keys.close()
        if self.raw is None:  # nothing changed: an empty file keeps the next steps uniform
            pq.write_table(pa.table({}), self.raw_path.with_suffix(".parquet.tmp"))
        else:
            self.raw.close()
        self.raw_path.with_suffix(".parquet.tmp").replace(self.raw_path)
        self.keys_path.with_suffix(".parquet.tmp").replace(self.keys_path)


def extract_source(ctx: RunContext, source: str, resources: list[str] | None = None) -> dict[str, Any]:
    """Stream a source's rows of `resources` into staging: `raw.parquet` (rows to process) and `keys.parquet`.

    `keys.parquet` lists every row read with its content hash: curate stores the hashes (snapshot) and, in
    the full and snapshot modes, turns curated records whose key was not read into deletes.
    """
    manifest = manifests()[source]
    resources = resources or manifest.resources()
    window = _window(ctx, resources, manifest.lookback)
    started = shanghai_now()
    change_labels = manifest.change_labels()
    read, passed, newest, clock = 0, 0, None, time.monotonic()
    staged = _Staged(ctx, source)
    curated = ctx.curated.get_conn()
    # Quarantined records are judged again every run, changed or not: a fix or a catalogue change frees them.
    recheck = _quarantined_keys(curated, resources) if ctx.mode != "full" else set()
    try:
        for batch in _read(ctx, manifest, manifest.partition_values(resources), window, change_labels):
            rows, keys = _changed_rows(ctx, manifest, resources, batch, change_labels, curated, recheck)
            staged.write(rows, keys)
            recheck -= set(keys.column(0).to_pylist())
            read, passed = read + batch.num_rows, passed + rows.num_rows
            newest = _newest_change(batch, change_labels, started, newest)
            _progress(source, read, passed, clock)
            faults.crash_point(faults.EXTRACT_MID_SOURCE)
        # Those outside the window are read by key; they do not move the watermark.
        for batch in _read_keys(ctx, manifest, manifest.partition_values(resources), sorted(recheck)):
            rows, keys = _changed_rows(ctx, manifest, resources, batch, change_labels, curated, recheck)
            staged.write(rows, keys)
            read, passed = read + batch.num_rows, passed + rows.num_rows
            _progress(source, read, passed, clock)
    finally:
        staged.close()
    faults.crash_point(faults.EXTRACT_AFTER_STAGING)
    result = {
        "source": source, "resources": resources, "mode": ctx.mode, "since": window.since, "until": window.until,
        "rows_read": read, "rows": passed,
        # Only a forward-looking run moves the watermark; a future GXSJ (a server with a wrong clock) is
        # capped at the run's start so it cannot skip rows written before it.
        "changed_until": newest if ctx.mode in ("incremental", "full", "snapshot") else None,
        "started": started, "seconds": round(time.monotonic() - clock, 3),
    }  # fmt: skip
    staging.write_json(staging.path(ctx.run_id, source, "extract.json"), result)
    return result


def _quarantined_keys(curated: sa.Engine, resources: list[str]) -> set[str]:
    if not sa.inspect(curated).has_table(state.quarantine.name):
        return set()
    q = state.quarantine
    stmt = sa.select(q.c.source_key).where(q.c.resource.in_(resources), q.c.resolved_at.is_(None)).distinct()
    with curated.connect() as conn:
        return {str(key) for (key,) in conn.execute(stmt)}


def _read_keys(
    ctx: RunContext, manifest: Manifest, partition_values: list[str], keys: list[str]
) -> Iterator[pa.RecordBatch]:
    """The rows of `keys`, whatever their change time, with their attributes."""
    size, timestamps = settings.batch_size(), set(manifest.change_labels())
    for batch in read_by_key(
        ctx.legacy, manifest, partition_values, keys, timestamp_columns=timestamps, batch_size=size
    ):
        yield _with_attributes(ctx, manifest, batch, in_database_order=False)


def _progress(source: str, read: int, passed: int, clock: float) -> None:
    log.info(
        "extract %s: %d rows read, %d passed (%.0f rows/s)",
        source, read, passed, read / max(time.monotonic() - clock, 1e-6),
    )  # fmt: skip


def _read(
    ctx: RunContext, manifest: Manifest, partition_values: list[str], window: Window, change_labels: list[str]
) -> Iterator[pa.RecordBatch]:
    """The source's rows in `window` with their attributes: by key when few changed, else in one windowed pass."""
    size, timestamps = settings.batch_size(), set(change_labels)
    if window.since is not None:
        try:
            # The run's sources share the scans of the tables they have in common (T_QY_JBXX above all).
            shared = SharedChanges(
                staging.run_dir(ctx.run_id) / "changes",
                shared_columns(manifests().values()),
                reach=_earliest_since(ctx),
            )
            keys = changed_keys(
                ctx.legacy, manifest, partition_values, window, limit=BY_KEY_LIMIT * size, shared=shared
            )
        except TooManyChanges:
            log.info(
                "extract %s: more than %d records changed, reading the window in one pass",
                manifest.source,
                BY_KEY_LIMIT * size,
            )
        else:
            log.info(
                "extract %s: %d records changed since %s, reading them by key",
                manifest.source,
                len(keys),
                window.since,
            )
            yield from _read_keys(ctx, manifest, partition_values, keys)
            return
    for batch in ctx.legacy.read_batches(
        build_select(manifest, partition_values, window), timestamp_columns=timestamps, batch_size=size
    ):
        yield _with_attributes(ctx, manifest, batch, in_database_order=True)


def _earliest_since(ctx: RunContext) -> dt.datetime | None:
    # Where the earliest window of the run's sources starts: a shared scan reaching there serves them all.
    starts = [_window(ctx, m.resources(), m.lookback).since for m in manifests().values()]
    return min((since for since in starts if since is not None), default=None)


def _with_attributes(
    ctx: RunContext, manifest: Manifest, batch: pa.RecordBatch, *, in_database_order: bool
) -> pa.RecordBatch:
    # The batch's attribute rows, folded into one column per item beside the joined columns.
    if manifest.attributes is None or batch.num_rows == 0:
        return batch
    keys = [str(k) for k in batch.column(batch.schema.get_field_index(manifest.key_label)).to_pylist()]
    # A windowed pass's keys come in the database's order of the primary key: where the attribute table's
    # key compares the same way, the first and last bound them (the legacy table has no index on its key).
    # Keys read by key come in Python's order, which need not be the database's (case, trailing spaces).
    attrs = manifest.attributes
    same_order = in_database_order and ctx.legacy.collation(
        manifest.primary.table, manifest.key_column
    ) == ctx.legacy.collation(attrs.table, attrs.key)
    rows = []
    for start in range(0, len(keys), MAX_PARAMETERS):
        chunk = keys[start : start + MAX_PARAMETERS]
        bounds = (chunk[0], chunk[-1]) if same_order else None
        rows += ctx.legacy.read_rows(build_attribute_select(manifest, chunk, bounds))
    for label, values in pivot_attributes(manifest.attributes, rows, keys).items():
        batch = batch.append_column(label, values)
    return batch


def _changed_rows(
    ctx: RunContext,
    manifest: Manifest,
    resources: list[str],
    batch: pa.RecordBatch,
    change_labels: list[str],
    curated: sa.Engine,
    recheck: set[str],
) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    content = [name for name in batch.schema.names if name not in change_labels]
    hashes = row_hashes(batch, content)
    keys = batch.column(batch.schema.get_field_index(manifest.key_label)).to_pylist()
    if manifest.partition_label:
        partition = batch.column(batch.schema.get_field_index(manifest.partition_label)).cast(pa.string())
    else:
        partition = pa.array([resources[0]] * len(keys), pa.string())
    changed = [True] * len(keys)
    if ctx.mode == "snapshot":
        with curated.connect() as conn:
            stored = _stored_hashes(conn, resources, [str(k) for k in keys])
        changed = [stored.get(str(k)) != h or str(k) in recheck for k, h in zip(keys, hashes, strict=True)]
    key_batch = pa.record_batch(
        [pa.array(keys, pa.string()), partition, pa.array(hashes, pa.string()), pa.array(changed)],
        schema=KEYS_SCHEMA,
    )
    return batch.filter(pa.array(changed)), key_batch


def _newest_change(
    batch: pa.RecordBatch, labels: list[str], cap: dt.datetime, newest: dt.datetime | None
) -> dt.datetime | None:
    for label in labels:
        column = batch.column(batch.schema.get_field_index(label))
        candidate = pc.max(pc.filter(column, pc.less_equal(column, pa.scalar(cap, column.type)))).as_py()
        if candidate is not None and (newest is None or candidate > newest):
            newest = candidate
    return newest
