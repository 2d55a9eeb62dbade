"""Airflow's metadata database for the test session's AIRFLOW_HOME, migrated once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.legacy import generate_legacy


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """The session's Airflow home (set by tests/conftest.py), with `airflow db migrate` done."""
    home = Path(os.environ["AIRFLOW_HOME"])
    airflow = Path(sys.executable).parent / "airflow"
    done = subprocess.run(
        [str(airflow), "db", "migrate"], env=dict(os.environ), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return home


@pytest.fixture(params=["sqlite", "servers"])
def run_databases(request, tmp_path, use_connections) -> dict[str, str]:
    """Legacy, curated and exchange databases for a whole run, the connections pointed at them.

    `sqlite`: three files. `servers` (CI): the legacy database on MariaDB, the curated and exchange
    databases on PostgreSQL, as in production; skipped with the reason when the servers are not given.
    """
    if request.param == "sqlite":
        urls = {name: f"sqlite:///{tmp_path / name}.db" for name in ("legacy", "curated", "exchange")}
    else:
        urls = {
            "legacy": request.getfixturevalue("mariadb_url"),
            "curated": request.getfixturevalue("postgres_url"),
            "exchange": request.getfixturevalue("second_postgres_url"),
        }
    generate_legacy(urls["legacy"], scale=0.02, seed=3)
    use_connections(
        legacy_supervision=urls["legacy"], curated=urls["curated"], bigdata_centre=urls["exchange"]
    )
    return urls
