"""Secrets and personal data never leave the curated database: not in logs, errors, XCom, reports or state.

A run is given distinctive secrets (a database password in a connection URL, a gateway app secret, a mail
password) and its output is searched for them, and for every resident ID number and mobile number the
legacy database holds. The exchange database is unreachable, so the run also fails and its error is searched.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
import sys
import traceback
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from leak_scan import APP_SECRET, DB_PASSWORD, SMTP_PASSWORD, file_texts, leaks, personal_values, table_texts
from pipeline_checks import LOGICAL, connect, query_rows, sdx_environment

from exchange import tasks
from sandbox.legacy import generate_legacy

SDX = str(Path(sys.executable).parent / "sdx")
# A permit (phones, names) and a person's certificate (resident ID numbers).
RESOURCES = ["permit_0101", "certificate_0702"]
# Nothing listens on the discard port: connecting fails at once, with the password in the URL.
UNREACHABLE_EXCHANGE = f"postgres://ajj:{DB_PASSWORD}@127.0.0.1:9/qzk"
SECRET_CONNECTIONS = {
    "AIRFLOW_CONN_SERVICE_NETWORK": json.dumps(
        {"conn_type": "http", "host": "https://127.0.0.1:9", "login": "sdx-app", "password": APP_SECRET}
    ),
    "AIRFLOW_CONN_ALERT_SMTP": f"smtp://alerts:{SMTP_PASSWORD}@127.0.0.1:9",
}


@pytest.fixture(scope="module")
def legacy(tmp_path_factory) -> tuple[Path, set[str]]:
    folder = tmp_path_factory.mktemp("leaks")
    url = f"sqlite:///{folder / 'legacy.db'}"
    generate_legacy(url, scale=0.01, seed=5)
    personal = personal_values(url)
    assert len(personal) > 50, (
        "the legacy database must hold ID and phone numbers for the test to mean anything"
    )
    return folder, personal


def _urls(folder: Path) -> dict[str, str]:
    return {name: f"sqlite:///{folder / name}.db" for name in ("legacy", "curated", "exchange")}


def test_a_failing_run_in_a_subprocess_leaks_nothing(legacy, tmp_path):
    source, personal = legacy
    urls = _urls(source) | {"curated": f"sqlite:///{tmp_path / 'curated.db'}"}
    home = tmp_path / "home"
    env = sdx_environment(urls, home, **SECRET_CONNECTIONS)
    env["AIRFLOW_CONN_BIGDATA_CENTRE"] = UNREACHABLE_EXCHANGE
    outputs = []
    for args in (
        [
            "run",
            "--run-id",
            "night-1",
            "--logical-date",
            LOGICAL.isoformat(),
            "--resources",
            "certificate_0702",
        ],
        ["summary", "--run", "night-1"],
        ["report", "--run", "night-1"],
    ):
        done = subprocess.run([SDX, *args], env=env, capture_output=True, text=True, timeout=300, check=False)
        outputs += [(f"sdx {args[0]} stdout", done.stdout), (f"sdx {args[0]} stderr", done.stderr)]
        if args[0] == "run":
            assert done.returncode != 0, "delivery to an unreachable database must fail the run"
            assert "127.0.0.1" in done.stderr or "connect" in done.stderr.lower(), done.stderr[-2000:]
        else:
            assert done.returncode == 0, done.stderr[-2000:]
    reports = list((home / "reports").rglob("*"))
    assert any(p.suffix == ".html" for p in reports) and any(p.suffix == ".xlsx" for p in reports)
    found = leaks([*outputs, *file_texts(home), *table_texts(urls["curated"])], personal)
    assert found == [], "\n".join(found[:20])
    # The search can fail: the curated records hold the numbers, unmasked, as they must.
    curated = query_rows(urls["curated"], "SELECT * FROM cur_certificate_0702")
    assert leaks([("curated", "\n".join(map(repr, curated)))], personal)


def _airflow_context(run_id: str) -> dict[str, Any]:
    run_after = dt.datetime.combine(LOGICAL, dt.time(2), tzinfo=dt.UTC)
    return {
        "dag_run": SimpleNamespace(run_id=run_id, run_after=run_after),
        "logical_date": run_after,
        "params": {"resources": RESOURCES},
    }


def test_task_return_values_logs_and_errors_leak_nothing(legacy, tmp_path, caplog, monkeypatch):
    source, personal = legacy
    urls = _urls(source) | {"curated": f"sqlite:///{tmp_path / 'curated.db'}"}
    connect(
        monkeypatch, tmp_path / "home", {"legacy_supervision": urls["legacy"], "curated": urls["curated"]}
    )
    monkeypatch.setenv("AIRFLOW_CONN_BIGDATA_CENTRE", UNREACHABLE_EXCHANGE)
    for name, value in SECRET_CONNECTIONS.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)
    context = _airflow_context("night-1")
    xcom: list[tuple[str, str]] = []

    def task(name: str, *args: Any) -> Any:
        value = getattr(tasks, name)(context, *args)
        xcom.append((f"XCom of {name}{args}", json.dumps(value, default=str, ensure_ascii=False)))
        return value

    plan = task("plan_entries")
    for entry in plan["sources"] + plan["master_sources"]:
        task("extract", entry["source"], entry["resources"])
    assert plan["derived"] == []
    for resource in plan["master_resources"] + plan["resources"]:
        task("standardize", resource)
        task("curate", resource)
    with pytest.raises(Exception) as failed:
        task("deliver", "permit_0101")
    error = "".join(traceback.format_exception(failed.value))
    task("report")
    found = leaks(
        [*xcom, ("log", caplog.text), ("error", error), ("error repr", repr(failed.value))], personal
    )
    assert found == [], "\n".join(found[:20])
    assert len(xcom) >= 6
