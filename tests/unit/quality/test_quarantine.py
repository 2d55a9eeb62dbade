"""Quarantine rows: opened, refreshed, resolved and reopened, whichever way the existing rows are read."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from catalog import default_catalog
from quality.quarantine import quarantine_table, record_quarantine

NOW = dt.datetime(2026, 11, 30, 2, 0)


def _errors(*record_ids: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": list(record_ids),
            "source_key": [f"k-{r}" for r in record_ids],
            "division": "320402",
            "item": "tyshxydm",
            "issue": "uscc.bad_check",
            "value": "91320400MA1XXXXXX0",
        }
    )


def _open(conn: sa.Connection, table: sa.Table) -> set[str]:
    return set(conn.execute(sa.select(table.c.record_id).where(table.c.resolved_at.is_(None))).scalars())


# Few seen ids against many quarantine rows takes the look-up by id; many seen ids (a full night) takes
# the read of the resource's rows: both must give the same result.
@pytest.mark.parametrize("unrelated_seen", [0, 50])
def test_rows_open_refresh_resolve_and_reopen(unrelated_seen):
    resource = default_catalog().resource("certificate_0701")
    table = quarantine_table(sa.MetaData())
    engine = sa.create_engine("sqlite://")
    table.metadata.create_all(engine)
    others = [f"other-{n}" for n in range(unrelated_seen)]

    def run(errors: pd.DataFrame, seen: list[str], run_id: str) -> dict[str, int]:
        with engine.begin() as conn:
            return record_quarantine(
                conn, table, resource, source_table="T_PX_KHHG", errors=errors,
                seen_record_ids=seen + others, run_id=run_id, now=NOW,
            )  # fmt: skip

    assert run(_errors("a", "b", "c"), ["a", "b", "c"], "r1") == {"opened": 3, "still_open": 0, "resolved": 0}
    # a is fixed, b still fails, c is not read this run (incremental): c stays open untouched.
    assert run(_errors("b"), ["a", "b"], "r2") == {"opened": 0, "still_open": 1, "resolved": 1}
    with engine.connect() as conn:
        assert _open(conn, table) == {"b", "c"}
        value = conn.execute(sa.select(table.c.value_masked).where(table.c.record_id == "b")).scalar_one()
        assert value == "91320400MA1XXXXXX0"
    # a fails again: its row is reopened, not duplicated.
    assert run(_errors("a"), ["a"], "r3") == {"opened": 0, "still_open": 1, "resolved": 0}
    with engine.connect() as conn:
        assert _open(conn, table) == {"a", "b", "c"}
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 3
