"""Fixtures of the gateway client tests: the scripted gateway server and hooks pointed at it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from scripted_gateway import APP_KEY, SECRET, ScriptedGateway


@pytest.fixture
def gateway() -> Iterator[ScriptedGateway]:
    server = ScriptedGateway()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def connect(monkeypatch, gateway):
    """Point connection `receiver` at the scripted gateway with `extra`; returns a hook on it."""
    from connectors.gateway.hook import GatewayHook

    hooks: list[GatewayHook] = []

    def make(
        receiver: str = "service_network", secret: str = SECRET, url: str = "", **extra: Any
    ) -> GatewayHook:
        extra = {"rate_limit": 1000, "backoff": 0.01, "timeout": 2, "retries": 5} | extra
        conn = {
            "conn_type": "http",
            "host": url or gateway.url,
            "login": APP_KEY,
            "password": secret,
            "extra": extra,
        }
        monkeypatch.setenv(f"AIRFLOW_CONN_{receiver.upper()}", json.dumps(conn))
        hooks.append(GatewayHook(receiver))
        return hooks[-1]

    yield make
    for hook in hooks:
        hook.close()
