"""The benchmark harness (`make bench`) at scale 0.01 on SQLite: it runs to the end and writes a whole record.

One resource (certificate_0701, delivered to the exchange database) keeps it quick; `make bench` runs all.

Only the record's shape and that its numbers are positive are checked: speed is for bench/, not tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def test_harness_smoke_run_writes_every_measure(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(PROJECT / "bench" / "run.py"), "--scales", "0.01", "--runs", "1", "--no-warm-up",
         "--skip", "side_by_side", "gateway", "--resources", "certificate_0701", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    (written,) = tmp_path.glob("*.json")
    record = json.loads(written.read_text())

    assert record["machine"]["cpus"] > 0
    nightly = record["scales"]["0.01"]["nightly"]
    assert nightly["curated_and_exchange"] == "sqlite"
    for phase in ("full", "incremental"):
        assert nightly[phase]["median_seconds"] > 0
        assert nightly[phase]["median_peak_rss_mib"] > 0
    assert nightly["incremental_over_full"] > 0
    stages = nightly["stages"]
    for stage in ("extract", "standardize_validate", "curate", "deliver", "exchange_write"):
        assert stages[stage]["rows"] > 0, stage
        assert stages[stage]["rows_per_second"] > 0, stage
    assert 0 < stages["gx"]["share_of_standardize_validate"] < 1
    assert stages["derive"]["rows"] == 0  # no derived resource was asked for
    assert stages["exchange_write"]["seconds"] <= stages["deliver"]["seconds"]
    # The incremental night reads only what was edited (and its look-back), not everything again, and
    # delivers the edited records' new versions.
    attempt = nightly["attempts"][0]
    assert sum(attempt["changed"].values()) > 0
    assert 0 < attempt["incremental"]["rows_extracted"] < attempt["full"]["rows_extracted"]
    assert 0 < attempt["incremental"]["stages"]["exchange_write"]["rows"] < stages["exchange_write"]["rows"]
