"""Fixtures of the delivery tests: a curated database of the gateway resources and the stand-in beside it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_delivery import BATCH_RECORDS, curated_template, gateway_connections, stand_in, urls

from sandbox.gateway import GatewayServer


@pytest.fixture(scope="session")
def gateway_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Legacy, curated and exchange databases with the gateway resources curated, delivered to no gateway."""
    return curated_template(tmp_path_factory.mktemp("gateway_template"))


@pytest.fixture
def gateway_work(gateway_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the template, its databases as the connections, small delivery batches."""
    folder = tmp_path / "work"
    shutil.copytree(gateway_template, folder)
    monkeypatch.setenv("SDX_HOME", str(folder / "home"))
    monkeypatch.setenv("SDX_DELIVER_BATCH_ROWS", BATCH_RECORDS)
    for conn_id, name in (
        ("LEGACY_SUPERVISION", "legacy"),
        ("CURATED", "curated"),
        ("BIGDATA_CENTRE", "exchange"),
    ):
        extra = {"conn_type": "generic", "extra": {"sqlalchemy_url": urls(folder)[name]}}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id}", json.dumps(extra))
    return folder


@pytest.fixture
def gateway(gateway_work: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GatewayServer]:
    """The stand-in on the work folder's gateway.db, the three receivers' connections pointed at it."""
    with stand_in(gateway_work / "gateway.db") as server:
        for key, value in gateway_connections(server.url).items():
            monkeypatch.setenv(key, value)
        yield server
