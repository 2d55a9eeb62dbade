"""The report tests' shared fixture: two pipeline runs and their reports, made once a session."""

from __future__ import annotations

import pytest
from report_runs import ReportedRuns, make_reported_runs


@pytest.fixture(scope="session")
def reported_runs(tmp_path_factory: pytest.TempPathFactory) -> ReportedRuns:
    """Two runs of the pipeline on a generated legacy DB (scale 0.02), each followed by `report_run`."""
    return make_reported_runs(tmp_path_factory.mktemp("quality_report"))
