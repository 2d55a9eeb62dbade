"""Every kind of legacy change, on MariaDB, delivered exactly once to PostgreSQL curated and exchange databases."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from change_scenario import apply_changes, exchange_versions, new_versions
from pipeline_checks import LOGICAL

from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from sandbox.legacy import generate_legacy

pytestmark = pytest.mark.integration


def _run(run_id: str, mode: str) -> dict:
    return run_pipeline(RunContext(run_id=run_id, logical_date=LOGICAL, mode=mode), ["permit_0101"])[
        "permit_0101"
    ]


def test_every_kind_of_change_mariadb_to_postgres(
    mariadb_url, postgres_url, second_postgres_url, use_connections
):
    generate_legacy(mariadb_url, scale=0.05, seed=5)
    use_connections(legacy_supervision=mariadb_url, curated=postgres_url, bigdata_centre=second_postgres_url)
    _run("run-1", "incremental")
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        watermark = conn.execute(
            sa.text("SELECT changed_until FROM sdx_watermark WHERE resource = 'permit_0101'")
        ).scalar_one()
    engine.dispose()
    expected = apply_changes(mariadb_url, postgres_url, watermark)
    before = exchange_versions(second_postgres_url, "ex_xk_0101")

    _run("run-2", "incremental")
    after_incremental = exchange_versions(second_postgres_url, "ex_xk_0101")
    assert set(new_versions(before, after_incremental)) == expected.all() - expected.snapshot_only

    _run("run-3", "snapshot")
    after_snapshot = exchange_versions(second_postgres_url, "ex_xk_0101")
    written = new_versions(before, after_snapshot)
    assert {r for r, op in written.items() if op == "I"} == expected.inserted
    assert {r for r, op in written.items() if op == "U"} == expected.updated
    assert {r for r, op in written.items() if op == "D"} == expected.deleted

    _run("run-4", "snapshot")
    assert new_versions(after_snapshot, exchange_versions(second_postgres_url, "ex_xk_0101")) == {}
    assert isinstance(watermark, dt.datetime)
