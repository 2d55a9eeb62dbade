"""Building the extraction query of a manifest with SQLAlchemy Core, so every dialect quotes it right."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from schemas.manifest import Manifest, SourceTable


@dataclass(frozen=True)
class Window:
    """Which changes to read: all rows (since is None), or rows changed in [since, until)."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _table_clause(table: SourceTable, columns: list[str]) -> sa.TableClause:
    return sa.table(table.table, *(sa.column(c) for c in dict.fromkeys(columns)))


def _columns_selected(table: SourceTable) -> list[str]:
    cols = list(table.columns)
    for extra in (table.change_column, (table.soft_delete or {}).get("column")):
        if extra and extra not in cols:
            cols.append(extra)
    return cols


def _columns_read(table: SourceTable) -> list[str]:
    # Join columns are read for the ON clause; they are selected only where the manifest lists them.
    return _columns_selected(table) + [c for c in table.join if c not in table.columns]


def _source_clause(table: SourceTable, wanted: sa.Select | None = None) -> sa.FromClause:
    """A table as the query joins it: the table itself, or its live rows that match uniquely.

    A `unique_match` table is joined on a value that is no key (a name): only the live rows whose join
    values no other live row shares take part, so a name two enterprise rows carry links neither.
    `wanted` (the join values some records carry) narrows the grouping to those values: every row of a
    value still counts, so a value is unique there exactly when it is unique in the whole table.
    """
    clause = _table_clause(table, _columns_read(table))
    if not table.unique_match:
        return clause.alias(table.alias)
    keys = [clause.c[column] for column in table.join]
    others = [column for column in _columns_read(table) if column not in table.join]
    # Each group that survives HAVING COUNT(*) = 1 is one row: MAX gives its value on every dialect.
    stmt = sa.select(*keys, *(sa.func.max(clause.c[column]).label(column) for column in others))
    if table.soft_delete:
        flag = clause.c[table.soft_delete["column"]]
        stmt = stmt.where(sa.or_(flag.is_(None), flag.not_in([str(v) for v in table.soft_delete["deleted"]])))
    if wanted is not None:
        stmt = stmt.where(_row(keys).in_(wanted))
    return stmt.group_by(*keys).having(sa.func.count() == 1).subquery(table.alias)


def _row(columns: Sequence[sa.ColumnElement]) -> sa.ColumnElement:
    # One column compares as itself; several as a row value (a join on more than one column).
    return columns[0] if len(columns) == 1 else sa.tuple_(*columns)


def _split(reference: str) -> tuple[str, str]:
    alias, column = reference.split(".", 1)
    return alias, column


def joins_primary_only(manifest: Manifest, table: SourceTable) -> bool:
    """Whether every join column of `table` refers to the primary table (no chain through another)."""
    return all(_split(ref)[0] == manifest.key_table for ref in table.join.values())


def _primary_clause(manifest: Manifest, columns: list[str]) -> sa.TableClause:
    extra = [manifest.partition_column] if manifest.partition_table == manifest.key_table else []
    return _table_clause(manifest.primary, [manifest.key_column, *columns, *(c for c in extra if c)])


def _carried_values(manifest: Manifest, table: SourceTable, keys: list[str]) -> sa.Select | None:
    # The join values the records `keys` carry for `table`, when it joins the primary table only.
    if not joins_primary_only(manifest, table):
        return None
    columns = [_split(ref)[1] for ref in table.join.values()]
    primary = _primary_clause(manifest, columns)
    return sa.select(*(primary.c[c] for c in columns)).where(primary.c[manifest.key_column].in_(keys))


def _joined(manifest: Manifest, keys: list[str] | None) -> tuple[dict[str, sa.FromClause], sa.FromClause]:
    """Every table as the query joins it, and the primary table outer-joined to the others."""
    clauses = {
        alias: _source_clause(
            t, _carried_values(manifest, t, keys) if keys is not None and t.unique_match else None
        )
        for alias, t in manifest.tables.items()
    }
    from_clause: sa.FromClause = clauses[manifest.key_table]
    for alias, table in manifest.tables.items():
        if alias == manifest.key_table:
            continue
        on = sa.and_(
            *(
                clauses[alias].c[own] == clauses[_split(other)[0]].c[_split(other)[1]]
                for own, other in table.join.items()
            )
        )
        from_clause = from_clause.outerjoin(clauses[alias], on)
    return clauses, from_clause


def _in_window(column: sa.ColumnElement, window: Window) -> sa.ColumnElement:
    bounds = [column >= window.since] if window.since is not None else []
    bounds += [column < window.until] if window.until is not None else []
    return sa.and_(*bounds)


def _partition_filter(
    manifest: Manifest, clauses: dict[str, sa.FromClause], stmt: sa.Select, partition_values: list[str]
) -> sa.Select:
    if manifest.partition_table and manifest.partition_column and manifest.partition_table in clauses:
        column = clauses[manifest.partition_table].c[manifest.partition_column]
        stmt = stmt.where(column.in_(partition_values))
    return stmt


def build_select(
    manifest: Manifest, partition_values: list[str], window: Window, keys: list[str] | None = None
) -> sa.Select:
    """The SELECT that reads one source's records, joined, within `window` (attributes come apart).

    With `keys`, only those records are read (give an empty `window`), and a `unique_match` table is
    grouped over the join values they carry rather than over all its rows.
    """
    clauses, from_clause = _joined(manifest, keys)
    primary = clauses[manifest.key_table]
    selected: list[sa.ColumnElement] = []
    for alias, table in manifest.tables.items():
        for column in _columns_selected(table):
            selected.append(clauses[alias].c[column].label(f"{alias}.{column}"))
    stmt = _partition_filter(
        manifest, clauses, sa.select(*selected).select_from(from_clause), partition_values
    )
    if keys is not None:
        stmt = stmt.where(primary.c[manifest.key_column].in_(keys))
    change = [clauses[a].c[t.change_column] for a, t in manifest.tables.items() if t.change_column]
    if window.since is not None:
        stmt = stmt.where(sa.or_(*(c >= window.since for c in change)))
    if window.until is not None:
        stmt = stmt.where(sa.or_(*(c < window.until for c in change)))
    return stmt.order_by(primary.c[manifest.key_column])


def _change_column(table: SourceTable) -> str:
    if table.change_column is None:
        raise ValueError(f"table {table.table} has no change column")
    return table.change_column


def build_changed_values(table: str, columns: list[str], change: str, window: Window) -> sa.Select:
    """The distinct `columns` values of `table`'s rows whose `change` column falls in `window`.

    Deleted rows count: a soft delete is a change, and a deleted row joined by name can make the name
    unique again. The legacy tables have no index on their change column: this is one scan of the table
    that returns only the changed rows' join values, far cheaper than scanning the whole join.
    """
    clause = sa.table(table, *(sa.column(c) for c in dict.fromkeys([*columns, change])))
    return sa.select(*(clause.c[c] for c in columns)).where(_in_window(clause.c[change], window)).distinct()


def build_changed_since(table: str, columns: list[str], change: str, since: dt.datetime) -> sa.Select:
    """As `build_changed_values` from `since` on, each value with its latest change time (`changed`).

    The latest time lets a narrower window (a later `since`) be answered from the result without the
    table: a value changed within it exactly when its latest change is.
    """
    clause = sa.table(table, *(sa.column(c) for c in dict.fromkeys([*columns, change])))
    keys = [clause.c[c] for c in columns]
    return (
        sa.select(*keys, sa.func.max(clause.c[change]).label("changed"))
        .where(clause.c[change] >= since)
        .group_by(*keys)
    )


def build_primary_keys(
    manifest: Manifest,
    partition_values: list[str],
    window: Window | None,
    referenced: list[tuple[SourceTable, list[tuple[Any, ...]]]],
) -> sa.Select:
    """The keys of the records whose own row changed in `window` or that carry changed join values.

    `referenced` gives, per joined table, join values of its changed rows: one scan of the primary
    table finds the records of all of them.
    """
    primary, condition = _primary_changes(manifest, window, referenced)
    stmt = sa.select(primary.c[manifest.key_column]).where(condition)
    return _partition_filter(manifest, {manifest.key_table: primary}, stmt, partition_values)


def build_primary_changes(
    manifest: Manifest,
    window: Window,
    referenced: list[tuple[SourceTable, list[tuple[Any, ...]]]],
    columns: Sequence[str],
    since: dt.datetime,
) -> sa.Select:
    """As `build_primary_keys` (no partition), and the `columns` of every row changed from `since` on.

    Each row read gives its key, `columns`, its change time (`changed`) and `hit`: 1 for the records
    `build_primary_keys` finds, else 0 (a row changed from `since` on that is no such record). Other
    sources want the primary table's changed rows (they join it): the one scan answers both.
    """
    change = _change_column(manifest.primary)
    primary, condition = _primary_changes(manifest, window, referenced, columns)
    # Labelled apart: one of `columns` may be the key itself.
    found = sa.select(
        primary.c[manifest.key_column],
        *(primary.c[c].label(f"also.{c}") for c in columns),
        primary.c[change].label("changed"),
        sa.case((condition, 1), else_=0).label("hit"),
    ).subquery("changes")
    # The condition is written once (its values are bound once) and read back as `hit`.
    return sa.select(found).where(sa.or_(found.c.hit == 1, found.c.changed >= since))


def _primary_changes(
    manifest: Manifest,
    window: Window | None,
    referenced: list[tuple[SourceTable, list[tuple[Any, ...]]]],
    also: Sequence[str] = (),
) -> tuple[sa.TableClause, sa.ColumnElement[bool]]:
    # The primary table, and the condition its changed records meet: own change, or changed join values.
    columns = [c for table, _ in referenced for c in (_split(ref)[1] for ref in table.join.values())]
    change = manifest.primary.change_column
    primary = _primary_clause(manifest, [*columns, *also, *([change] if change else [])])
    conditions = [_in_window(primary.c[change], window)] if window is not None and change else []
    for table, values in referenced:
        if not joins_primary_only(manifest, table):
            raise ValueError(f"table {table.table} is joined through another table")
        own = [primary.c[_split(ref)[1]] for ref in table.join.values()]
        conditions.append(_row(own).in_([v[0] for v in values] if len(own) == 1 else values))
    return primary, sa.or_(sa.false(), *conditions)


def build_keys_changed(
    manifest: Manifest, alias: str, partition_values: list[str], window: Window
) -> sa.Select:
    """The keys of the records whose row of joined table `alias`, as the query joins it, changed in `window`.

    The whole join: `build_changed_values` + `build_primary_keys` avoid it where the table joins the
    primary table directly.
    """
    table = manifest.tables[alias]
    clauses, from_clause = _joined(manifest, None)
    stmt = (
        sa.select(clauses[manifest.key_table].c[manifest.key_column])
        .select_from(from_clause)
        .where(_in_window(clauses[alias].c[_change_column(table)], window))
    )
    return _partition_filter(manifest, clauses, stmt, partition_values)


def build_attribute_select(
    manifest: Manifest, keys: list[str], bounds: tuple[str, str] | None = None
) -> sa.Select:
    """The attribute rows (key, name, value) of the records `keys` (with `bounds`: of the spellings known).

    `bounds` (the least and greatest of `keys` as the database orders them) lets the database drop most
    rows by two comparisons before testing the long key list: a whole batch of records is a narrow range,
    whose rows are then also tested for the spellings the manifest knows. Without bounds (keys spread
    over the table, read by key) the names are not tested: that costs a comparison on every row of the
    table, a fifth of the scan at scale 10, where the key list alone leaves only the records' own rows
    and `pivot_attributes` skips the names it does not know.

    Read per batch of records rather than pivoted in SQL: a pivot over the whole attribute table costs a
    full aggregation on every run, however few records changed, and the legacy table has no index on its
    key column to narrow it.
    """
    attrs = manifest.attributes
    if attrs is None:
        raise ValueError(f"manifest {manifest.source} has no attributes")
    table = _table_clause(
        SourceTable(
            alias="attr", table=attrs.table, columns=(attrs.key, attrs.name_column, attrs.value_column)
        ),
        [attrs.key, attrs.name_column, attrs.value_column],
    )
    spellings = sorted({s for names in attrs.items.values() for s in names})
    stmt = sa.select(
        table.c[attrs.key].label("key"),
        table.c[attrs.name_column].label("name"),
        table.c[attrs.value_column].label("value"),
    )
    if bounds is None:
        return stmt.where(table.c[attrs.key].in_(keys))
    stmt = stmt.where(table.c[attrs.key] >= bounds[0], table.c[attrs.key] <= bounds[1])
    return stmt.where(table.c[attrs.key].in_(keys), table.c[attrs.name_column].in_(spellings))
