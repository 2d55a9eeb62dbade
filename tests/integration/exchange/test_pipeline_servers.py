"""The 0101 flow from a MariaDB legacy database into PostgreSQL curated and exchange databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pipeline_checks import run_twice_and_check

from sandbox.legacy import generate_legacy

pytestmark = pytest.mark.integration


@pytest.fixture
def second_postgres_url(postgres_url):
    # The exchange database is a separate database from the curated one, as in production.
    server = sa.make_url(postgres_url)
    name = server.database + "_ex"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_0101_flow_mariadb_to_postgres(mariadb_url, postgres_url, second_postgres_url, use_connections):
    generate_legacy(mariadb_url, scale=0.05, seed=7)
    use_connections(legacy_supervision=mariadb_url, curated=postgres_url, bigdata_centre=second_postgres_url)
    run_twice_and_check(mariadb_url, postgres_url, second_postgres_url)
