"""Which records changed in a window: found table by table from each one's change column, then read by key.

The legacy tables have no index on GXSJ. One query that joins every table and keeps the rows where any
table's GXSJ falls in the window scans the whole join for the few rows a night changes; here each table
is scanned once for its changed rows alone, and a joined table's changed rows are mapped to the records
that carry their join values. The records are then read by key (primary-key lookups).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from connectors.legacy.hook import LegacySupervisionHook
from connectors.legacy.query import (
    Window,
    build_changed_values,
    build_keys_changed,
    build_primary_keys,
    build_select,
    joins_primary_only,
)
from schemas.manifest import Manifest, SourceTable

# SQLite binds at most 32,766 parameters per statement; other databases take larger lists.
MAX_PARAMETERS = 30_000


class TooManyChanges(Exception):
    """More records changed than reading them by key is worth: read the window in one pass instead."""


def _collect(hook: LegacySupervisionHook, stmt: sa.Select, found: set[tuple[Any, ...]], limit: int) -> None:
    for batch in hook.read_batches(stmt, timestamp_columns=set(), batch_size=MAX_PARAMETERS):
        found.update(zip(*(column.to_pylist() for column in batch.columns), strict=True))
        if len(found) > limit:
            raise TooManyChanges


def changed_keys(
    hook: LegacySupervisionHook, manifest: Manifest, partition_values: list[str], window: Window, limit: int
) -> list[str]:
    """The keys of the records any of whose tables changed in `window`, sorted.

    Raises TooManyChanges past `limit` keys (or join values), so memory stays bounded by `limit`.
    """
    keys: set[tuple[Any, ...]] = set()
    referenced: list[tuple[SourceTable, list[tuple[Any, ...]]]] = []
    for alias, table in manifest.tables.items():
        if table.change_column is None or alias == manifest.key_table:
            continue
        if not table.join or not joins_primary_only(manifest, table):
            _collect(hook, build_keys_changed(manifest, alias, partition_values, window), keys, limit)
            continue
        values: set[tuple[Any, ...]] = set()
        _collect(hook, build_changed_values(table, window), values, limit)
        wanted = [v for v in values if None not in v]  # a NULL join value joins nothing
        step = MAX_PARAMETERS // len(table.join)
        referenced += [(table, wanted[start : start + step]) for start in range(0, len(wanted), step)]
    # The primary table is scanned once for its own changes and the joined tables' changed values
    # together (it is the largest table and has no index on them); a statement binds at most
    # MAX_PARAMETERS values, so many changed values take several scans.
    own: Window | None = window
    statement: list[tuple[SourceTable, list[tuple[Any, ...]]]] = []
    for table, chunk in referenced:
        if sum(len(c) * len(t.join) for t, c in statement) + len(chunk) * len(table.join) > MAX_PARAMETERS:
            _collect(hook, build_primary_keys(manifest, partition_values, own, statement), keys, limit)
            own, statement = None, []
        statement.append((table, chunk))
    _collect(hook, build_primary_keys(manifest, partition_values, own, statement), keys, limit)
    return sorted(str(key) for (key,) in keys)


def read_by_key(
    hook: LegacySupervisionHook,
    manifest: Manifest,
    partition_values: list[str],
    keys: list[str],
    *,
    timestamp_columns: set[str],
    batch_size: int,
) -> Iterator[pa.RecordBatch]:
    """The joined rows of the records `keys`, in key order, in batches of at most `batch_size`."""
    # A unique-match table repeats the keys in its subquery: half the parameter budget per statement.
    step = max(1, min(batch_size, MAX_PARAMETERS // 2 - len(partition_values)))
    for start in range(0, len(keys), step):
        stmt = build_select(manifest, partition_values, Window(), keys=keys[start : start + step])
        yield from hook.read_batches(stmt, timestamp_columns=timestamp_columns, batch_size=batch_size)
