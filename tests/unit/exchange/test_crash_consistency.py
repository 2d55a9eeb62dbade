"""The nightly run killed (SIGKILL) at each step's crash point, then run again, ends as an uncrashed run ends.

Whole-run counterpart of test_delivery_crash.py: the run is `sdx run` in a subprocess on SQLite at a small
scale, with small batches so that a kill can fall between batches; the rerun is the next night's run in
this process. Compared: every table of the curated database (records, quarantine, snapshot hashes,
watermarks, ledger) and of the exchange database, run ids, batch ids and clocks left out, and the
reconciliation the rerun stored.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from pipeline_checks import LOGICAL, connect, sdx_environment
from run_state import database_state, differences

from exchange import faults
from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from sandbox.legacy import generate_legacy

SDX = str(Path(sys.executable).parent / "sdx")
RESOURCE = "permit_0101"
# About 80 rows of 0101 at this scale: four extraction batches, four delivery batches.
SCALE, SEED = 0.02, 9
SMALL_BATCHES = {"SDX_BATCH_SIZE": "25", "SDX_DELIVER_BATCH_ROWS": "20"}


def _urls(folder: Path) -> dict[str, str]:
    return {name: f"sqlite:///{folder / name}.db" for name in ("legacy", "curated", "exchange")}


def _killed_run(folder: Path, run_id: str, crash_at: str) -> None:
    env = sdx_environment(_urls(folder), folder / "home", SDX_CRASH_AT=crash_at, **SMALL_BATCHES)
    cmd = [SDX, "run", "--run-id", run_id, "--logical-date", LOGICAL.isoformat(), "--resources", RESOURCE]
    killed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert killed.returncode == -signal.SIGKILL, (
        f"the run was meant to die at {crash_at}: {killed.stderr[-2000:]}"
    )


def _run_in_process(folder: Path, run_id: str) -> list[dict[str, object]]:
    """One uncrashed run of the resource; returns the reconciliation rows it stored."""
    urls = _urls(folder)
    with pytest.MonkeyPatch.context() as patch:
        connect(patch, folder / "home", {"legacy_supervision": urls["legacy"], "curated": urls["curated"],
                                         "bigdata_centre": urls["exchange"]})  # fmt: skip
        for name, value in SMALL_BATCHES.items():
            patch.setenv(name, value)
        patch.delenv(faults.CRASH_ENV, raising=False)
        run_pipeline(RunContext(run_id=run_id, logical_date=LOGICAL), [RESOURCE])
    engine = sa.create_engine(urls["curated"])
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT * FROM sdx_reconciliation WHERE run_id = :r"), {"r": run_id})
            return [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()


def _state(folder: Path) -> dict[str, object]:
    urls = _urls(folder)
    return {"curated": database_state(urls["curated"]), "exchange": database_state(urls["exchange"])}


@pytest.fixture(scope="module")
def legacy_template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("crash_template")
    generate_legacy(_urls(folder)["legacy"], scale=SCALE, seed=SEED)
    return folder


@pytest.fixture(scope="module")
def reference(legacy_template, tmp_path_factory) -> dict[str, object]:
    """What a run that never crashed leaves."""
    folder = tmp_path_factory.mktemp("crash_reference")
    shutil.copytree(legacy_template, folder, dirs_exist_ok=True)
    _run_in_process(folder, "night-1")
    state = _state(folder)
    assert state["exchange"]["ex_tsrz"][0] > 40, (
        "the run must span several batches for the kills to mean anything"
    )
    assert len(state["curated"]["sdx_quarantine"]) > 0, "some records must be quarantined too"
    return state


def _assert_as_reference(
    folder: Path, reference: dict[str, object], reconciled: list[dict[str, object]]
) -> None:
    state = _state(folder)
    for database in ("curated", "exchange"):
        assert differences(reference[database], state[database]) == {}, f"the {database} database differs"
        assert state[database] == reference[database]
    assert reconciled and all(row["differences"] == 0 for row in reconciled), reconciled


# Each point with the pass at which the run dies (a later batch where there are several).
KILLS = [
    f"{faults.EXTRACT_MID_SOURCE}@2",
    faults.EXTRACT_AFTER_STAGING,
    faults.AFTER_STANDARDIZE,
    faults.CURATE_BEFORE_COMMIT,
    faults.CURATE_AFTER_COMMIT,
    f"{faults.DELIVER_MID_BATCH}@2",
    f"{faults.DELIVER_AFTER_LEDGER_COMMIT}@3",
]


@pytest.mark.parametrize("crash_at", KILLS)
def test_run_killed_then_run_again_ends_as_an_uncrashed_run(legacy_template, reference, tmp_path, crash_at):
    folder = tmp_path / "crashed"
    shutil.copytree(legacy_template, folder)
    _killed_run(folder, "night-1", crash_at)
    assert _state(folder) != reference, "the kill should leave the run unfinished"
    _assert_as_reference(folder, reference, _run_in_process(folder, "night-1-again"))


def test_killed_twice_then_retried_under_the_same_run_id(legacy_template, reference, tmp_path):
    # Airflow retries a task under the same run id: the staging files of the killed attempts are still there.
    folder = tmp_path / "crashed"
    shutil.copytree(legacy_template, folder)
    _killed_run(folder, "night-1", faults.CURATE_AFTER_COMMIT)
    _killed_run(folder, "night-1", f"{faults.DELIVER_MID_BATCH}@1")
    _assert_as_reference(folder, reference, _run_in_process(folder, "night-1"))
