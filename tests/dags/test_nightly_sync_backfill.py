"""Airflow's own backfill of nightly_sync: one run per night at 02:00 Shanghai time, as docs/operations.md says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.airflow

AIRFLOW = Path(sys.executable).parent / "airflow"


def _airflow(*args: str) -> str:
    done = subprocess.run(
        [str(AIRFLOW), *args], env=dict(os.environ), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_backfill_of_a_week_of_october_plans_one_nightly_run_per_night(airflow_db):
    _airflow("dags", "reserialize")
    out = _airflow(
        "backfill", "create", "--dag-id", "nightly_sync", "--dry-run",
        "--from-date", "2026-10-01T00:00:00+08:00", "--to-date", "2026-10-07T02:00:00+08:00",
    )  # fmt: skip
    planned = re.findall(r"\|\s*(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00)\s*\|", out)
    # 18:00 UTC is 02:00 in Shanghai the next day: the nights of 1 to 7 October.
    assert planned == [f"2026-{day} 18:00:00+00:00" for day in ("09-30", *(f"10-0{d}" for d in range(1, 7)))]
