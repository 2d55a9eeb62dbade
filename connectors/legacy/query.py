"""Building the extraction query of a manifest with SQLAlchemy Core, so every dialect quotes it right."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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


def _source_clause(table: SourceTable) -> sa.FromClause:
    """A table as the query joins it: the table itself, or its live rows that match uniquely.

    A `unique_match` table is joined on a value that is no key (a name): only the live rows whose join
    values no other live row shares take part, so a name two enterprise rows carry links neither.
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
    return stmt.group_by(*keys).having(sa.func.count() == 1).subquery(table.alias)


def build_select(manifest: Manifest, partition_values: list[str], window: Window) -> sa.Select:
    """The SELECT that reads one source's records, joined, within `window` (attributes come apart)."""
    clauses = {alias: _source_clause(t) for alias, t in manifest.tables.items()}
    primary = clauses[manifest.key_table]
    selected: list[sa.ColumnElement] = []
    for alias, table in manifest.tables.items():
        for column in _columns_selected(table):
            selected.append(clauses[alias].c[column].label(f"{alias}.{column}"))
    from_clause: sa.FromClause = primary
    for alias, table in manifest.tables.items():
        if alias == manifest.key_table:
            continue
        on = sa.and_(
            *(
                clauses[alias].c[own] == clauses[other.split(".")[0]].c[other.split(".")[1]]
                for own, other in table.join.items()
            )
        )
        from_clause = from_clause.outerjoin(clauses[alias], on)
    stmt = sa.select(*selected).select_from(from_clause)
    if manifest.partition_table and manifest.partition_column:
        stmt = stmt.where(
            clauses[manifest.partition_table].c[manifest.partition_column].in_(partition_values)
        )
    change = [clauses[a].c[t.change_column] for a, t in manifest.tables.items() if t.change_column]
    if window.since is not None:
        stmt = stmt.where(sa.or_(*(c >= window.since for c in change)))
    if window.until is not None:
        stmt = stmt.where(sa.or_(*(c < window.until for c in change)))
    return stmt.order_by(primary.c[manifest.key_column])


def build_attribute_select(manifest: Manifest, keys: list[str]) -> sa.Select:
    """The attribute rows (key, name, value) of the records `keys`, for the spellings the manifest knows.

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
    return sa.select(
        table.c[attrs.key].label("key"),
        table.c[attrs.name_column].label("name"),
        table.c[attrs.value_column].label("value"),
    ).where(table.c[attrs.key].in_(keys), table.c[attrs.name_column].in_(spellings))
