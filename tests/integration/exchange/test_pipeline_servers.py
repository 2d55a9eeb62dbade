"""The 0101 flow from a MariaDB legacy database into PostgreSQL curated and exchange databases."""

from __future__ import annotations

import pytest
from pipeline_checks import run_twice_and_check

from sandbox.legacy import generate_legacy

pytestmark = pytest.mark.integration


def test_0101_flow_mariadb_to_postgres(mariadb_url, postgres_url, second_postgres_url, use_connections):
    generate_legacy(mariadb_url, scale=0.05, seed=7)
    use_connections(legacy_supervision=mariadb_url, curated=postgres_url, bigdata_centre=second_postgres_url)
    run_twice_and_check(mariadb_url, postgres_url, second_postgres_url)
