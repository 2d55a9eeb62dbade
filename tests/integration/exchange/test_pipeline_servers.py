"""Flows from a MariaDB legacy database into PostgreSQL curated and exchange databases."""

from __future__ import annotations

import pytest
from pipeline_checks import LOGICAL, exchange_rows, run_twice_and_check, type_resources

from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from sandbox.legacy import generate_legacy
from schemas.tables import exchange_table_name

pytestmark = pytest.mark.integration


def test_0101_flow_mariadb_to_postgres(mariadb_url, postgres_url, second_postgres_url, use_connections):
    generate_legacy(mariadb_url, scale=0.05, seed=7)
    use_connections(legacy_supervision=mariadb_url, curated=postgres_url, bigdata_centre=second_postgres_url)
    run_twice_and_check(mariadb_url, postgres_url, second_postgres_url)


def test_all_18_types_mariadb_to_postgres(mariadb_url, postgres_url, second_postgres_url, use_connections):
    generate_legacy(mariadb_url, scale=0.02, seed=7)
    use_connections(legacy_supervision=mariadb_url, curated=postgres_url, bigdata_centre=second_postgres_url)
    stats = run_pipeline(RunContext(run_id="run-1", logical_date=LOGICAL))
    for resource in type_resources():
        assert stats[resource.name]["standardize"]["extracted"] > 0, resource.name
        assert exchange_rows(second_postgres_url, exchange_table_name(resource)), resource.name
