"""A delivery killed (SIGKILL) at each of its crash points, then rerun, leaves exchange, push log and ledger whole."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from pipeline_checks import LOGICAL, sdx_environment

from exchange import faults
from sandbox.legacy import generate_legacy

SDX = str(Path(sys.executable).parent / "sdx")
# Small batches, so a kill can fall between batches of one delivery as well as inside one.
BATCH_ROWS = "40"


def _urls(folder: Path) -> dict[str, str]:
    return {name: f"sqlite:///{folder / name}.db" for name in ("legacy", "curated", "exchange")}


def _sdx(folder: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    env = sdx_environment(_urls(folder), folder / "home", SDX_DELIVER_BATCH_ROWS=BATCH_ROWS, **extra)
    return subprocess.run([SDX, *args], env=env, capture_output=True, text=True, timeout=300, check=False)


def _run(folder: Path, run_id: str, **extra: str) -> subprocess.CompletedProcess:
    return _sdx(
        folder, "run", "--run-id", run_id, "--logical-date", LOGICAL.isoformat(), "--resources", "permit_0101",
        **extra,
    )  # fmt: skip


def _query(url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(tuple(str(v).strip() for v in row) for row in conn.execute(sa.text(sql)))
    finally:
        engine.dispose()


def _state(folder: Path) -> dict[str, list[tuple]]:
    urls = _urls(folder)
    return {
        "exchange": _query(urls["exchange"], "SELECT hj_jlid, hj_czlx, hj_sjzw, hj_xzqhdm FROM ex_xk_0101"),
        "ledger": _query(urls["curated"], "SELECT record_id, seq, digest, deleted FROM sdx_ledger"),
        "pushed": _query(urls["exchange"], "SELECT COALESCE(SUM(zs), 0), COUNT(*) FROM ex_tsrz"),
    }


@pytest.fixture(scope="module")
def legacy_template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("delivery_template")
    generate_legacy(_urls(folder)["legacy"], scale=0.05, seed=9)
    return folder


@pytest.fixture(scope="module")
def reference(legacy_template, tmp_path_factory) -> dict[str, list[tuple]]:
    """The state a delivery that never crashed leaves."""
    folder = tmp_path_factory.mktemp("delivery_reference")
    shutil.copytree(legacy_template, folder, dirs_exist_ok=True)
    done = _run(folder, "run-1")
    assert done.returncode == 0, done.stderr[-3000:]
    state = _state(folder)
    assert int(state["pushed"][0][1]) >= 3, (
        "the delivery must span several batches for the test to mean anything"
    )
    return state


@pytest.mark.parametrize(
    "crash_at",
    [
        f"{faults.DELIVER_AFTER_LEDGER_INTENT}@2",
        f"{faults.DELIVER_MID_BATCH}@1",
        f"{faults.DELIVER_MID_BATCH}@3",
        f"{faults.DELIVER_AFTER_EXCHANGE_COMMIT}@2",
        f"{faults.DELIVER_AFTER_LEDGER_COMMIT}@1",
    ],
)
def test_delivery_killed_then_rerun_loses_nothing_and_writes_nothing_twice(
    legacy_template, reference, tmp_path, crash_at
):
    folder = tmp_path / "crashed"
    shutil.copytree(legacy_template, folder)
    killed = _run(folder, "run-1", SDX_CRASH_AT=crash_at)
    assert killed.returncode == -signal.SIGKILL, (
        f"the run was meant to die at {crash_at}: {killed.stderr[-2000:]}"
    )
    assert _state(folder) != reference, "the kill should leave the delivery unfinished"

    again = _run(folder, "run-1-retry")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "no differences" in again.stdout, again.stdout[-3000:]

    state = _state(folder)
    assert state["exchange"] == reference["exchange"], "the centre holds exactly what an uncrashed run left"
    assert state["ledger"] == reference["ledger"]
    # Every version written once: as many rows pushed as the reference, and HJ_XH 1..n without gaps or repeats.
    assert state["pushed"][0][0] == reference["pushed"][0][0]
    urls = _urls(folder)
    xh = _query(urls["exchange"], "SELECT COUNT(DISTINCT hj_xh), MAX(hj_xh), COUNT(*) FROM ex_xk_0101")
    assert xh == [(str(len(reference["exchange"])),) * 3]
    assert int(xh[0][1]) == int(state["pushed"][0][0])
    assert _query(urls["curated"], "SELECT outcome FROM sdx_ledger WHERE outcome = 'sending'") == []
    reconciled = _sdx(folder, "reconcile", "bigdata_centre")
    assert reconciled.returncode == 0 and "no differences" in reconciled.stdout, reconciled.stdout[-2000:]
