"""Extract: read what changed in one legacy source into the run's staging area."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.legacy.query import Window, build_select
from exchange import settings, staging, state
from exchange.context import RunContext, shanghai_now
from schemas.manifest import manifests

log = logging.getLogger(__name__)


def _since(ctx: RunContext, resources: list[str], lookback: dt.timedelta) -> dt.datetime | None:
    if ctx.mode == "full":
        return None
    with ctx.curated.get_conn().connect() as conn:
        marks = [state.watermark(conn, r) for r in resources]
    if any(m is None for m in marks):
        return None  # a resource never loaded needs everything
    # Rows committed late with an earlier GXSJ, and bulk fixes sharing one GXSJ, fall in the look-back.
    return min(m for m in marks if m is not None) - lookback


def extract_source(ctx: RunContext, source: str, resources: list[str] | None = None) -> dict[str, Any]:
    """Stream a source's changed rows into `raw.parquet` and note the watermark they would justify."""
    manifest = manifests()[source]
    resources = resources or manifest.resources()
    since = _since(ctx, resources, manifest.lookback)
    started = shanghai_now()
    stmt = build_select(manifest, manifest.partition_values(resources), Window(since=since))
    change_labels = manifest.change_labels()
    target = staging.path(ctx.run_id, source, "raw.parquet")
    tmp = target.with_suffix(".parquet.tmp")
    rows, newest, clock = 0, None, time.monotonic()
    writer: pq.ParquetWriter | None = None
    try:
        for batch in ctx.legacy.read_batches(
            stmt, timestamp_columns=set(change_labels), batch_size=settings.batch_size()
        ):
            if writer is None:
                writer = pq.ParquetWriter(tmp, batch.schema)
            writer.write_batch(batch)
            rows += batch.num_rows
            newest = _newest_change(batch, change_labels, started, newest)
            rate = rows / max(time.monotonic() - clock, 1e-6)
            log.info("extract %s: %d rows (%.0f rows/s)", source, rows, rate)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # nothing changed: an empty file keeps the next steps uniform
        pq.write_table(pa.table({}), tmp)
    tmp.replace(target)
    # A GXSJ in the future (a server with a wrong clock) must not push the watermark past rows not yet written.
    result = {
        "source": source,
        "resources": resources,
        "mode": ctx.mode,
        "since": since,
        "rows": rows,
        "changed_until": newest,
        "started": started,
        "seconds": round(time.monotonic() - clock, 3),
    }
    staging.write_json(staging.path(ctx.run_id, source, "extract.json"), result)
    return result


def _newest_change(
    batch: pa.RecordBatch, labels: list[str], cap: dt.datetime, newest: dt.datetime | None
) -> dt.datetime | None:
    for label in labels:
        values = [
            v
            for v in batch.column(batch.schema.get_field_index(label)).to_pylist()
            if v is not None and v <= cap
        ]
        if values:
            candidate = max(values)
            newest = candidate if newest is None or candidate > newest else newest
    return newest
