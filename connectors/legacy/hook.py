"""The legacy supervision database hook: streams query results as bounded Arrow record batches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import pyarrow as pa
import sqlalchemy as sa

from connectors.sql.hook import SqlAlchemyHook


def _as_text(value: Any) -> str | None:
    # Legacy VARCHAR columns come back as str from every driver; anything else (a driver's int for a
    # column SQLite stored loosely) is read as its text, never dropped.
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _as_timestamp(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _column(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    """One column of a batch as Arrow: converted in Arrow's C code when every value is already of its kind.

    Drivers return str (or datetime) and None almost always; only a batch holding something else (an int,
    bytes, a timestamp stored as text) pays for the per-value conversion, with the same result.
    """
    try:
        return pa.array(values, type=kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        convert = _as_timestamp if pa.types.is_timestamp(kind) else _as_text
        return pa.array([convert(v) for v in values], type=kind)


class LegacySupervisionHook(SqlAlchemyHook):
    """Reads the legacy supervision database (any SQLAlchemy dialect) on connection `legacy_supervision`."""

    default_conn_name: ClassVar[str] = "legacy_supervision"
    hook_name: ClassVar[str] = "Legacy supervision database"
    read_only: ClassVar[bool] = True

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)
        self._collations: dict[tuple[str, str], str | None] = {}

    def read_batches(
        self, stmt: sa.Select, *, timestamp_columns: set[str], batch_size: int = 20_000
    ) -> Iterator[pa.RecordBatch]:
        """Run `stmt` with a server-side cursor and yield record batches of at most `batch_size` rows.

        Every column is text except those named in `timestamp_columns`, so a messy value is carried as
        written and judged later by the standardizers.
        """
        with self.get_conn().connect() as conn:
            result = conn.execution_options(stream_results=True, max_row_buffer=batch_size).execute(stmt)
            names = list(result.keys())
            schema = pa.schema(
                [pa.field(n, pa.timestamp("us") if n in timestamp_columns else pa.string()) for n in names]
            )
            for rows in result.partitions(batch_size):
                columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
                arrays = [_column(col, field.type) for col, field in zip(columns, schema, strict=True)]
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    def collation(self, table: str, column: str) -> str | None:
        """The collation `column` compares with: its own, else its table's default (None: the database's).

        A column whose collation cannot be told gets a name of its own, equal to no other column's.
        """
        if (table, column) not in self._collations and self.dialect == "sqlite":
            # SQLite's reflection does not report a column's COLLATE: no two columns are known alike.
            self._collations[(table, column)] = f"unknown {table}.{column}"
        if (table, column) not in self._collations:
            inspector = sa.inspect(self.get_conn())
            try:
                found = [c for c in inspector.get_columns(table) if c["name"] == column]
            except sa.exc.NoSuchTableError:
                found = []
            if not found:
                self._collations[(table, column)] = f"unknown {table}.{column}"
                return self._collations[(table, column)]
            own = getattr(found[0]["type"], "collation", None)
            try:
                options = inspector.get_table_options(table)
            except NotImplementedError:
                options = {}
            default = next((str(v) for k, v in options.items() if k.endswith("_collate")), None)
            self._collations[(table, column)] = own or default
        return self._collations[(table, column)]

    def read_rows(self, stmt: sa.Select) -> list[sa.Row]:
        """All rows of a small query (a batch's attributes, a code table)."""
        with self.get_conn().connect() as conn:
            return list(conn.execute(stmt))
