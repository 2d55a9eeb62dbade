"""Engines on PostgreSQL: a statement run many times keeps being planned with its values."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from connectors.sql.engine import create_engine

pytestmark = pytest.mark.integration


def test_postgres_statements_are_never_prepared_on_the_server(postgres_url):
    # A prepared statement may get a generic plan that matches a key list row by row (see engine.py).
    engine = create_engine(postgres_url)
    table = sa.Table("t", sa.MetaData(), sa.Column("record_id", sa.String(64), primary_key=True))
    table.create(engine)
    with engine.connect() as conn:
        for start in range(12):
            ids = [f"r{n}" for n in range(start, start + 100)]
            conn.execute(sa.select(table.c.record_id).where(table.c.record_id.in_(ids))).all()
        prepared = conn.execute(sa.text("SELECT count(*) FROM pg_prepared_statements")).scalar_one()
    engine.dispose()
    assert prepared == 0
