"""nightly_sync on a real multi-process Airflow: CeleryExecutor, PostgreSQL metadata, Redis broker.

The api-server, scheduler, dag-processor and a Celery worker run as separate processes, as in
docker-compose.yml; the run is triggered through Airflow's REST API, as an engineer or a script would, and
the records are then looked for where the receivers read them. Every process is stopped at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from gateway_delivery import assert_held_exactly, gateway_connections, stand_in
from pipeline_checks import scalar

from catalog import default_catalog
from exchange.orchestration import GATEWAY_RECEIVERS
from sandbox.legacy import generate_legacy
from schemas.tables import exchange_table_name

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

PROJECT = Path(__file__).resolve().parents[2]
REDIS_ENV = "SDX_TEST_REDIS_URL"  # e.g. redis://127.0.0.1:6379
BIN = Path(sys.executable).parent
PROCESSES = {
    "api-server": ["api-server", "--port", "{port}"],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "celery-worker": ["celery", "worker", "--concurrency", "2"],
}
RUN_TIMEOUT = 900.0
ADMIN = "admin"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"{REDIS_ENV} is not set: no Redis to run the Celery deployment test against")
    return url


@pytest.fixture
def metadata_url(postgres_url) -> str:
    """Airflow's metadata database, through the psycopg2 driver Airflow documents for PostgreSQL."""
    return (
        sa.make_url(postgres_url).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    )


class Stack:
    """The Airflow processes of one deployment, each with its own log file."""

    def __init__(self, home: Path, env: dict[str, str], port: int) -> None:
        self.home, self.env, self.port = home, env, port
        self.processes: dict[str, subprocess.Popen] = {}

    def airflow(self, *args: str, timeout: float = 600) -> None:
        done = subprocess.run(
            [str(BIN / "airflow"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"airflow {' '.join(args)} failed:\n{done.stderr[-3000:]}"

    def start(self) -> None:
        for name, args in PROCESSES.items():
            log = (self.home / f"{name}.log").open("w")
            command = [str(BIN / "airflow"), *(a.format(port=self.port) for a in args)]
            # Own process group: stopping the stack stops the children (gunicorn/uvicorn workers, task runners).
            self.processes[name] = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def logs(self) -> str:
        tails = []
        for name in self.processes:
            text = (self.home / f"{name}.log").read_text(errors="replace")
            tails.append(f"----- {name} (last lines) -----\n" + "\n".join(text.splitlines()[-40:]))
        return "\n".join(tails)

    def assert_alive(self) -> None:
        dead = {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}
        assert not dead, f"Airflow processes exited early: {dead}\n{self.logs()}"

    def stop(self) -> dict[str, int | None]:
        """SIGTERM each process group, as an orchestrator would; SIGKILL only what outlives 60 s."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        codes: dict[str, int | None] = {}
        deadline = time.monotonic() + 60
        for name, process in self.processes.items():
            try:
                codes[name] = process.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                codes[name] = None
        return codes


def airflow_env(
    home: Path, metadata_url: str, redis_url: str, port: int, connections: dict[str, str]
) -> tuple[dict[str, str], str]:
    """The environment of every process of the deployment, and the admin's password."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "SDX_"))}
    passwords = home / "passwords.json"
    password = secrets.token_urlsafe(16)
    passwords.write_text(json.dumps({ADMIN: password}))
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
            "AIRFLOW__CELERY__BROKER_URL": f"{redis_url.rstrip('/')}/{secrets.randbelow(8) + 8}",
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata_url,
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "SDX_HOME": str(home / "sdx"),
        }
    )
    for conn_id, url in connections.items():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(
            {"conn_type": "generic", "extra": {"sqlalchemy_url": url}}
        )
    return env, password


def wait_for(what: str, check, stack: Stack, timeout: float = 300.0, every: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.assert_alive()
        try:
            result = check()
        except requests.RequestException:
            result = None
        if result:
            return result
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}\n{stack.logs()}")


def test_nightly_sync_runs_on_a_celery_deployment(tmp_path, metadata_url, second_postgres_url, redis_url):
    curated_url = second_postgres_url
    port = free_port()
    legacy = f"sqlite:///{tmp_path / 'legacy.db'}"
    exchange = f"sqlite:///{tmp_path / 'exchange.db'}"
    generate_legacy(legacy, scale=0.02, seed=5)
    home = tmp_path / "airflow"
    home.mkdir()
    env, password = airflow_env(
        home, metadata_url, redis_url, port,
        {"legacy_supervision": legacy, "curated": curated_url, "bigdata_centre": exchange},
    )  # fmt: skip
    # The three gateway receivers: the stand-in, a real HTTP server, on its own store.
    store = tmp_path / "gateway.db"
    with stand_in(store) as gateway:
        env.update(gateway_connections(gateway.url))
        stack = Stack(home, env, port)
        stack.airflow("db", "migrate")
        for receiver in GATEWAY_RECEIVERS:  # the scheduler never schedules a task of a missing pool
            stack.airflow("pools", "set", receiver, "1", f"gateway receiver {receiver}")
        api = f"http://127.0.0.1:{port}"
        stack.start()
        try:
            wait_for(
                "the api-server", lambda: requests.get(f"{api}/api/v2/monitor/health", timeout=5).ok, stack
            )
            token = requests.post(
                f"{api}/auth/token", json={"username": ADMIN, "password": password}, timeout=10
            ).json()["access_token"]
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token}"
            wait_for(
                "nightly_sync to be parsed",
                lambda: session.get(f"{api}/api/v2/dags/nightly_sync", timeout=5).ok,
                stack,
            )
            assert session.patch(f"{api}/api/v2/dags/nightly_sync", json={"is_paused": False}, timeout=10).ok

            created = session.post(
                f"{api}/api/v2/dags/nightly_sync/dagRuns",
                json={"logical_date": "2026-11-28T18:00:00Z", "conf": {}},
                timeout=10,
            )
            assert created.status_code == 200, created.text
            run_id = created.json()["dag_run_id"]

            def finished() -> str | None:
                state = session.get(f"{api}/api/v2/dags/nightly_sync/dagRuns/{run_id}", timeout=5).json()[
                    "state"
                ]
                return state if state in ("success", "failed") else None

            state = wait_for("the nightly run", finished, stack, timeout=RUN_TIMEOUT, every=5.0)
            tasks = session.get(
                f"{api}/api/v2/dags/nightly_sync/dagRuns/{run_id}/taskInstances",
                params={"limit": 500},
                timeout=10,
            ).json()["task_instances"]
            hosts = {ti["hostname"] for ti in tasks if ti["state"] == "success"}
            assert state == "success", f"{[(t['task_id'], t['state']) for t in tasks]}\n{stack.logs()}"
            assert hosts, "no task ran on a worker"
        finally:
            codes = stack.stop()

        # The receivers hold every curated record of theirs once, at its latest seq.
        assert_held_exactly(store, curated_url)

    # Every process stopped on SIGTERM, none had to be killed.
    assert None not in codes.values(), codes
    run_status = scalar(
        curated_url, sa.text("SELECT status FROM sdx_run WHERE run_id = :r").bindparams(r=run_id)
    )
    curated = scalar(curated_url, "SELECT COUNT(*) FROM cur_permit_0101 WHERE sdx_deleted = false")
    table = exchange_table_name(default_catalog().resource("permit_0101"))
    assert run_status == "success"
    assert curated > 0
    assert scalar(exchange, f"SELECT COUNT(*) FROM {table}") == curated
    assert scalar(exchange, "SELECT COUNT(*) FROM ex_tsrz") > 0
