"""A long push shows how far it has got every few seconds and when it ends, not once per batch."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pipeline_checks import LOGICAL

from exchange.context import RunContext
from exchange.steps import deliver_gateway


def _progress_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.getMessage().endswith(" records") and "→" in r.getMessage()
    ]


@pytest.mark.parametrize("every", [0.0, 3600.0], ids=["every batch", "once an hour"])
def test_progress_is_logged_at_the_interval_and_at_the_end(
    gateway_work: Path,
    gateway,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    every: float,
):
    monkeypatch.setattr(deliver_gateway, "PROGRESS_SECONDS", every)
    caplog.set_level(logging.INFO, logger=deliver_gateway.__name__)
    stats = deliver_gateway.deliver_resource(
        RunContext(run_id="run-1", logical_date=LOGICAL), "cases", "service_network"
    )

    assert stats["batches"] > 2, "too few batches for the test to mean anything"
    lines = _progress_lines(caplog)
    assert lines[-1] == f"deliver cases → service_network: {stats['sent']}/{stats['sent']} records"
    assert len(lines) == (stats["batches"] if every == 0.0 else 1)
