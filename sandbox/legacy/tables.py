"""The legacy tables as SQLAlchemy objects, read from the project's copy of the legacy DDL (schema.sql).

The DDL is written once, in the MariaDB dialect the legacy system runs on; parsing it here keeps the
SQLite and PostgreSQL stand-ins identical to it. Names stay upper case and quoted, as the legacy has them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

import sqlalchemy as sa

SCHEMA_FILE = "schema.sql"

_TABLE = re.compile(r"CREATE TABLE (?P<name>\w+) \((?P<body>.*?)\n\);", re.DOTALL)
_COLUMN = re.compile(
    r"(?P<name>\w+)\s+(?P<type>VARCHAR|CHAR|INTEGER|DATETIME)(?:\((?P<length>\d+)\))?(?P<flags>[A-Z ]*)"
)


@dataclass(frozen=True)
class ColumnSpec:
    """One column as the DDL declares it."""

    name: str
    type: str
    length: int | None
    nullable: bool
    primary_key: bool
    comment: str | None


@dataclass(frozen=True)
class TableSpec:
    """One table as the DDL declares it."""

    name: str
    comment: str | None
    columns: tuple[ColumnSpec, ...]


def read_schema_sql() -> str:
    """Return the text of the project's copy of the legacy DDL."""
    return (resources.files(__package__) / SCHEMA_FILE).read_text(encoding="utf-8")


def _split_comment(line: str) -> tuple[str, str | None]:
    code, _, comment = line.partition("--")
    return code.strip().rstrip(","), (comment.strip() or None)


def _parse_column(line: str) -> ColumnSpec | None:
    code, comment = _split_comment(line)
    match = _COLUMN.fullmatch(code)
    if match is None:
        return None
    flags = " ".join(match["flags"].split())
    primary_key = "PRIMARY KEY" in flags
    return ColumnSpec(
        name=match["name"],
        type=match["type"],
        length=int(match["length"]) if match["length"] else None,
        nullable=not primary_key and "NOT NULL" not in flags,
        primary_key=primary_key,
        comment=comment,
    )


def parse_schema(ddl: str) -> tuple[TableSpec, ...]:
    """Parse the legacy DDL into table specifications, in the order it declares them.

    Args:
        ddl: CREATE TABLE statements as schema.sql writes them (one column per line, ``--`` comments).

    Returns:
        One TableSpec per CREATE TABLE statement.

    Raises:
        ValueError: when a column line cannot be read, so a changed DDL fails loudly instead of
            silently losing a column.

    """
    specs = []
    for match in _TABLE.finditer(ddl):
        first, *lines = match["body"].split("\n")
        columns = []
        for line in lines:
            if not line.strip():
                continue
            column = _parse_column(line)
            if column is None:
                raise ValueError(f"cannot read column line of {match['name']}: {line!r}")
            columns.append(column)
        _, table_comment = _split_comment(first)
        specs.append(TableSpec(match["name"], table_comment, tuple(columns)))
    return tuple(specs)


def _column_type(spec: ColumnSpec) -> sa.types.TypeEngine:
    if spec.type in ("VARCHAR", "CHAR"):
        return sa.String(spec.length)
    if spec.type == "INTEGER":
        return sa.Integer()
    return sa.DateTime()


def build_metadata(specs: tuple[TableSpec, ...]) -> sa.MetaData:
    """Turn table specifications into tables that create alike on SQLite, MariaDB and PostgreSQL."""
    metadata = sa.MetaData()
    for spec in specs:
        sa.Table(
            spec.name,
            metadata,
            *(
                sa.Column(
                    column.name,
                    _column_type(column),
                    primary_key=column.primary_key,
                    nullable=column.nullable,
                    comment=column.comment,
                    quote=True,
                )
                for column in spec.columns
            ),
            comment=spec.comment,
            quote=True,
            # The legacy holds Chinese text; a server whose default is latin1 must not decide otherwise.
            mysql_charset="utf8mb4",
        )
    return metadata


LEGACY_SPECS: tuple[TableSpec, ...] = parse_schema(read_schema_sql())
LEGACY_METADATA: sa.MetaData = build_metadata(LEGACY_SPECS)

#: Every legacy table by name, in the order schema.sql declares them.
LEGACY_TABLES: Mapping[str, sa.Table] = MappingProxyType(
    {spec.name: LEGACY_METADATA.tables[spec.name] for spec in LEGACY_SPECS}
)
