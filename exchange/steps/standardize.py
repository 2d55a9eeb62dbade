"""Standardize and validate: bring one resource's extracted rows to catalogue form and judge each record."""

from __future__ import annotations

import collections
import logging
import time
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from exchange import faults, settings, staging, state
from exchange.context import RunContext
from exchange.steps import merge
from quality.expectations import QualityGate, ResourceValidation
from quality.records import standardize_records
from quality.rules import compile_rules
from quality.validation import judge
from schemas.manifest import manifest_for
from schemas.tables import arrow_schema

log = logging.getLogger(__name__)

RECORD_META = [
    ("record_id", pa.string()),
    ("source_key", pa.string()),
    ("deleted", pa.bool_()),
    ("warnings", pa.string()),
]
FINDINGS_SCHEMA = pa.schema(
    [("record_id", pa.string()), ("source_key", pa.string()), ("division", pa.string()), ("item", pa.string()),
     ("issue", pa.string()), ("severity", pa.string()), ("value", pa.string())]
)  # fmt: skip


def _is_missing(value: object) -> bool:
    # Lists (code lists, chemical lists) are values, whatever pd.isna says of their elements.
    return not isinstance(value, (list, dict)) and bool(pd.isna(value))


def _raw_batches(ctx: RunContext, source: str, column: str | None, values: list[str]) -> Any:
    raw = pq.ParquetFile(staging.path(ctx.run_id, source, "raw.parquet"))
    for batch in raw.iter_batches(batch_size=settings.batch_size()):
        if batch.num_rows == 0:
            continue
        if column is None:  # a one-resource source: every row is the resource's
            yield batch
        elif column in batch.schema.names:
            yield batch.filter(pc.is_in(batch.column(column), value_set=pa.array(values)))


def standardize_resource(ctx: RunContext, resource_name: str) -> dict[str, Any]:
    """Write `valid.parquet` (records that pass, deletes included) and `findings.parquet` for a resource."""
    resource = ctx.catalog.resource(resource_name)
    manifest = manifest_for(resource_name)
    checks = compile_rules(resource, ctx.catalog)
    record_schema = pa.schema([*RECORD_META, *merge.rank_fields(manifest), *arrow_schema(resource)])
    twins = None
    if manifest.merge is not None:
        with ctx.curated.get_conn().connect() as conn:
            twins = merge.twin_index(conn, resource, manifest, ctx.run_id, ctx.catalog)
    clock = time.monotonic()
    counts: collections.Counter[str] = collections.Counter()
    by_issue: collections.Counter[str] = collections.Counter()
    failures: collections.Counter[str] = collections.Counter()
    # Great Expectations validates each batch as it comes (quality/expectations.py), the gates at the end.
    validation = ResourceValidation(resource, checks, QualityGate.of(resource, ctx.catalog.settings))
    gx_seconds = 0.0
    partition_values = manifest.partition_values([resource_name])
    valid_path = staging.path(ctx.run_id, resource_name, "valid.parquet")
    findings_path = staging.path(ctx.run_id, resource_name, "findings.parquet")
    with (
        pq.ParquetWriter(valid_path, record_schema) as valid_out,
        pq.ParquetWriter(findings_path, FINDINGS_SCHEMA) as found_out,
    ):
        for batch in _raw_batches(ctx, manifest.source, manifest.partition_label, partition_values):
            raw = staging.to_frame(batch)
            standardized = standardize_records(resource, manifest, raw, ctx.catalog)
            if twins is not None:  # rows of one record: old codes resolved by a twin row, rows ranked
                standardized = merge.with_rank(twins.resolve(standardized, manifest), manifest, raw)
            # Old codes of the joined enterprise row: resolved by the enterprise master, curated first.
            standardized = merge.resolve_by_master(
                ctx.curated.get_conn(), resource, manifest, standardized, raw, ctx.catalog
            )
            verdict = judge(resource, standardized, ctx.catalog, ctx.logical_date)
            records = verdict.records
            valid = records[~records["quarantined"]]
            valid_out.write_table(
                pa.Table.from_pandas(valid[record_schema.names], schema=record_schema, preserve_index=False)
            )
            found = verdict.findings.copy()
            found["source_key"] = found["row"].map(records["source_key"])
            found["division"] = found["row"].map(records["xzqhdm"]) if "xzqhdm" in records else None
            # Missing values stay missing (NaN would otherwise become the text "nan" in the quarantine).
            found["value"] = found["value"].map(lambda v: None if _is_missing(v) else str(v))
            found_out.write_table(
                pa.Table.from_pandas(
                    found[FINDINGS_SCHEMA.names].astype(object), schema=FINDINGS_SCHEMA, preserve_index=False
                )
            )
            counts.update(
                extracted=len(records), deleted=int(records["deleted"].sum()), valid=len(valid),
                quarantined=int(records["quarantined"].sum()),
            )  # fmt: skip
            errors = verdict.findings[verdict.findings["severity"] == "error"]
            by_issue.update(errors.drop_duplicates(["row", "issue"])["issue"].tolist())
            failures.update({o.check.name: int(o.fails.sum()) for o in verdict.outcomes})
            gx_clock = time.monotonic()
            validation.add(records)
            gx_seconds += time.monotonic() - gx_clock
            log.info("standardize %s: %d records", resource_name, counts["extracted"])
    stats: dict[str, Any] = {
        **{k: counts.get(k, 0) for k in ("extracted", "deleted", "valid", "quarantined")},
        "quarantined_by_issue": dict(by_issue.most_common()),
        "rule_failures": dict(failures),
        "seconds": round(time.monotonic() - clock - gx_seconds, 3),
    }
    gx = _finish_gx(ctx, resource_name, validation, gx_seconds)
    gate = _gate(ctx, resource_name, gx)
    if gate["held"]:
        log.error("quality gate holds %s back: %s", resource_name, "; ".join(gate["reasons"]))
    stats |= {"gx": gx, "gate": gate}
    staging.write_json(staging.path(ctx.run_id, resource_name, "standardize.json"), stats)
    faults.crash_point(faults.AFTER_STANDARDIZE)
    return stats


def _gate(ctx: RunContext, resource_name: str, gx: dict[str, Any]) -> dict[str, Any]:
    # Batch-level expectations decide whether this resource may be curated and delivered this run.
    from quality.expectations import validate_read_count

    reasons = list(gx.get("gate_failures", []))
    manifest = manifest_for(resource_name)
    extract = staging.read_json(staging.path(ctx.run_id, manifest.source, "extract.json"))
    if extract["mode"] in ("full", "snapshot"):
        resource = ctx.catalog.resource(resource_name)
        read = pq.read_table(staging.path(ctx.run_id, manifest.source, "keys.parquet"), columns=["partition"])
        rows_read = int(
            pc.sum(
                pc.is_in(read.column("partition"), pa.array(manifest.partition_values([resource_name])))
            ).as_py()
            or 0
        )
        with ctx.curated.get_conn().connect() as conn:
            live = conn.execute(
                sa.select(sa.func.count())
                .select_from(state.curated(resource))
                .where(state.curated(resource).c.sdx_deleted.is_(False))
            ).scalar_one()
        reasons += validate_read_count(
            resource, rows_read, int(live), QualityGate.of(resource, ctx.catalog.settings)
        ).gate_failures
    return {"held": bool(reasons), "reasons": reasons}


def _open_quarantine(ctx: RunContext, resource_name: str) -> set[str]:
    # Record ids in quarantine before this run: extraction reads them again every run.
    q = state.quarantine
    stmt = sa.select(q.c.record_id).where(q.c.resource == resource_name, q.c.resolved_at.is_(None))
    with ctx.curated.get_conn().connect() as conn:
        return set(conn.execute(stmt).scalars())


def _finish_gx(
    ctx: RunContext, resource_name: str, validation: ResourceValidation, seconds: float
) -> dict[str, Any]:
    # The gates over the whole resource, then the result the quality report shows (gx_result.json).
    if not validation.batches:
        return {"success": True, "unexpected": {}, "seconds": 0.0}
    clock = time.monotonic()
    result = validation.finish(_open_quarantine(ctx, resource_name))
    staging.write_json(staging.path(ctx.run_id, resource_name, "gx_result.json"), result.result)
    return {
        "success": result.success,
        "gate_failures": list(result.gate_failures),
        "unexpected": result.unexpected,
        "seconds": round(seconds + time.monotonic() - clock, 3),
    }
