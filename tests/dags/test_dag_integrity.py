"""Every DAG imports cleanly, quickly, with owners, tags and retries, and touches nothing while parsing."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import sqlalchemy

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(p for p in DAGS.glob("*.py") if not p.name.startswith("_"))


class ParseTimeIO(AssertionError):
    pass


@pytest.fixture
def no_io(monkeypatch):
    # Airflow sets up its own metadata engine on import; only what the DAG file does afterwards counts.
    import airflow.dag_processing.dagbag  # noqa: F401

    def refuse(*args, **kwargs):
        raise ParseTimeIO("a DAG file opened a connection while being parsed")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(sqlalchemy, "create_engine", refuse)


def _dagbag(path: Path):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(path))


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_dag_file_imports_without_errors_or_io(path, no_io):
    started = time.monotonic()
    bag = _dagbag(path)
    elapsed = time.monotonic() - started
    assert bag.import_errors == {}
    assert list(bag.dags) == [path.stem], "dag_id equals the file name"
    # Generous bound: the point is that nothing heavy (GX, pandas work, connections) runs at parse time.
    assert elapsed < 5, f"{path.name} took {elapsed:.1f}s to parse"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_dag_has_owner_tags_and_retries(path):
    dag = _dagbag(path).dags[path.stem]
    assert dag.tags, "every DAG is tagged"
    for task in dag.tasks:
        assert task.owner and task.owner != "airflow", f"{task.task_id} has no owner"
        assert task.retries >= 2, f"{task.task_id} retries only {task.retries} times"


def test_nightly_sync_structure():
    dag = _dagbag(DAGS / "nightly_sync.py").dags["nightly_sync"]
    assert dag.timezone.name == "Asia/Shanghai"
    assert {t.task_id for t in dag.tasks} == {
        "prepare",
        "resources_of",
        "extract",
        "standardize",
        "curate",
        "deliver",
        "reconcile",
        "finish",
        "report",
    }
    assert "standardize" in dag.task_dict["curate"].upstream_task_ids
    assert dag.task_dict["deliver"].downstream_task_ids == {"reconcile"}
    assert dag.task_dict["reconcile"].downstream_task_ids == {"finish"}
    assert dag.task_dict["reconcile"].trigger_rule == "all_done", "a failed delivery is reconciled too"
    assert dag.task_dict["finish"].downstream_task_ids == {"report"}


def test_dag_files_hold_no_sql_or_http():
    for path in DAG_FILES:
        text = path.read_text(encoding="utf-8")
        for word in ("SELECT ", "INSERT ", "requests.", "sqlalchemy", "create_engine"):
            assert word not in text, f"{path.name} contains {word!r}: DAG files are wiring only"


def test_nightly_sync_announces_every_curated_resource_as_its_catalogue_asset():
    from catalog import default_catalog

    dag = _dagbag(DAGS / "nightly_sync.py").dags["nightly_sync"]
    outlets = {asset.uri for asset in dag.task_dict["finish"].outlets}
    assert outlets == {r.asset_uri for r in default_catalog().resources.values()}
