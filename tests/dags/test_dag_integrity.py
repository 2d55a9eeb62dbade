"""Every DAG imports cleanly, quickly, with owners, tags and retries, and touches nothing while parsing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy

from exchange.orchestration import GATEWAY_RECEIVERS, RECEIVERS

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(p for p in DAGS.glob("*.py") if not p.name.startswith("_"))

# A DAG file's own import cost, as Airflow's best practices measure it (a fresh interpreter, less what it
# costs before the file is read): the dag-processor has Airflow imported before it parses a file, so that
# is done first and left out. CPU time of the import, not wall-clock time: what the file costs, not how
# busy the machine is.
IMPORT_COST = """
import json, runpy, sys, time
import airflow.dag_processing.dagbag
started = time.process_time()
runpy.run_path(sys.argv[1], run_name="dag_file")
print(json.dumps(time.process_time() - started))
"""


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
    bag = _dagbag(path)
    assert bag.import_errors == {}
    assert list(bag.dags) == [path.stem], "dag_id equals the file name"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_dag_file_imports_within_a_second(path):
    """Nothing heavy (GX, pandas, the steps' modules) is imported or run when the file is parsed."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_COST, str(path)],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seconds = float(done.stdout.splitlines()[-1])
    assert seconds < 1, f"{path.name} costs {seconds:.2f} s of CPU to import"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_dag_has_owner_tags_retries_and_alerts(path):
    from exchange.alerts import RunAlertNotifier

    dag = _dagbag(path).dags[path.stem]
    assert dag.tags, "every DAG is tagged"
    for task in dag.tasks:
        assert task.owner and task.owner != "airflow", f"{task.task_id} has no owner"
        assert task.retries >= 2, f"{task.task_id} retries only {task.retries} times"
        callbacks = task.on_failure_callback or []
        callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
        assert any(isinstance(c, RunAlertNotifier) for c in callbacks), (
            f"{task.task_id} alerts nobody on failure"
        )


def test_nightly_sync_alerts_when_not_done_by_0600():
    dag = _dagbag(DAGS / "nightly_sync.py").dags["nightly_sync"]
    alerts = dag.deadline if isinstance(dag.deadline, list) else [dag.deadline]
    (alert,) = alerts
    assert type(alert.reference).__name__ == "DagRunLogicalDateDeadline"
    # 02:00 (the schedule's hour) + the interval = 06:00 Shanghai time.
    assert dag.timetable.expression.startswith("0 2 ")
    assert alert.interval.total_seconds() == 4 * 3600


def test_nightly_sync_structure():
    dag = _dagbag(DAGS / "nightly_sync.py").dags["nightly_sync"]
    assert dag.timezone.name == "Asia/Shanghai"
    assert {t.task_id for t in dag.tasks} == {
        "prepare",
        "resources_of",
        "sources",
        "derived_resources",
        "planned",
        "extract",
        "derive",
        "standardize_derived",
        "curate_derived",
        "standardize",
        "curate",
        "reconcile",
        "finish",
        "report",
        "master_sources",
        "master_resources",
        "extract_master",
        "standardize_master",
        "curate_master",
        *(f"{step}_{receiver}" for receiver in RECEIVERS for step in ("to", "deliver")),
    }
    # The enterprise master is curated before the other resources resolve old codes by it.
    assert "curate_master" in dag.task_dict["standardize"].upstream_task_ids
    assert "standardize_master" in dag.task_dict["curate_master"].upstream_task_ids
    assert "extract_master" in dag.task_dict["standardize_master"].upstream_task_ids
    assert dag.task_dict["standardize"].trigger_rule == "none_failed"
    assert "standardize" in dag.task_dict["curate"].upstream_task_ids
    # One mapped deliver task per receiver, once every curation is done; a gateway receiver's in its pool.
    for receiver in RECEIVERS:
        deliver = dag.task_dict[f"deliver_{receiver}"]
        assert {"curate", "curate_master", "curate_derived", f"to_{receiver}"} <= deliver.upstream_task_ids
        assert deliver.downstream_task_ids == {"reconcile"}
        assert deliver.trigger_rule == "all_done"
        assert deliver.pool == (receiver if receiver in GATEWAY_RECEIVERS else "default_pool")
    assert dag.task_dict["reconcile"].downstream_task_ids == {"finish"}
    assert dag.task_dict["reconcile"].trigger_rule == "all_done", "a failed delivery is reconciled too"
    assert dag.task_dict["finish"].downstream_task_ids == {"report"}
    # Derived resources are built from curated ones, and are finished like the others.
    assert "curate" in dag.task_dict["derive"].upstream_task_ids
    assert "curate_derived" in dag.task_dict["deliver_service_network"].upstream_task_ids  # delivered too


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


@pytest.mark.parametrize(
    ("dag_id", "schedule", "mode"),
    [("snapshot_diff", "0 3 * * 0", "snapshot"), ("full_resync", None, "{{ params.mode }}")],
)
def test_entry_dags_run_nightly_sync_with_their_mode(dag_id, schedule, mode):
    """The weekly snapshot and the manual resync are runs of the one pipeline, not copies of it."""
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

    dag = _dagbag(DAGS / f"{dag_id}.py").dags[dag_id]
    (trigger,) = [t for t in dag.tasks if isinstance(t, TriggerDagRunOperator)]
    assert trigger.trigger_dag_id == "nightly_sync"
    assert trigger.conf["mode"] == mode
    assert trigger.wait_for_completion
    assert getattr(dag.timetable, "expression", None) == schedule


def test_full_resync_params_name_only_catalogued_resources():
    from airflow.sdk.definitions.param import ParamValidationError

    from exchange.orchestration import resource_names

    dag = _dagbag(DAGS / "full_resync.py").dags["full_resync"]
    params = dag.params
    params["resources"] = ["permit_0101"]
    params.validate()
    assert "permit_0101" in resource_names()
    with pytest.raises(ParamValidationError):
        params["resources"] = ["permit_9999"]
    with pytest.raises(ParamValidationError):
        params["mode"] = "incremental"


def test_full_resync_names_only_known_receivers_and_forgets_before_the_run():
    from airflow.sdk.definitions.param import ParamValidationError

    dag = _dagbag(DAGS / "full_resync.py").dags["full_resync"]
    params = dag.params
    params["receivers"] = ["bigdata_centre", "province_hazchem"]
    params.validate()
    with pytest.raises(ParamValidationError):
        params["receivers"] = ["city_archive"]
    with pytest.raises(ParamValidationError):
        params["receivers"] = ["bigdata_centre", "bigdata_centre"]
    assert dag.task_dict["forget_deliveries"].downstream_task_ids == {"nightly_sync_resync"}
    assert dag.task_dict["nightly_sync_resync"].conf["receivers"] == "{{ params.receivers }}"


def test_redeliver_has_one_task_per_receiver_a_gateway_receiver_in_its_pool():
    from airflow.sdk.definitions.param import ParamValidationError

    from exchange.orchestration import GATEWAY_RECEIVERS, RECEIVERS

    dag = _dagbag(DAGS / "redeliver.py").dags["redeliver"]
    assert type(dag.timetable).__name__ == "NullTimetable", "redeliver runs only when triggered"
    pools = {t.task_id: t.pool for t in dag.tasks}
    assert pools == {f"resend_to_{r}": (r if r in GATEWAY_RECEIVERS else "default_pool") for r in RECEIVERS}
    params = dag.params
    params["receivers"] = ["service_network"]
    params["resources"] = ["permit_0101"]
    params.validate()
    with pytest.raises(ParamValidationError):
        params["receivers"] = ["nobody"]
    with pytest.raises(ParamValidationError):
        params["resources"] = ["permit_9999"]
