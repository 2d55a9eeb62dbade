"""A whole nightly_sync run through Airflow's own `dag.test()`, on SQLite files."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest
import sqlalchemy as sa
from gateway_delivery import assert_held_exactly, gateway_connections, stand_in, stored_answers

from exchange.settings import DEADLINE_ALERTS_ENV
from sandbox.legacy import generate_legacy

pytestmark = pytest.mark.airflow

DAGS = Path(__file__).resolve().parents[2] / "dags"


def test_nightly_sync_runs_end_to_end(airflow_db, run_databases, tmp_path, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv(DEADLINE_ALERTS_ENV, "off")  # `dag.test()` cannot run Deadline Alerts (settings.py)
    urls = run_databases
    store = tmp_path / "gateway.db"
    dag = DagBag(dag_folder=str(DAGS / "nightly_sync.py")).dags["nightly_sync"]
    with stand_in(store) as gateway:
        for key, value in gateway_connections(gateway.url).items():
            monkeypatch.setenv(key, value)
        dag_run = dag.test(logical_date=pendulum.datetime(2026, 11, 29, 2, tz="Asia/Shanghai"))
        assert dag_run.state == "success"
        # The three gateway receivers hold every curated record of theirs, once, at its latest seq.
        assert_held_exactly(store, urls["curated"])
        answers = stored_answers(store)
        again = _second_night(dag, urls["exchange"])
        assert stored_answers(store) == answers, "nothing new is pushed to the gateway either"
    assert again.state == "success"

    curated = sa.create_engine(urls["curated"])
    exchange = sa.create_engine(urls["exchange"])
    with curated.connect() as conn:
        live = conn.execute(
            sa.text("SELECT COUNT(*) FROM cur_permit_0101 WHERE sdx_deleted = :no"), {"no": False}
        ).scalar_one()
        status = conn.execute(
            sa.text("SELECT status FROM sdx_run WHERE run_id = :r"), {"r": dag_run.run_id}
        ).scalar_one()
    with exchange.connect() as conn:
        delivered = conn.execute(sa.text("SELECT COUNT(*) FROM ex_xk_0101 WHERE hj_czlx <> 'D'")).scalar_one()
    curated.dispose()
    exchange.dispose()
    assert live > 0 and delivered == live
    assert status == "success"


def _second_night(dag, exchange_url: str):
    """The next night: an incremental run over the same data succeeds and writes nothing new."""
    exchange = sa.create_engine(exchange_url)
    with exchange.connect() as conn:
        pushes = conn.execute(sa.text("SELECT COUNT(*) FROM ex_tsrz")).scalar_one()
    again = dag.test(logical_date=pendulum.datetime(2026, 11, 30, 2, tz="Asia/Shanghai"))
    with exchange.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM ex_tsrz")).scalar_one() == pushes
    exchange.dispose()
    return again


def test_nightly_sync_without_the_master_planned_still_runs_the_others(
    airflow_db, tmp_path, use_connections, monkeypatch
):
    # The master's mapped tasks are skipped when it is not asked for: the others must not be skipped too.
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv(DEADLINE_ALERTS_ENV, "off")
    urls = {name: f"sqlite:///{tmp_path / name}.db" for name in ("legacy", "curated", "exchange")}
    generate_legacy(urls["legacy"], scale=0.02, seed=3)
    use_connections(
        legacy_supervision=urls["legacy"], curated=urls["curated"], bigdata_centre=urls["exchange"]
    )
    dag = DagBag(dag_folder=str(DAGS / "nightly_sync.py")).dags["nightly_sync"]
    dag_run = dag.test(
        logical_date=pendulum.datetime(2026, 11, 29, 2, tz="Asia/Shanghai"),
        run_conf={"resources": ["permit_0101"]},
    )
    assert dag_run.state == "success"
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states["curate_master"] == "skipped" and states["curate"] == "success"
    curated = sa.create_engine(urls["curated"])
    with curated.connect() as conn:
        live = conn.execute(
            sa.text("SELECT COUNT(*) FROM cur_permit_0101 WHERE sdx_deleted = 0")
        ).scalar_one()
    curated.dispose()
    assert live > 0
