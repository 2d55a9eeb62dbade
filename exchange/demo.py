"""`make demo`: a whole night on one machine, SQLite files only, run by Airflow's own `dags test`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from exchange import settings
from exchange.context import shanghai_now

PROJECT = Path(__file__).resolve().parents[1]


def demo_environment(home: Path) -> dict[str, str]:
    """Environment for Airflow and `sdx` in the demo: one folder, SQLite files, connections as JSON."""

    def sqlite(name: str) -> str:
        return json.dumps({"conn_type": "sqlite", "host": str(home / name)})

    return {
        **os.environ,
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW_CONN_LEGACY_SUPERVISION": sqlite("legacy.db"),
        "AIRFLOW_CONN_CURATED": sqlite("curated.db"),
        "AIRFLOW_CONN_BIGDATA_CENTRE": sqlite("exchange.db"),
        "SDX_HOME": str(home),
        settings.DEADLINE_ALERTS_ENV: "off",
        # Library deprecation chatter is for the project's developers (see `make test`), not the demo's reader.
        "PYTHONWARNINGS": "ignore",
    }


def _step(title: str, cmd: list[str], env: dict[str, str]) -> None:
    print(f"==> {title}", flush=True)
    started = time.monotonic()
    done = subprocess.run(cmd, env=env, check=False)  # noqa: S603 - our own executables, no shell
    if done.returncode != 0:
        raise SystemExit(f"demo step failed ({title}): exit {done.returncode}")
    print(f"    done in {time.monotonic() - started:.1f} s", flush=True)


def run_demo(home: Path, *, scale: float, seed: int) -> int:
    """Generate the legacy DB (once), run `nightly_sync` through Airflow, print the summary and outputs."""
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    env = demo_environment(home)
    bin_dir = Path(sys.executable).parent
    legacy = home / "legacy.db"
    if not legacy.exists():
        _step(
            f"generating the legacy database (scale {scale}, seed {seed})",
            [str(bin_dir / "sdx"), "sandbox", "legacy", "--url", f"sqlite:///{legacy}", "--scale", str(scale),
             "--seed", str(seed), "--truth", str(home / "legacy_truth.parquet")],
            env,
        )  # fmt: skip
    _step("preparing Airflow's metadata database", [str(bin_dir / "airflow"), "db", "migrate"], env)
    logical = shanghai_now().date().isoformat()
    _step(
        f"running nightly_sync for {logical} (airflow dags test)",
        [str(bin_dir / "airflow"), "dags", "test", "nightly_sync", logical],
        env,
    )
    _step(
        "the big-data centre's exchange agent takes the delivered rows (refusing about 1 in 100)",
        [str(bin_dir / "sdx"), "-q", "sandbox", "exchange-agent", "--refuse-share", "0.01"],
        env,
    )
    _step(
        "reconciling with the big-data centre (its refusals go back into quarantine)",
        [str(bin_dir / "sdx"), "-q", "reconcile", "bigdata_centre"],
        env,
    )
    print()
    summary = subprocess.run(  # noqa: S603 - our own executable, no shell
        [str(bin_dir / "sdx"), "summary"], env=env, check=False, capture_output=True, text=True
    )
    print(summary.stdout or summary.stderr)
    report = subprocess.run(  # noqa: S603 - our own executable, no shell
        [str(bin_dir / "sdx"), "report"], env=env, check=False, capture_output=True, text=True
    )
    print("Quality report (open in a browser) and rectification workbook:")
    print("".join(f"  {line}\n" for line in report.stdout.splitlines()) or report.stderr)
    print("Outputs:")
    for name, what in [
        ("legacy.db", "the generated legacy database (SQLite)"),
        ("legacy_truth.parquet", "what each generated quirk should standardize to"),
        ("curated.db", "the curated database: cur_* tables, sdx_quarantine, sdx_ledger, runs"),
        ("exchange.db", "the big-data centre's exchange database: ex_* tables and ex_tsrz"),
        ("staging", "each run's batches between steps"),
        ("airflow", "Airflow's home: metadata database and task logs"),
    ]:
        print(f"  {home / name}  {what}")
    return 0
