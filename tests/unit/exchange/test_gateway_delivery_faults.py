"""Under each fault the stand-in injects, and all of them at 30% of requests, every record arrives exactly once."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from gateway_delivery import BUILT, assert_held_exactly, gateway_connections, stored_answers, urls
from pipeline_checks import LOGICAL

from connectors.gateway.transport import GatewayError
from exchange.context import RunContext
from exchange.reconcile_gateway import reconcile_gateways
from exchange.steps.deliver_gateway import deliver_resource
from sandbox.gateway import FaultPlan
from sandbox.gateway.faults import KINDS

# Slower than the connection's 1 s timeout: the client gives up and retries while the first try still runs.
SLOW = 1.5


@pytest.mark.parametrize("kinds", [[kind] for kind in KINDS] + [list(KINDS)], ids=[*KINDS, "all"])
def test_delivery_then_reconciliation_leaves_every_record_once_at_its_latest_seq(
    gateway_work: Path, gateway, kinds: list[str]
):
    gateway.state.faults = FaultPlan.from_json(
        {"seed": 3, "faults": [{"kinds": kinds, "probability": 0.3, "delay": SLOW, "retry_after": 1}]}
    )
    ctx = RunContext(run_id="run-1", logical_date=LOGICAL)
    sent = {name: deliver_resource(ctx, name, receiver)["sent"] for name, receiver in BUILT.items()}
    results = reconcile_gateways(ctx)

    injected = gateway.state.faults.to_json()["injected"]
    assert sum(injected.values()) > 0, f"no {kinds} fault was injected: the test means nothing"
    print(f"faults injected: {injected}; records sent: {sent}")  # docs/reliability.md quotes these (-rP)
    assert all(n > 0 for n in sent.values())
    assert sum(r.differences for r in results) == 0
    assert_held_exactly(gateway_work / "gateway.db", urls(gateway_work)["curated"])


def test_a_receiver_down_for_a_whole_night_gets_everything_the_next(
    gateway_work: Path, gateway, monkeypatch: pytest.MonkeyPatch
):
    # Night one: nothing listens where the receivers should be; every delivery fails after its retries.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    up = {key: os.environ[key] for key in gateway_connections(gateway.url)}
    for key, value in gateway_connections(closed, retries=2).items():
        monkeypatch.setenv(key, value)
    night_one = RunContext(run_id="night-1", logical_date=LOGICAL)
    for name, receiver in BUILT.items():
        with pytest.raises(GatewayError):
            deliver_resource(night_one, name, receiver)
    assert stored_answers(gateway_work / "gateway.db") == 0

    # Night two: the receivers are back; the batches left as being sent go, and nothing twice.
    for key, value in up.items():
        monkeypatch.setenv(key, value)
    night_two = RunContext(run_id="night-2", logical_date=LOGICAL)
    sent = {name: deliver_resource(night_two, name, receiver)["sent"] for name, receiver in BUILT.items()}
    assert all(n > 0 for n in sent.values())
    assert sum(r.differences for r in reconcile_gateways(night_two)) == 0
    assert_held_exactly(gateway_work / "gateway.db", urls(gateway_work)["curated"])
