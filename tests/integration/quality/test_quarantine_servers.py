"""Open quarantine rows seen again are marked in one statement on PostgreSQL: the same rows as one by one."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from catalog import default_catalog
from quality.quarantine import quarantine_table, record_quarantine

pytestmark = pytest.mark.integration

FIRST, LATER = dt.datetime(2026, 11, 29, 2, 0), dt.datetime(2026, 11, 30, 2, 0)


def _errors(record_ids: list[str], value: str = "91320400MA1XXXXXX0") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": record_ids,
            "source_key": [f"k-{r}" for r in record_ids],
            "division": "320402",
            "item": "tyshxydm",
            "issue": "uscc.bad_check",
            "value": value,
        }
    )


@pytest.mark.parametrize("database", ["sqlite_url", "postgres_url"])
def test_rows_seen_again_are_marked_and_only_they(database, request):
    resource = default_catalog().resource("certificate_0701")
    engine = sa.create_engine(request.getfixturevalue(database))
    table = quarantine_table(sa.MetaData())
    table.metadata.create_all(engine)
    everyone = [f"r{n:04d}" for n in range(1500)]

    def run(errors: pd.DataFrame, seen: list[str], run_id: str, now: dt.datetime) -> dict[str, int]:
        with engine.begin() as conn:
            return record_quarantine(
                conn, table, resource, source_table="T_PX_KHHG", errors=errors, seen_record_ids=seen,
                run_id=run_id, now=now,
            )  # fmt: skip

    assert run(_errors(everyone), everyone, "r1", FIRST)["opened"] == 1500
    # The next night reads 1,200 of them again: 1,000 still fail the same way, 100 with another value,
    # 100 are fixed; the other 300 were not read.
    same, other, fixed = everyone[:1000], everyone[1000:1100], everyone[1100:1200]
    errors = pd.concat([_errors(same), _errors(other, "91320400MA1YYYYYY0")], ignore_index=True)
    counts = run(errors, same + other + fixed, "r2", LATER)
    assert counts == {"opened": 0, "still_open": 1100, "resolved": 100}

    with engine.connect() as conn:
        rows = {r.record_id: r for r in conn.execute(sa.select(table))}
    assert {r for r, row in rows.items() if row.last_run_id == "r2"} == set(same + other)
    assert all(rows[r].last_seen == LATER and rows[r].resolved_at is None for r in same + other)
    assert all(rows[r].last_run_id == "r1" and rows[r].last_seen == FIRST for r in everyone[1200:])
    assert all(rows[r].resolved_run_id == "r2" for r in fixed)
    assert {rows[r].value_masked for r in other} == {"91320400MA1YYYYYY0"}
    assert {rows[r].value_masked for r in same} == {"91320400MA1XXXXXX0"}
