"""The enterprise master, cases, industry profiles and integrity declarations flow legacy → curated (SQLite)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from enterprise_scenario import (
    SOURCE_TABLES,
    apply_enterprise_changes,
    check_cases,
    check_declarations,
    check_enterprise_changes,
    check_enterprises_against_truth,
    check_every_row_accounted,
    hard_delete_enterprise,
)
from pipeline_checks import LOGICAL

from catalog import default_catalog
from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from sandbox.legacy import generate_legacy
from sandbox.legacy.truth import read_truth

RESOURCES = sorted(SOURCE_TABLES)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    work = tmp_path_factory.mktemp("gateway_resources")
    generate_legacy(f"sqlite:///{work / 'legacy.db'}", scale=0.05, seed=7, truth_path=work / "truth.parquet")
    with pytest.MonkeyPatch.context() as patch:
        _connect(patch, work)
        stats = run_pipeline(RunContext(run_id="run-1", logical_date=LOGICAL), RESOURCES)
    return work, stats


def _connect(patch: pytest.MonkeyPatch, work: Path) -> None:
    import json

    patch.setenv("SDX_HOME", str(work / "sdx_home"))
    for conn_id, name in (
        ("legacy_supervision", "legacy"),
        ("curated", "curated"),
        ("bigdata_centre", "exchange"),
    ):
        extra = {"conn_type": "generic", "extra": {"sqlalchemy_url": f"sqlite:///{work / name}.db"}}
        patch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(extra))


def _url(work: Path, name: str) -> str:
    return f"sqlite:///{work / name}.db"


def test_every_source_row_is_curated_or_quarantined(first_run):
    work, stats = first_run
    check_every_row_accounted(_url(work, "legacy"), _url(work, "curated"), stats)
    for resource in RESOURCES:
        assert not stats[resource]["standardize"]["gate"]["held"], resource


def test_the_enterprise_master_has_one_record_per_usable_enterprise_of_the_truth_file(first_run):
    work, _ = first_run
    check_enterprises_against_truth(
        _url(work, "legacy"), _url(work, "curated"), read_truth(work / "truth.parquet")
    )


def test_cases_take_item_code_and_name_from_the_permit_types(first_run):
    work, _ = first_run
    types = default_catalog().codelist("permit_types")
    check_cases(_url(work, "curated"), {e.code: {"name": e.name, **e.attributes} for e in types.entries})


def test_each_declared_chemical_is_one_item(first_run):
    work, _ = first_run
    check_declarations(_url(work, "legacy"), _url(work, "curated"))


def test_enterprise_changes_merge_against_the_rows_of_the_same_uscc(first_run, tmp_path: Path):
    work, _ = first_run
    for name in ("legacy.db", "curated.db", "truth.parquet"):
        shutil.copy(work / name, tmp_path / name)
    shutil.copytree(work / "sdx_home", tmp_path / "sdx_home")
    legacy, curated = _url(tmp_path, "legacy"), _url(tmp_path, "curated")
    expected = apply_enterprise_changes(legacy, curated)
    with pytest.MonkeyPatch.context() as patch:
        _connect(patch, tmp_path)
        second = run_pipeline(
            RunContext(run_id="run-2", logical_date=LOGICAL + dt.timedelta(days=1)), ["enterprises"]
        )
        check_enterprise_changes(curated, expected)
        assert second["enterprises"]["curate"]["deleted"] == len(expected.deleted)
        # Only a full read sees a row that vanished: the enterprise it was the last row of is deleted.
        removed = hard_delete_enterprise(legacy, curated)
        third = run_pipeline(
            RunContext(run_id="run-3", logical_date=LOGICAL + dt.timedelta(days=2), mode="snapshot"),
            ["enterprises"],
        )
        expected.deleted.add(removed)
        check_enterprise_changes(curated, expected)
        assert third["enterprises"]["curate"]["deleted"] == 1
        fourth = run_pipeline(
            RunContext(run_id="run-4", logical_date=LOGICAL + dt.timedelta(days=3), mode="full"),
            ["enterprises"],
        )
    curate = fourth["enterprises"]["curate"]
    assert curate["inserted"] == curate["updated"] == curate["deleted"] == 0
