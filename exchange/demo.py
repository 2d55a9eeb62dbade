"""`make demo`: a whole night on one machine, SQLite files only, run by Airflow's own `dags test`."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from exchange import settings
from exchange.context import shanghai_now
from exchange.orchestration import GATEWAY_RECEIVERS

PROJECT = Path(__file__).resolve().parents[1]
DEMO_APP_KEY = "sdx-demo"
ANNOUNCED = "gateway stand-in at "


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


def gateway_connections(url: str, app_key: str, app_secret: str) -> dict[str, str]:
    """AIRFLOW_CONN_* of the three gateway receivers, each on its own prefix of the stand-in at `url`."""
    return {
        f"AIRFLOW_CONN_{receiver.upper()}": json.dumps(
            {"conn_type": "http", "host": f"{url}/{receiver}", "login": app_key, "password": app_secret}
        )
        for receiver in GATEWAY_RECEIVERS
    }


@contextmanager
def gateway_stand_in(home: Path, env: dict[str, str], timeout: float = 120.0) -> Iterator[dict[str, str]]:
    """The gateway stand-in for all three receivers, a local process on a free port, stopped afterwards.

    Yields the receivers' connections. What the receivers hold is kept in `gateway.db` across demo runs,
    beside the curated database whose ledger remembers what was sent; its log is `gateway.log`.
    """
    secret = secrets.token_hex(16)  # a fresh app secret per demo: the stand-in is the only one to know it
    log_path = home / "gateway.log"
    sdx = str(Path(sys.executable).parent / "sdx")
    cmd = [sdx, "sandbox", "gateway", "--port", "0", "--store", str(home / "gateway.db"),
           "--app", f"{DEMO_APP_KEY}:{secret}"]  # fmt: skip
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603 - our own
    try:
        deadline = time.monotonic() + timeout
        url = ""
        while not url:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the gateway stand-in did not start: see {log_path}")
            time.sleep(0.2)
            lines = log_path.read_text(encoding="utf-8").splitlines()
            url = next(
                (ln.removeprefix(ANNOUNCED).split()[0] for ln in lines if ln.startswith(ANNOUNCED)), ""
            )
        print(f"    gateway stand-in for {', '.join(GATEWAY_RECEIVERS)} at {url}", flush=True)
        yield gateway_connections(url, DEMO_APP_KEY, secret)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


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
    print("==> starting the gateway stand-in (service network and the two provincial platforms)", flush=True)
    with gateway_stand_in(home, env) as connections:
        env |= connections
        _run_night(home, env, bin_dir)
    return 0


def _run_night(home: Path, env: dict[str, str], bin_dir: Path) -> None:
    """The night, the centre's agent and reconciliation, the summary and report, with the stand-in running."""
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
        ("gateway.db", "the gateway stand-in's store: what the three gateway receivers hold"),
        ("staging", "each run's batches between steps"),
        ("airflow", "Airflow's home: metadata database and task logs"),
    ]:
        print(f"  {home / name}  {what}")
