"""Fixtures shared by every test: scratch databases on the real servers, skipped with a reason when absent."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

# Airflow reads its home when first imported: give the test session its own, never ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="sdx-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(Path(__file__).resolve().parents[1] / "dags"))

# Server URLs without a database name; .ci/run sets them, a developer may too.
POSTGRES_ENV = "SDX_TEST_POSTGRES_URL"  # e.g. postgresql+psycopg://postgres@127.0.0.1:5432
MARIADB_ENV = "SDX_TEST_MARIADB_URL"  # e.g. mysql+pymysql://root@127.0.0.1:3306


def _server_url(env: str) -> sa.URL:
    raw = os.environ.get(env)
    if not raw:
        pytest.skip(f"{env} is not set: no server to run this integration test against")
    return sa.make_url(raw)


@contextmanager
def _scratch_postgres(server: sa.URL, name: str) -> Iterator[str]:
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8'"))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    with _scratch_postgres(_server_url(POSTGRES_ENV), f"sdx_test_{uuid.uuid4().hex[:12]}") as url:
        yield url


@pytest.fixture
def second_postgres_url(postgres_url: str) -> Iterator[str]:
    """Another fresh database on the same server (e.g. the exchange database beside the curated one)."""
    server = sa.make_url(postgres_url)
    with _scratch_postgres(server, f"{server.database}_2") as url:
        yield url


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A fresh, empty MariaDB database (utf8mb4), dropped afterwards."""
    server = _server_url(MARIADB_ENV)
    name = f"sdx_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server.set(database=None), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    try:
        url = server.set(database=name).update_query_dict({"charset": "utf8mb4"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A SQLite file in the test's own folder."""
    return f"sqlite:///{tmp_path / 'db.sqlite'}"


@pytest.fixture
def use_connections(monkeypatch, tmp_path):
    """Point the toolkit's connection ids at given SQLAlchemy URLs, and its home at the test's folder."""
    import json

    monkeypatch.setenv("SDX_HOME", str(tmp_path / "sdx_home"))

    def apply(**urls: str) -> None:
        for conn_id, url in urls.items():
            extra = {"conn_type": "generic", "extra": {"sqlalchemy_url": url}}
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(extra))

    return apply
