"""The enterprise master and the resources built from legacy tables, from MariaDB into PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from enterprise_scenario import (
    SOURCE_TABLES,
    apply_enterprise_changes,
    check_enterprise_changes,
    check_enterprises_against_truth,
    check_every_row_accounted,
)
from pipeline_checks import LOGICAL

from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from sandbox.legacy import generate_legacy
from sandbox.legacy.truth import read_truth

pytestmark = pytest.mark.integration


def test_enterprise_master_mariadb_to_postgres(
    mariadb_url, postgres_url, second_postgres_url, use_connections, tmp_path
):
    generate_legacy(mariadb_url, scale=0.05, seed=7, truth_path=tmp_path / "truth.parquet")
    use_connections(legacy_supervision=mariadb_url, curated=postgres_url, bigdata_centre=second_postgres_url)
    stats = run_pipeline(RunContext(run_id="run-1", logical_date=LOGICAL), sorted(SOURCE_TABLES))
    check_every_row_accounted(mariadb_url, postgres_url, stats)
    check_enterprises_against_truth(mariadb_url, postgres_url, read_truth(tmp_path / "truth.parquet"))

    expected = apply_enterprise_changes(mariadb_url, postgres_url)
    run_pipeline(RunContext(run_id="run-2", logical_date=LOGICAL + dt.timedelta(days=1)), ["enterprises"])
    check_enterprise_changes(postgres_url, expected)
