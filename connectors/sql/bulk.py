"""Writing and looking up many rows at once: PostgreSQL's COPY and key arrays, plain SQLAlchemy elsewhere."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


def _copies(conn: sa.Connection) -> bool:
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` inside the connection's transaction.

    On PostgreSQL through psycopg the rows go in one `COPY … FROM STDIN` (psycopg's own copy support):
    curating the 126,000 certificates of scale 1 spent ≈ 7 s in SQLAlchemy's batched INSERT, mostly
    building statements and converting parameters in Python, and ≈ 1.7 s in COPY (py-spy). Columns left
    out get their scalar Python default, as an INSERT through SQLAlchemy would give them; a column with a
    callable default, or any other database, takes the plain batched INSERT.
    """
    if not rows:
        return
    names = list(rows[0])
    defaults = {c.name: c.default for c in table.columns if c.name not in rows[0] and c.default is not None}
    if not _copies(conn) or not all(getattr(d, "is_scalar", False) for d in defaults.values()):
        conn.execute(table.insert(), list(rows))
        return
    preparer = conn.dialect.identifier_preparer
    columns = ", ".join(preparer.quote(name) for name in [*names, *defaults])
    extra = tuple(getattr(d, "arg", None) for d in defaults.values())
    integers = [(name, isinstance(table.c[name].type, sa.Integer)) for name in names]
    statement = f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row((*(_integer(row[n]) if i else row[n] for n, i in integers), *extra))
    except conn.dialect.loaded_dbapi.Error as error:
        # The same exception types as any statement run through SQLAlchemy (IntegrityError and so on).
        raise sa.exc.DBAPIError.instance(
            statement, None, error, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from error
    finally:
        cursor.close()
    _analyze_when_grown(conn, table, len(rows))


# Rows this process has inserted into each PostgreSQL table, and how many of them when it last analyzed it.
_inserted: dict[tuple[str, str], list[int]] = {}
_FIRST_ANALYZE = 10_000


def _analyze_when_grown(conn: sa.Connection, table: sa.Table, rows: int) -> None:
    """ANALYZE a table this process has filled a lot since it last did (10,000 rows, then each doubling).

    A freshly filled table has no statistics until (auto)vacuum gets to it, and without them the planner
    prices `record_id = ANY(:keys)` as matching most rows: the key look-ups of a first night then scan the
    whole table (or the whole of one resource in the ledger) once per batch: 61 s of the gateway
    deliveries of a first night at scale 1 (py-spy). Doubling keeps the ANALYZE runs to a handful however
    large the load (each samples at most 30,000 rows).
    """
    key = (conn.engine.url.render_as_string(), table.fullname)
    counts = _inserted.setdefault(key, [0, 0])
    counts[0] += rows
    if counts[0] - counts[1] >= max(_FIRST_ANALYZE, counts[1]):
        conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.format_table(table)}")
        counts[1] = counts[0]


def _integer(value: Any) -> Any:
    # COPY reads "0.0" as no integer, where an INSERT casts the float parameter (rounding half to even).
    return round(value) if isinstance(value, float) and math.isfinite(value) else value


def key_in(conn: sa.Connection, column: sa.ColumnElement[Any], keys: Sequence[Any]) -> sa.ColumnElement[bool]:
    """`column IN keys`; on PostgreSQL one array parameter (`= ANY(:keys)`) instead of one per key.

    SQLAlchemy renders an IN list as one bound parameter per key, and building those costs more than the
    look-up itself for lists of thousands.
    """
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(keys), type_=postgresql.ARRAY(column.type)))
    return column.in_(list(keys))
