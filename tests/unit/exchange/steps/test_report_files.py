"""Where `report_run` writes: one folder per run under SDX_HOME/reports, file names safe for any run id."""

from __future__ import annotations

import pytest

from exchange import staging
from exchange.steps.report import MAX_STEM, file_stem, report_dir


@pytest.mark.parametrize(
    "run_id",
    [
        "scheduled__2026-11-29T02:00:00+08:00",
        "manual__2026-11-29T10:00:00.123456+00:00",
        "backfill 运行/../../etc",
        "..",
        ".",
        "",
        "x" * 250,
    ],
)
def test_report_files_stay_in_one_folder_under_reports(run_id, monkeypatch, tmp_path):
    monkeypatch.setenv("SDX_HOME", str(tmp_path))
    folder = report_dir(run_id)
    assert folder.parent == tmp_path / "reports"
    assert folder.name not in ("", ".", "..")
    assert len(folder.name.encode()) <= 255
    name = f"rectification_{file_stem(run_id)}.xlsx"
    assert len(name.encode()) <= 255 and "/" not in name
    assert len(file_stem(run_id)) <= MAX_STEM


def test_long_run_ids_keep_distinct_names():
    assert file_stem("a" * 200 + "1") != file_stem("a" * 200 + "2")


def test_staging_and_reports_sanitise_run_ids_alike():
    run_id = "scheduled__2026-11-29T02:00:00+08:00"
    assert staging.run_dir(run_id).name == file_stem(run_id) == "scheduled__2026-11-29T02_00_00_08_00"
