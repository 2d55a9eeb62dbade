"""Two pipeline runs on a small generated legacy database, each followed by its report: what the tests read."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

LOGICAL = dt.date(2026, 11, 29)
# Run ids as Airflow makes them: ':' and '+' are what the report's file names must survive.
FIRST_RUN = "scheduled__2026-11-29T02:00:00+08:00"
SECOND_RUN = "manual__2026-11-29T10:00:00+08:00"


@dataclass(frozen=True)
class ReportedRuns:
    """Where the runs' databases and files are, and what `report_run` returned after each run."""

    urls: dict[str, str]
    home: Path
    first: dict[str, Any]
    second: dict[str, Any]

    def connection_env(self) -> dict[str, str]:
        """The environment that points the toolkit at these databases and this home."""
        env = {"SDX_HOME": str(self.home)}
        for conn_id, url in {
            "legacy_supervision": self.urls["legacy"],
            "curated": self.urls["curated"],
            "bigdata_centre": self.urls["exchange"],
        }.items():
            extra = {"conn_type": "generic", "extra": {"sqlalchemy_url": url}}
            env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(extra)
        return env


def make_reported_runs(folder: Path) -> ReportedRuns:
    """Run the pipeline (every planned resource) and report; run it again in full mode and report again."""
    from exchange.context import RunContext
    from exchange.pipeline import run_pipeline
    from exchange.steps.report import report_run
    from sandbox.legacy import generate_legacy

    urls = {name: f"sqlite:///{folder / name}.db" for name in ("legacy", "curated", "exchange")}
    generate_legacy(urls["legacy"], scale=0.02, seed=7)
    runs = ReportedRuns(urls=urls, home=folder / "sdx_home", first={}, second={})
    # The environment is set only while the runs and reports are made, so that it leaks into no other test.
    with pytest.MonkeyPatch.context() as patch:
        for key, value in runs.connection_env().items():
            patch.setenv(key, value)
        run_pipeline(RunContext(run_id=FIRST_RUN, logical_date=LOGICAL))
        first = report_run(RunContext(run_id=FIRST_RUN, logical_date=LOGICAL))
        # Run start times have one-second resolution: the second run must start later to be the latest.
        time.sleep(1.0 - time.time() % 1.0 + 0.01)
        run_pipeline(RunContext(run_id=SECOND_RUN, logical_date=LOGICAL, mode="full"))
        second = report_run(RunContext(run_id=SECOND_RUN, logical_date=LOGICAL, mode="full"))
    return ReportedRuns(urls=urls, home=runs.home, first=first, second=second)
