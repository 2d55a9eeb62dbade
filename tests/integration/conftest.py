"""Fixtures of the integration tests."""

from __future__ import annotations

import pytest
import sqlalchemy as sa


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
