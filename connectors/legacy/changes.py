"""Which records changed in a window: found table by table from each one's change column, then read by key.

The legacy tables have no index on GXSJ. One query that joins every table and keeps the rows where any
table's GXSJ falls in the window scans the whole join for the few rows a night changes; here each table
is scanned once for its changed rows alone, and a joined table's changed rows are mapped to the records
that carry their join values. The records are then read by key (primary-key lookups).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from connectors.legacy.hook import LegacySupervisionHook
from connectors.legacy.query import (
    Window,
    build_changed_since,
    build_changed_values,
    build_keys_changed,
    build_primary_changes,
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


class SharedChanges:
    """The changed rows' values of a table, found by one scan and reused by the other sources of the run.

    Seven sources join T_QY_JBXX on QYID, one on QYMC, and the enterprise source reads it by QYID: without
    sharing, each scans the whole table (no index on GXSJ) for the same few changed rows. The first source
    to need a table's changed values reads those of every column in `columns` (what all the run's sources
    ask of the table, `shared_columns`) and stores them, with each value's latest change time, in `folder`
    (the run's staging folder, which all the run's tasks see, on any worker); a later source whose window
    starts no earlier takes the values changed within its own window from that file.

    The scan reaches `SLACK` further back than the window asking for it, and back to `reach` (the
    earliest window of the run's sources) if that is no more than `MAX_REACH` earlier, at no extra cost
    (the table is scanned whole either way), so that sources whose windows start earlier share it too. A file
    older than `FRESH` is scanned again: the values a row gets after the file was written are missed only
    as long as a run's sources are apart in time, and the look-back of the next run (days) reads them.
    Only open-ended windows share (incremental runs); a bounded window (a backfill) scans for itself.
    """

    SLACK = dt.timedelta(days=1)
    # A source whose window starts much earlier (not run for weeks) would make every scan hold its changes.
    MAX_REACH = dt.timedelta(days=7)
    FRESH = 3600.0  # seconds

    def __init__(
        self, folder: Path, columns: dict[str, list[str]] | None = None, reach: dt.datetime | None = None
    ) -> None:
        self.folder = folder
        self.columns = columns or {}
        self.reach = reach

    def start(self, since: dt.datetime) -> dt.datetime:
        """Where a scan for a window starting at `since` starts, to serve the run's other windows too."""
        start = since - self.SLACK
        return start if self.reach is None else min(start, max(self.reach, since - self.MAX_REACH))

    def values(
        self,
        hook: LegacySupervisionHook,
        table: str,
        columns: list[str],
        change: str,
        window: Window,
        limit: int,
    ) -> set[tuple[Any, ...]]:
        """The distinct `columns` values of `table`'s rows whose `change` column falls in `window`."""
        if window.since is None or window.until is not None:
            return _scan(hook, build_changed_values(table, columns, change, window), limit)
        # One scan reads every column any source asks of the table (T_QY_JBXX: QYID, and QYMC for the
        # name match), so the table is scanned once per run whichever source comes first.
        wide = self._wide(table, columns)
        target = self._target(table, wide)
        stored = self._load(target, window.since)
        if stored is None:
            since = self.start(window.since)
            try:
                stored = _read_table(hook, build_changed_since(table, wide, change, since), limit)
            except TooManyChanges:  # a wide look is not worth holding: the window alone, not shared
                return _scan(hook, build_changed_values(table, columns, change, window), limit)
            self._store(target, stored, since)
        latest = stored.column("changed")
        kept = stored.filter(pc.greater_equal(latest, pa.scalar(window.since, latest.type)))
        found = set(zip(*(kept.column(c).to_pylist() for c in columns), strict=True))  # distinct
        if len(found) > limit:
            raise TooManyChanges
        return found

    def wanted(self, table: str, window: Window) -> tuple[list[str], dt.datetime] | None:
        """The columns to `keep` of `table`'s rows and from when, if none are kept yet that cover `window`.

        A source scanning `table` whole anyway (its primary table) reads them in the same scan and gives
        them to `keep`, so the sources that join `table` need not scan it again.
        """
        if table not in self.columns or window.since is None or window.until is not None:
            return None
        wide = self._wide(table, [])
        stored = self._load(self._target(table, wide), window.since)
        return (wide, self.start(window.since)) if stored is None else None

    def keep(self, table: str, rows: pa.Table, since: dt.datetime) -> None:
        """Keep `rows` (the `wanted` columns and `changed`, every row of `table` changed since `since`)."""
        wide = self._wide(table, [])
        latest = rows.column("changed")
        rows = rows.filter(pc.greater_equal(latest, pa.scalar(since, latest.type)))
        grouped = rows.group_by(wide, use_threads=False).aggregate([("changed", "max")])
        self._store(self._target(table, wide), grouped.rename_columns([*wide, "changed"]), since)

    def _wide(self, table: str, columns: list[str]) -> list[str]:
        return list(dict.fromkeys([*self.columns.get(table, []), *columns]))

    def _target(self, table: str, wide: list[str]) -> Path:
        return self.folder / f"{table}.{'.'.join(wide)}.parquet"

    @staticmethod
    def _load(target: Path, since: dt.datetime) -> pa.Table | None:
        try:
            if time.time() - target.stat().st_mtime > SharedChanges.FRESH:
                return None
            stored = pq.read_table(target)
        except FileNotFoundError:
            return None
        covered = dt.datetime.fromisoformat((stored.schema.metadata or {})[b"since"].decode())
        return stored if covered <= since else None

    def _store(self, target: Path, stored: pa.Table, since: dt.datetime) -> None:
        # Written whole under a private name, then renamed: a reader sees one complete file or none.
        self.folder.mkdir(parents=True, exist_ok=True)
        stored = stored.replace_schema_metadata({"since": since.isoformat()})
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        os.close(fd)
        pq.write_table(stored, tmp)
        os.replace(tmp, target)


def shared_columns(sources: Iterable[Manifest]) -> dict[str, list[str]]:
    """Per table, the columns whose changed values `changed_keys` asks `SharedChanges` for, over `sources`."""
    wanted: dict[str, list[str]] = {}
    for manifest in sources:
        for alias, table in manifest.tables.items():
            if alias == manifest.key_table:
                if _own_changes_only(manifest):
                    wanted.setdefault(table.table, []).append(manifest.key_column)
            elif table.change_column and table.join and joins_primary_only(manifest, table):
                wanted.setdefault(table.table, []).extend(table.join)
    return {table: list(dict.fromkeys(columns)) for table, columns in wanted.items()}


def _own_changes_only(manifest: Manifest) -> bool:
    # A source of one table (the enterprise master): its changed records are its table's changed keys.
    primary = manifest.primary
    return (
        len(manifest.tables) == 1
        and primary.change_column is not None
        and manifest.partition_table != manifest.key_table
    )


def _scan(hook: LegacySupervisionHook, stmt: sa.Select, limit: int) -> set[tuple[Any, ...]]:
    found: set[tuple[Any, ...]] = set()
    _collect(hook, stmt, found, limit)
    return found


def _read_table(hook: LegacySupervisionHook, stmt: sa.Select, limit: int) -> pa.Table:
    # Every column is text but the change time, `changed`.
    batches = []
    rows = 0
    for batch in hook.read_batches(stmt, timestamp_columns={"changed"}, batch_size=MAX_PARAMETERS):
        batches.append(batch)
        rows += batch.num_rows
        if rows > limit:
            raise TooManyChanges
    return pa.Table.from_batches(batches, schema=_schema(stmt, {"changed"}))


def changed_keys(
    hook: LegacySupervisionHook,
    manifest: Manifest,
    partition_values: list[str],
    window: Window,
    limit: int,
    shared: SharedChanges | None = None,
) -> list[str]:
    """The keys of the records any of whose tables changed in `window`, sorted.

    Raises TooManyChanges past `limit` keys (or join values), so memory stays bounded by `limit`.
    `shared` lets the sources of one run share the scans of the tables they have in common.
    """

    def changed(table: str, columns: list[str], change: str) -> set[tuple[Any, ...]]:
        if shared is None:
            return _scan(hook, build_changed_values(table, columns, change, window), limit)
        return shared.values(hook, table, columns, change, window, limit)

    keys: set[tuple[Any, ...]] = set()
    referenced: list[tuple[SourceTable, list[tuple[Any, ...]]]] = []
    for alias, table in manifest.tables.items():
        if table.change_column is None or alias == manifest.key_table:
            continue
        if not table.join or not joins_primary_only(manifest, table):
            _collect(hook, build_keys_changed(manifest, alias, partition_values, window), keys, limit)
            continue
        values = changed(table.table, list(table.join), table.change_column)
        wanted = [v for v in values if None not in v]  # a NULL join value joins nothing
        step = MAX_PARAMETERS // len(table.join)
        referenced += [(table, wanted[start : start + step]) for start in range(0, len(wanted), step)]
    # The primary table is scanned once for its own changes and the joined tables' changed values
    # together (it is the largest table and has no index on them); a statement binds at most
    # MAX_PARAMETERS values, so many changed values take several scans.
    primary = manifest.primary
    if _own_changes_only(manifest) and primary.change_column:
        # The same scan as a join's: other sources join this table on its key.
        keys |= changed(primary.table, [manifest.key_column], primary.change_column)
        return sorted(str(key) for (key,) in keys)
    own: Window | None = window
    statement: list[tuple[SourceTable, list[tuple[Any, ...]]]] = []
    for table, chunk in referenced:
        if sum(len(c) * len(t.join) for t, c in statement) + len(chunk) * len(table.join) > MAX_PARAMETERS:
            _scan_primary(hook, manifest, partition_values, own, statement, keys, limit, shared)
            own, statement = None, []
        statement.append((table, chunk))
    _scan_primary(hook, manifest, partition_values, own, statement, keys, limit, shared)
    return sorted(str(key) for (key,) in keys)


def _scan_primary(
    hook: LegacySupervisionHook,
    manifest: Manifest,
    partition_values: list[str],
    own: Window | None,
    referenced: list[tuple[SourceTable, list[tuple[Any, ...]]]],
    keys: set[tuple[Any, ...]],
    limit: int,
    shared: SharedChanges | None,
) -> None:
    """Add to `keys` those of the records changed in `own` or carrying the `referenced` join values.

    Other sources may join the primary table (permits join T_XK_SQ, the cases' table): the scan that
    reads its own changes then keeps them for those sources (`SharedChanges.keep`), which need not scan
    the table again. Not so where a partition filter narrows the scan to some of the table's rows.
    """
    whole = manifest.partition_table != manifest.key_table
    offered = shared.wanted(manifest.primary.table, own) if shared and own and whole else None
    if shared is None or own is None or offered is None:
        _collect(hook, build_primary_keys(manifest, partition_values, own, referenced), keys, limit)
        return
    columns, since = offered
    # The rows read hold the records' (`hit`) and every row changed from `since` on, at most `limit` each.
    rows = _read_table(hook, build_primary_changes(manifest, own, referenced, columns, since), 2 * limit)
    hit = rows.filter(pc.equal(rows.column("hit"), "1")).column(0).to_pylist()
    if len(keys | {(key,) for key in hit}) > limit:
        raise TooManyChanges
    keys.update((key,) for key in hit)
    changed = rows.select([*range(1, len(columns) + 1), len(columns) + 1])
    shared.keep(manifest.primary.table, changed.rename_columns([*columns, "changed"]), since)


def read_by_key(
    hook: LegacySupervisionHook,
    manifest: Manifest,
    partition_values: list[str],
    keys: list[str],
    *,
    timestamp_columns: set[str],
    batch_size: int,
) -> Iterator[pa.RecordBatch]:
    """The joined rows of the records `keys`, in batches of at most `batch_size`, ordered as Python orders keys.

    Not in the database's order: ordering the joined rows costs the database a temporary table of them
    (they come from the key list, not from the primary key's order), 10–30 % of the statement's time.
    A statement's rows (one per key, at most `batch_size` keys) are sorted here instead.
    """
    # A unique-match table repeats the keys in its subquery: half the parameter budget per statement.
    # Elsewhere the whole budget: each statement's rows take one more scan of the attribute table.
    repeats = 2 if any(t.unique_match for t in manifest.tables.values()) else 1
    step = max(1, min(batch_size, MAX_PARAMETERS // repeats - len(partition_values)))
    for start in range(0, len(keys), step):
        stmt = build_select(manifest, partition_values, Window(), keys=keys[start : start + step])
        read = hook.read_batches(
            stmt.order_by(None), timestamp_columns=timestamp_columns, batch_size=batch_size
        )
        rows = pa.Table.from_batches(list(read), schema=_schema(stmt, timestamp_columns))
        rows = rows.take(pc.sort_indices(rows.column(manifest.key_label)))
        yield from rows.combine_chunks().to_batches(max_chunksize=batch_size)


def _schema(stmt: sa.Select, timestamp_columns: set[str]) -> pa.Schema:
    # The schema `read_batches` gives the rows of `stmt`, also when there are none.
    names = stmt.selected_columns.keys()
    return pa.schema(
        [pa.field(n, pa.timestamp("us") if n in timestamp_columns else pa.string()) for n in names]
    )
