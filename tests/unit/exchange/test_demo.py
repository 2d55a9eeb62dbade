"""The demo's gateway stand-in: a local process for the three receivers, its connections, stopped after."""

from __future__ import annotations

import json
import os

import pytest
import requests

from exchange.demo import gateway_stand_in
from exchange.orchestration import GATEWAY_RECEIVERS


def test_the_demo_starts_the_stand_in_for_all_three_receivers_and_stops_it(tmp_path, monkeypatch):
    from connectors.gateway.hook import GatewayHook

    with gateway_stand_in(tmp_path, dict(os.environ)) as connections:
        assert set(connections) == {f"AIRFLOW_CONN_{r.upper()}" for r in GATEWAY_RECEIVERS}
        for key, value in connections.items():
            monkeypatch.setenv(key, value)
        for receiver in GATEWAY_RECEIVERS:
            hook = GatewayHook(receiver)
            ok, message = hook.test_connection()
            hook.close()
            assert ok, message
        host = json.loads(connections["AIRFLOW_CONN_SERVICE_NETWORK"])["host"]
    base = host.removesuffix("/service_network")
    with pytest.raises(requests.ConnectionError):  # the stand-in no longer answers after the demo
        requests.get(f"{base}/_faults", timeout=2)
    assert (tmp_path / "gateway.db").exists()
