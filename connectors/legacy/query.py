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


def build_select(manifest: Manifest, partition_values: list[str], window: Window) -> sa.Select:
    """The SELECT that reads one source's records, joined and pivoted, within `window`."""
    clauses = {alias: _table_clause(t, _columns_read(t)).alias(alias) for alias, t in manifest.tables.items()}
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
    if manifest.attributes:
        attrs = manifest.attributes
        kz = _table_clause_raw(attrs.table, [attrs.key, attrs.name_column, attrs.value_column])
        pivot = (
            sa.select(
                kz.c[attrs.key].label("attr_key"),
                *(
                    sa.func.max(
                        sa.case((kz.c[attrs.name_column].in_(spellings), kz.c[attrs.value_column]))
                    ).label(item)
                    for item, spellings in attrs.items.items()
                ),
            )
            .group_by(kz.c[attrs.key])
            .subquery("attr")
        )
        from_clause = from_clause.outerjoin(pivot, pivot.c.attr_key == primary.c[manifest.key_column])
        selected += [pivot.c[item].label(f"attr.{item}") for item in attrs.items]
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


def _table_clause_raw(name: str, columns: list[str]) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns))
