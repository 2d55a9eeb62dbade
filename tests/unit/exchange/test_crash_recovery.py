"""A run killed between its steps (SIGKILL), then run again, ends exactly where an uncrashed run ends."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from change_scenario import apply_changes
from pipeline_checks import LOGICAL, sdx_environment, watermark

from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from sandbox.legacy import generate_legacy

SDX = str(Path(sys.executable).parent / "sdx")


def _urls(folder: Path) -> dict[str, str]:
    return {name: f"sqlite:///{folder / name}.db" for name in ("legacy", "curated", "exchange")}


def _env(folder: Path, **extra: str) -> dict[str, str]:
    return sdx_environment(_urls(folder), folder / "home", **extra)


def _sdx_run(folder: Path, run_id: str, mode: str, **extra: str) -> subprocess.CompletedProcess:
    cmd = [
        SDX,
        "run",
        "--run-id",
        run_id,
        "--mode",
        mode,
        "--logical-date",
        LOGICAL.isoformat(),
        "--resources",
        "permit_0101",
    ]
    return subprocess.run(
        cmd, env=_env(folder, **extra), capture_output=True, text=True, timeout=300, check=False
    )


def _state(folder: Path) -> dict[str, object]:
    urls = _urls(folder)
    out: dict[str, object] = {}
    for name, sql in (
        ("curated", "SELECT record_id, sdx_digest, sdx_seq, sdx_deleted FROM cur_permit_0101"),
        ("exchange", "SELECT hj_jlid, hj_czlx, hj_sjzw FROM ex_xk_0101"),
        ("ledger", "SELECT record_id, seq, digest FROM sdx_ledger"),
        ("quarantine", "SELECT record_id, issue, item, resolved_at IS NULL FROM sdx_quarantine"),
    ):
        engine = sa.create_engine(urls["exchange" if name == "exchange" else "curated"])
        with engine.connect() as conn:
            out[name] = sorted(tuple(str(v).strip() for v in row) for row in conn.execute(sa.text(sql)))
        engine.dispose()
    engine = sa.create_engine(urls["exchange"])
    with engine.connect() as conn:
        out["pushed_rows"] = conn.execute(sa.text("SELECT COALESCE(SUM(zs), 0) FROM ex_tsrz")).scalar_one()
    engine.dispose()
    return out


@pytest.fixture(scope="module")
def loaded_template(tmp_path_factory):
    """A legacy database after one loaded run, copied for each scenario (loading once saves minutes)."""
    folder = tmp_path_factory.mktemp("template")
    generate_legacy(_urls(folder)["legacy"], scale=0.05, seed=9)
    done = _sdx_run(folder, "run-1", "incremental")
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


def _copy(template: Path, target: Path) -> Path:
    shutil.copytree(template, target)
    return target


@pytest.mark.parametrize("point", ["after_extract", "curate_before_commit"])
def test_killed_run_then_rerun_equals_a_run_that_never_crashed(loaded_template, tmp_path, point):
    reference, crashed = (
        _copy(loaded_template, tmp_path / "reference"),
        _copy(loaded_template, tmp_path / "crashed"),
    )
    for folder in (reference, crashed):
        apply_changes(
            _urls(folder)["legacy"], _urls(folder)["curated"], watermark=watermark(_urls(folder)["curated"])
        )

    assert _sdx_run(reference, "run-2", "snapshot").returncode == 0

    killed = _sdx_run(crashed, "run-2", "snapshot", SDX_CRASH_AT=point)
    assert killed.returncode == -signal.SIGKILL, (
        f"the run was meant to die at {point}: {killed.stderr[-2000:]}"
    )
    again = _sdx_run(crashed, "run-2-retry", "snapshot")
    assert again.returncode == 0, again.stderr[-3000:]

    expected, actual = _state(reference), _state(crashed)
    for part in ("curated", "exchange", "ledger", "quarantine", "pushed_rows"):
        assert actual[part] == expected[part], f"{part} differs after a crash at {point}"


def test_in_process_rerun_of_the_same_run_id_is_harmless(tmp_path, use_connections):
    urls = _urls(tmp_path)
    generate_legacy(urls["legacy"], scale=0.02, seed=2)
    use_connections(
        legacy_supervision=urls["legacy"], curated=urls["curated"], bigdata_centre=urls["exchange"]
    )
    run_pipeline(RunContext(run_id="run-1", logical_date=LOGICAL), ["permit_0101"])
    first = _state(tmp_path)
    stats = run_pipeline(RunContext(run_id="run-1", logical_date=LOGICAL), ["permit_0101"])["permit_0101"]
    assert stats["curate"]["inserted"] == stats["curate"]["updated"] == 0
    assert _state(tmp_path) == first
