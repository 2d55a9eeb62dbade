"""Record batches from the legacy database: text as text, change timestamps as timestamps, loose values kept."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import sqlalchemy as sa
from pipeline_checks import legacy_hook_after

from connectors.legacy.hook import LegacySupervisionHook


def test_values_of_another_type_are_read_as_their_text_or_timestamp(sqlite_url, use_connections):
    use_connections(legacy_supervision=sqlite_url)
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (K TEXT, V TEXT, GXSJ TEXT)"))
        # SQLite keeps what it is given: an integer in a text column, a timestamp as text, a broken one.
        conn.execute(
            sa.text(
                "INSERT INTO t VALUES ('1', 120, '2020-03-05 08:00:00'), ('2', '约120人', 'bad'), ('3', NULL, NULL)"
            )
        )
    engine.dispose()
    hook = LegacySupervisionHook()
    table = sa.table("t", sa.column("K"), sa.column("V"), sa.column("GXSJ"))
    batches = list(
        hook.read_batches(sa.select(table).order_by(table.c.K), timestamp_columns={"GXSJ"}, batch_size=2)
    )
    hook.dispose()
    read = pa.Table.from_batches(batches)
    assert read.schema.field("V").type == pa.string()
    assert read.column("V").to_pylist() == ["120", "约120人", None]
    assert read.column("GXSJ").to_pylist() == [dt.datetime(2020, 3, 5, 8, 0), None, None]
    assert [b.num_rows for b in batches] == [2, 1]


def test_sqlite_columns_are_never_taken_to_compare_alike(sqlite_url, use_connections):
    # SQLite's reflection does not report COLLATE, so a batch's key range is never used to bound there.
    ddl = ["CREATE TABLE a (K TEXT)", "CREATE TABLE b (K TEXT COLLATE NOCASE)"]
    hook = legacy_hook_after(sqlite_url, use_connections, *ddl)
    assert hook.collation("a", "K") != hook.collation("b", "K")
    assert hook.collation("a", "K") == hook.collation("a", "K")
    hook.dispose()
