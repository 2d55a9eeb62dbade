"""Fixtures of the exchange tests: generated legacy databases, and the gateway stand-in beside curated ones."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_delivery import BATCH_RECORDS, curated_template, gateway_connections, stand_in
from gateway_delivery import urls as template_urls

from sandbox.gateway import GatewayServer
from sandbox.legacy import generate_legacy


@pytest.fixture
def urls(tmp_path: Path, use_connections) -> dict[str, str]:
    """SQLite legacy (generated, 5 %), curated and exchange databases, the toolkit's connections on them."""
    found = {name: f"sqlite:///{tmp_path / name}.db" for name in ("legacy", "curated", "exchange")}
    generate_legacy(found["legacy"], scale=0.05, seed=7)
    use_connections(
        legacy_supervision=found["legacy"], curated=found["curated"], bigdata_centre=found["exchange"]
    )
    return found


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
        extra = {"conn_type": "generic", "extra": {"sqlalchemy_url": template_urls(folder)[name]}}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id}", json.dumps(extra))
    return folder


@pytest.fixture
def gateway(gateway_work: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GatewayServer]:
    """The stand-in on the work folder's gateway.db, the three receivers' connections pointed at it."""
    with stand_in(gateway_work / "gateway.db") as server:
        for key, value in gateway_connections(server.url).items():
            monkeypatch.setenv(key, value)
        yield server
