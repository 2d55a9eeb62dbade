"""Bulk writes and key look-ups: COPY on PostgreSQL gives back exactly what a plain INSERT would."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
import sqlalchemy as sa

from connectors.sql import bulk
from connectors.sql.engine import create_engine

pytestmark = pytest.mark.integration

DATABASES = ["sqlite_url", "postgres_url", "mariadb_url"]

# Values COPY's text format must escape (tab, newline, backslash, the \N of null), non-ASCII text, nulls,
# and every column type the curated and exchange tables use.
ROWS = [
    {"record_id": "r1", "name": "常州市\t化工\n有限公司\\N", "issued": dt.date(2024, 2, 29),
     "pushed": dt.datetime(2026, 11, 30, 1, 2, 3), "capital": decimal.Decimal("120.500000"), "seq": 2**40,
     "deleted": True},
    {"record_id": "r2", "name": None, "issued": None, "pushed": dt.datetime(2026, 1, 1), "capital": None,
     "seq": 1, "deleted": False},
    {"record_id": "r3", "name": "", "issued": dt.date(2009, 1, 1), "pushed": dt.datetime(2026, 1, 1),
     "capital": 3.25, "seq": 0, "deleted": False},
    # What pandas hands over: a whole float for an integer column, which an INSERT casts.
    {"record_id": "r4", "name": "x", "issued": dt.date(2009, 1, 1), "pushed": dt.datetime(2026, 1, 1),
     "capital": 0.0, "seq": 7.0, "deleted": False},
]  # fmt: skip
STORED = {("r4", "seq"): 7}


def _table() -> sa.Table:
    return sa.Table(
        "bulk_t",
        sa.MetaData(),
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("issued", sa.Date),
        sa.Column("pushed", sa.DateTime),
        sa.Column("capital", sa.Numeric(18, 6)),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(8), nullable=False, default="new"),
    )


@pytest.fixture(params=DATABASES)
def engine(request):
    engine = create_engine(request.getfixturevalue(request.param))
    _table().create(engine)
    yield engine
    engine.dispose()


def test_insert_rows_stores_every_value_as_a_plain_insert_would(engine):
    table = _table()
    with engine.begin() as conn:
        bulk.insert_rows(conn, table, ROWS)
    with engine.connect() as conn:
        stored = {r.record_id: r._asdict() for r in conn.execute(sa.select(table))}
    assert sorted(stored) == ["r1", "r2", "r3", "r4"]
    for row in ROWS:
        got = stored[row["record_id"]]
        assert got["state"] == "new"  # the column's Python default, though the rows leave it out
        for name, value in row.items():
            if name == "capital" and value is not None:
                assert decimal.Decimal(str(got[name])) == decimal.Decimal(str(value))
            else:
                assert got[name] == STORED.get((row["record_id"], name), value), name


def test_insert_rows_belongs_to_the_transaction_it_runs_in(engine):
    table = _table()
    with pytest.raises(RuntimeError), engine.begin() as conn:
        bulk.insert_rows(conn, table, ROWS)
        raise RuntimeError("rolled back")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 0


def test_insert_rows_of_a_duplicate_key_fails_and_keeps_nothing(engine):
    table = _table()
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        bulk.insert_rows(conn, table, [ROWS[0], ROWS[1], ROWS[0]])
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 0


def test_key_in_finds_exactly_the_given_keys(engine):
    table = _table()
    many = [{**ROWS[1], "record_id": f"k{n}"} for n in range(3000)]
    with engine.begin() as conn:
        bulk.insert_rows(conn, table, many)
        wanted = [f"k{n}" for n in range(0, 3000, 7)] + ["absent", "k'; drop table bulk_t; --"]
        found = conn.execute(sa.select(table.c.record_id).where(bulk.key_in(conn, table.c.record_id, wanted)))
        assert sorted(found.scalars()) == sorted(wanted[:-2])
        assert (
            conn.execute(sa.select(table.c.record_id).where(bulk.key_in(conn, table.c.record_id, []))).all()
            == []
        )


def test_a_large_load_leaves_statistics_for_the_planner(postgres_url):
    # Without them the planner prices a key look-up as most of the table and scans it (see bulk.py).
    engine = create_engine(postgres_url)
    table = _table()
    table.create(engine)
    many = [{**ROWS[1], "record_id": f"k{n:06d}"} for n in range(bulk._FIRST_ANALYZE + 10)]
    with engine.begin() as conn:
        bulk.insert_rows(conn, table, many)
    with engine.connect() as conn:
        reltuples = conn.execute(
            sa.text("SELECT reltuples FROM pg_class WHERE relname = 'bulk_t'")
        ).scalar_one()
        keys = [f"k{n:06d}" for n in range(0, 500, 10)]
        stmt = sa.select(table.c.seq).where(bulk.key_in(conn, table.c.record_id, keys))
        compiled = stmt.compile(conn)
        plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).scalars())
    engine.dispose()
    assert reltuples == len(many)
    assert "Index" in plan and "record_id" in plan.split("Index Cond", 1)[-1], plan
