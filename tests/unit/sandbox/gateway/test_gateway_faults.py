"""Each fault kind of the stand-in behaves as configured: at start, at runtime, by count or probability."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from conftest import RawClient, Stand, case_data, record

from sandbox.gateway import FaultPlan

PUSH = "/service_network/api/v1/push/cases"


def _push(
    client: RawClient, record_id: str, request_id: str | None = None, **kwargs: Any
) -> requests.Response:
    body = {"batchId": "b", "records": [record(record_id, 1, case_data())]}
    return client.call("POST", PUSH, body, request_id=request_id, **kwargs)


def _set_faults(client: RawClient, plan: dict[str, Any]) -> dict[str, Any]:
    answer = requests.post(f"{client.base}/_faults", json=plan, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _held(client: RawClient) -> list[str]:
    return [r["recordId"] for r in client.page("cases")["records"]]


def test_error_before_applies_nothing_and_error_after_applies(client: RawClient):
    client.fetch_token()
    _set_faults(client, {"faults": [{"kind": "error_before", "next": 1}, {"kind": "error_after", "next": 1}]})
    assert _push(client, "before").status_code == 503
    after = _push(client, "after", request_id="req-after")
    assert after.status_code == 502
    assert _held(client) == ["after"]
    # The retry under the same request id gets the answer stored when the push was applied.
    assert _push(client, "after", request_id="req-after").json()["data"]["accepted"] == ["after"]


def test_dropped_connections_before_and_after(client: RawClient):
    client.fetch_token()
    _set_faults(client, {"faults": [{"kind": "drop_before", "next": 1}, {"kind": "drop_after", "next": 1}]})
    with pytest.raises(requests.ConnectionError):
        _push(client, "before")
    with pytest.raises(requests.ConnectionError):
        _push(client, "after")
    assert _held(client) == ["after"]
    assert requests.get(f"{client.base}/_faults", timeout=10).json()["injected"] == {
        "drop_before": 1,
        "drop_after": 1,
    }


def test_slow_answers(client: RawClient):
    client.fetch_token()
    _set_faults(client, {"faults": [{"kind": "slow", "next": 1, "delay": 0.6}]})
    started = time.monotonic()
    assert _push(client, "slow").status_code == 200
    assert time.monotonic() - started >= 0.6
    _set_faults(client, {"faults": [{"kind": "slow", "next": 1, "delay": 1.0}]})
    with pytest.raises(requests.Timeout):
        _push(client, "slower", timeout=0.3)


def test_429_storm_busy_and_early_token_expiry(client: RawClient):
    client.fetch_token()
    _set_faults(client, {"faults": [{"kind": "rate_limit", "next": 3, "retry_after": 2}]})
    storm = [_push(client, f"r{n}") for n in range(4)]
    assert [a.status_code for a in storm] == [429, 429, 429, 200]
    assert storm[0].headers["Retry-After"] == "2" and storm[0].json()["code"] == "42900"
    _set_faults(client, {"faults": [{"kind": "busy", "next": 1}]})
    busy = _push(client, "busy", request_id="req-busy")
    assert (busy.status_code, busy.json()["code"]) == (200, "50001")
    assert _push(client, "busy", request_id="req-busy").json()["data"]["accepted"] == ["busy"]  # not stored
    _set_faults(client, {"faults": [{"kind": "token_expiry", "next": 1}]})
    expired = _push(client, "expired")
    assert (expired.status_code, expired.json()["code"]) == (401, "40101")
    assert _push(client, "expired").json()["code"] == "40101"  # the token really ended
    client.fetch_token()
    assert _push(client, "expired").status_code == 200


def test_faults_touch_contract_calls_only_and_can_be_cleared(client: RawClient):
    _set_faults(client, {"faults": [{"kind": "error_before", "probability": 1.0}]})
    assert client.fetch_token().status_code == 200  # the default rule path is /api/
    assert _push(client, "x").status_code == 503
    assert requests.delete(f"{client.base}/_faults", timeout=10).json()["faults"] == []
    assert _push(client, "x").status_code == 200
    bad = requests.post(f"{client.base}/_faults", json={"faults": [{"kind": "meteor"}]}, timeout=10)
    assert bad.status_code == 400


def test_probability_is_seeded():
    def draws(seed: int) -> list[str | None]:
        plan = FaultPlan.from_json(
            {"seed": seed, "faults": [{"kinds": ["busy", "slow"], "probability": 0.3}]}
        )
        return [(f.kind if (f := plan.draw("/api/v1/push/cases")) else None) for _ in range(200)]

    first = draws(7)
    assert first == draws(7)
    assert first != draws(8)
    assert 30 <= sum(k is not None for k in first) <= 90
    assert {"busy", "slow"} <= set(first)


def test_plan_given_at_start(stand: Stand):
    stand.stop()
    client = RawClient(stand.start(faults={"faults": [{"kind": "busy", "next": 1}]}).url)
    assert _push(client, "x").json()["code"] == "50001"
    assert _push(client, "x").json()["code"] == "0"
