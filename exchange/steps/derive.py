"""Derive: build a resource's changed records from the curated resources it reads, into the run's staging area.

The staged files are those an extraction writes (`raw.parquet`, `keys.parquet`, `extract.json`), so the
derived records go through the same standardize/validate and curate steps as every other resource.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from exchange import settings, staging, state
from exchange.context import RunContext, shanghai_now
from exchange.derived_fields import BUILDERS, BuildInputs
from exchange.steps.extract import KEYS_SCHEMA, row_hashes
from schemas.canonical import canonical_json
from schemas.derived import (
    ALIAS,
    DELETED_COLUMN,
    KEY_COLUMN,
    PRESENT_COLUMN,
    Derivation,
    ItemSpec,
    derivations,
)

log = logging.getLogger(__name__)

# Rows per IN list: SQLite binds at most 32,766 parameters, and short lists keep plans simple elsewhere.
_CHUNK = 1000


def _as_text(value: Any) -> str | None:
    # Staged like extracted legacy text: standardize reads it back with the item's own standardizer.
    if value is None:
        return None
    if isinstance(value, dict):
        return canonical_json(value).decode("utf-8")
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _plain(inputs: BuildInputs, spec: ItemSpec, per_key: bool) -> Any:
    """The value of a spec that is not a builder."""
    if spec.kind == "from":
        if per_key:
            name, column = str(spec.argument).split(".", 1)
            rows = inputs.rows.get(name, [])
            value = rows[-1].get(column) if rows else None
        else:
            value = inputs.row().get(spec.argument)
    elif spec.kind == "permit_type":
        entry = inputs.catalog.codelist("permit_types").entry(str(inputs.resource.permit_type))
        value = {"code": entry.code, "name": entry.name}.get(spec.argument) or entry.attributes.get(
            spec.argument
        )
    elif spec.kind == "provider":
        value = inputs.catalog.settings["provider"][spec.argument]
    else:
        value = spec.argument
    if (value is None or value == "") and spec.default is not None:
        return _plain(inputs, spec.default, per_key)
    return value


def build_values(inputs: BuildInputs, specs: dict[str, ItemSpec], per_key: bool) -> dict[str, Any]:
    """One derived record's items: plain specs first, then the builders in the order written."""
    inputs.specs = specs
    for item, spec in specs.items():
        if spec.kind != "builder":
            inputs.values[item] = _plain(inputs, spec, per_key)
    for item, spec in specs.items():
        if spec.kind == "builder":
            inputs.values[item] = BUILDERS[spec.argument](inputs, spec.params or {})
    return inputs.values


def _pages(
    conn: sa.Connection, stmt: sa.Select, table: sa.Table, batch_size: int, read: dict[str, Any]
) -> Iterator[list[dict[str, Any]]]:
    """The rows of `stmt` in pages of at most `batch_size`, counted (and their newest change kept) in `read`.

    Paged by record id rather than streamed: other queries can run on the same connection between pages
    (SQLite's write lock allows no second one, a streamed MariaDB result no second query).
    """
    last = ""
    while True:
        page = conn.execute(
            stmt.where(table.c.record_id > last).order_by(table.c.record_id).limit(batch_size)
        )
        rows = [dict(r._mapping) for r in page]
        if not rows:
            return
        last = rows[-1]["record_id"]
        newest = max(r["sdx_updated_at"] for r in rows)
        read["rows"] += len(rows)
        read["newest"] = newest if read["newest"] is None else max(read["newest"], newest)
        yield rows


def _by_chunks(
    conn: sa.Connection, table: sa.Table, column: str, values: list[str], live: bool
) -> list[dict[str, Any]]:
    rows = []
    for start in range(0, len(values), _CHUNK):
        where: sa.ColumnElement[bool] = table.c[column].in_(values[start : start + _CHUNK])
        if live:
            where = sa.and_(where, table.c.sdx_deleted.is_(False))
        rows += [dict(r._mapping) for r in conn.execute(sa.select(table).where(where))]
    return rows


def _changed(ctx: RunContext, table: sa.Table, since: dt.datetime | None, *columns: Any) -> sa.Select:
    """The input rows a run reads (`columns` of them, or whole rows).

    A backfill reads what it curated itself, full and snapshot runs (and a first run) everything, an
    incremental run what its own run curated and what was curated after the watermark. A curate step stamps
    its rows with the time it started, so a load that commits after the watermark with an earlier (or the
    same) time can only be one of this run: runs do not overlap, and derive follows the run's curate steps.
    """
    stmt = sa.select(*(columns or (table,)))
    this_run = table.c.sdx_run_id == ctx.run_id
    if ctx.mode == "backfill":
        return stmt.where(this_run)
    if ctx.mode in ("full", "snapshot") or since is None:
        return stmt
    return stmt.where(sa.or_(table.c.sdx_updated_at > since, this_run))


def _per_record(
    ctx: RunContext, derivation: Derivation, since: dt.datetime | None, read: dict[str, Any]
) -> Iterator[list[dict[str, Any]]]:
    target = state.curated(ctx.catalog.resource(derivation.resource))
    with ctx.curated.get_conn().connect() as conn:
        for name, specs in derivation.inputs.items():
            table = state.curated(ctx.catalog.resource(name))
            for rows in _pages(conn, _changed(ctx, table, since), table, settings.batch_size(), read):
                ids = [derivation.record_id_prefix + r["record_id"] for r in rows]
                previous = {r["record_id"]: r for r in _by_chunks(conn, target, "record_id", ids, live=False)}
                yield [
                    _one_record(ctx, name, specs, row, previous.get(rid))
                    for row, rid in zip(rows, ids, strict=True)
                ]


def _one_record(
    ctx: RunContext,
    name: str,
    specs: dict[str, ItemSpec],
    row: dict[str, Any],
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    if row["sdx_deleted"]:
        return {KEY_COLUMN: row["record_id"], DELETED_COLUMN: True}
    inputs = BuildInputs(
        rows={name: [row]}, catalog=ctx.catalog, as_of=ctx.logical_date, previous=previous,
        input_resource=ctx.catalog.resource(name),
    )  # fmt: skip
    return {KEY_COLUMN: row["record_id"], DELETED_COLUMN: False, **build_values(inputs, specs, per_key=False)}


def _per_key(
    ctx: RunContext, derivation: Derivation, since: dt.datetime | None, read: dict[str, Any]
) -> Iterator[list[dict[str, Any]]]:
    column = str(derivation.per_key)
    tables = {name: state.curated(ctx.catalog.resource(name)) for name in derivation.inputs}
    keys: set[str] = set()
    with ctx.curated.get_conn().connect() as conn:
        for table in tables.values():
            stmt = _changed(ctx, table, since, table.c.record_id, table.c[column], table.c.sdx_updated_at)
            for rows in _pages(conn, stmt, table, settings.batch_size(), read):
                keys |= {str(r[column]) for r in rows if r[column]}
        ordered = sorted(keys)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            grouped: dict[str, dict[str, list[dict[str, Any]]]] = {key: {} for key in chunk}
            for name, table in tables.items():
                rows = _by_chunks(conn, table, column, chunk, live=True)
                # Oldest first: where one row is wanted, the latest is the last.
                for row in sorted(rows, key=lambda r: r["sdx_updated_at"]):
                    grouped[str(row[column])].setdefault(name, []).append(row)
            yield [_grouped_record(ctx, derivation, key, rows_of) for key, rows_of in grouped.items()]


def _grouped_record(
    ctx: RunContext, derivation: Derivation, key: str, rows_of: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    inputs = BuildInputs(rows=rows_of, catalog=ctx.catalog, as_of=ctx.logical_date)
    include = derivation.include
    if include is not None and not BUILDERS[include.argument](inputs, include.params or {}):
        return {KEY_COLUMN: key, DELETED_COLUMN: True}
    record = {KEY_COLUMN: key, DELETED_COLUMN: False, **build_values(inputs, derivation.items, per_key=True)}
    if derivation.master is not None:
        record[PRESENT_COLUMN] = bool(rows_of.get(derivation.master.input))
    return record


def _raw_schema(derivation: Derivation, items: list[str]) -> pa.Schema:
    labels = [f"{ALIAS}.{label}" for label in (KEY_COLUMN, DELETED_COLUMN, *items)]
    if derivation.master is not None:
        labels.append(f"{derivation.master.input}.{PRESENT_COLUMN}")
    return pa.schema([pa.field(label, pa.string()) for label in labels])


def _raw_batch(schema: pa.Schema, records: list[dict[str, Any]]) -> pa.RecordBatch:
    def text(record: dict[str, Any], label: str) -> str | None:
        column = label.split(".", 1)[1]
        if column in (DELETED_COLUMN, PRESENT_COLUMN):  # flags read as "1" or nothing
            return "1" if record.get(column) else None
        return _as_text(record.get(column))

    return pa.record_batch(
        [pa.array([text(r, f.name) for r in records], pa.string()) for f in schema], schema=schema
    )


def derive_resource(ctx: RunContext, resource_name: str) -> dict[str, Any]:
    """Build the records of `resource_name` whose curated inputs changed since it was last curated."""
    derivation = derivations()[resource_name]
    started, clock = shanghai_now(), time.monotonic()
    with ctx.curated.get_conn().connect() as conn:
        mark = state.watermark(conn, resource_name)
    since = mark
    schema = _raw_schema(derivation, ctx.catalog.resource(resource_name).item_names)
    raw_path = staging.path(ctx.run_id, resource_name, "raw.parquet")
    keys_path = staging.path(ctx.run_id, resource_name, "keys.parquet")
    read: dict[str, Any] = {"rows": 0, "newest": None}
    built = 0
    build = _per_record if derivation.per_key is None else _per_key
    # Written aside and swapped in at the end: a crash leaves the previous attempt's files or none.
    with (
        pq.ParquetWriter(raw_path.with_suffix(".parquet.tmp"), schema) as raw_out,
        pq.ParquetWriter(keys_path.with_suffix(".parquet.tmp"), KEYS_SCHEMA) as keys_out,
    ):
        for records in build(ctx, derivation, since, read):
            batch = _raw_batch(schema, records)
            raw_out.write_batch(batch)
            keys_out.write_batch(_keys_batch(resource_name, batch))
            built += len(records)
    raw_path.with_suffix(".parquet.tmp").replace(raw_path)
    keys_path.with_suffix(".parquet.tmp").replace(keys_path)
    result = {
        "source": resource_name, "resources": [resource_name], "mode": ctx.mode, "since": since, "until": None,
        "rows_read": read["rows"], "rows": built,
        # As for a legacy source, curate moves the watermark in the transaction that loads these records.
        "changed_until": read["newest"] if ctx.mode != "backfill" else None,
        "started": started, "seconds": round(time.monotonic() - clock, 3),
    }  # fmt: skip
    staging.write_json(staging.path(ctx.run_id, resource_name, "extract.json"), result)
    log.info("derive %s: %d curated rows read, %d records built", resource_name, read["rows"], built)
    return result


def _keys_batch(resource_name: str, batch: pa.RecordBatch) -> pa.RecordBatch:
    # Every record built is one "row read": curate keeps its hash and, in full runs, deletes what is missing.
    key = batch.column(batch.schema.get_field_index(f"{ALIAS}.{KEY_COLUMN}"))
    return pa.record_batch(
        [key, pa.array([resource_name] * batch.num_rows, pa.string()),
         pa.array(row_hashes(batch, batch.schema.names), pa.string()),
         pa.array([True] * batch.num_rows, pa.bool_())],
        schema=KEYS_SCHEMA,
    )  # fmt: skip
