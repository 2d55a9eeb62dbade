"""A gateway delivery killed (SIGKILL) at each of its crash points, then rerun: every record held once, latest seq."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from gateway_delivery import (
    BATCH_RECORDS,
    assert_held_exactly,
    expected,
    gateway_connections,
    stand_in,
    stored_answers,
    urls,
)
from pipeline_checks import LOGICAL, sdx_environment

from exchange import faults
from sandbox.legacy import generate_legacy

SDX = str(Path(sys.executable).parent / "sdx")
RESOURCE = {"cases": "service_network"}


@pytest.fixture(scope="module")
def legacy_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("gateway_crash_template")
    generate_legacy(urls(folder)["legacy"], scale=0.01, seed=11)
    return folder


def _run(folder: Path, gateway_url: str, run_id: str, **extra: str) -> subprocess.CompletedProcess:
    env = sdx_environment(
        urls(folder), folder / "home", SDX_DELIVER_BATCH_ROWS=BATCH_RECORDS,
        **gateway_connections(gateway_url), **extra,
    )  # fmt: skip
    return subprocess.run(
        [SDX, "run", "--run-id", run_id, "--logical-date", LOGICAL.isoformat(), "--resources", *RESOURCE],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    "crash_at",
    [
        f"{faults.GATEWAY_AFTER_LEDGER_INTENT}@2",
        f"{faults.GATEWAY_AFTER_PUSH}@1",
        f"{faults.GATEWAY_AFTER_LEDGER_COMMIT}@2",
    ],
)
def test_gateway_delivery_killed_then_rerun_holds_every_record_once(legacy_template, tmp_path, crash_at):
    folder = tmp_path / "crashed"
    shutil.copytree(legacy_template, folder)
    store = folder / "gateway.db"
    with stand_in(store) as server:
        killed = _run(folder, server.url, "run-1", SDX_CRASH_AT=crash_at)
        assert killed.returncode == -signal.SIGKILL, f"meant to die at {crash_at}: {killed.stderr[-2000:]}"
        again = _run(folder, server.url, "run-1-retry")
        assert again.returncode == 0, again.stderr[-3000:]
    assert "Reconciliation with the gateway receivers: 1 resources, no differences" in again.stdout, (
        again.stdout[-3000:]
    )
    assert_held_exactly(store, urls(folder)["curated"], RESOURCE)
    # A batch cut short was resent under its own request id: one stored answer per batch, none more.
    live = expected(urls(folder)["curated"], "cases", "service_network")
    assert len(live) > 2 * int(BATCH_RECORDS), "several batches, so that a kill can fall between them"
    assert stored_answers(store) == -(-len(live) // int(BATCH_RECORDS))
