"""full_resync through Airflow's own `dag.test()`: its forget step, then the nightly_sync run it triggers."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest
import sqlalchemy as sa
from change_scenario import exchange_versions, new_versions

from exchange.settings import DEADLINE_ALERTS_ENV

pytestmark = pytest.mark.airflow

DAGS = Path(__file__).resolve().parents[2] / "dags"
RESOURCES = ["permit_0101"]


def _lose_one_row(exchange_url: str) -> str:
    # The centre restored its exchange database from an old backup: one row is gone, the ledger does not know.
    engine = sa.create_engine(exchange_url)
    with engine.begin() as conn:
        lost = conn.execute(sa.text("SELECT MIN(hj_jlid) FROM ex_xk_0101")).scalar_one()
        conn.execute(sa.text("DELETE FROM ex_xk_0101 WHERE hj_jlid = :r"), {"r": lost})
    engine.dispose()
    return lost


@pytest.fixture
def scheduler_stand_in(monkeypatch):
    """`dag.test()` runs no scheduler: the nightly_sync run a trigger waits for is run here, then awaited.

    Yields the conf of every run triggered.
    """
    import airflow.sdk.definitions.dag as dag_module
    from airflow import settings
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.dagrun import DagRun

    monkeypatch.setenv(DEADLINE_ALERTS_ENV, "off")  # `dag.test()` cannot run Deadline Alerts (settings.py)
    wait_inline = dag_module._run_inline_trigger
    triggered: list[dict] = []

    def run_then_wait(trigger, ti):
        nightly = DagBag(dag_folder=str(DAGS / "nightly_sync.py")).dags["nightly_sync"]
        session = settings.Session()
        runs = session.scalars(
            sa.select(DagRun).where(DagRun.dag_id == trigger.dag_id, DagRun.run_id.in_(trigger.run_ids))
        ).all()
        for run in runs:
            triggered.append(dict(run.conf))
            done = nightly.test(logical_date=None, run_conf=dict(run.conf))
            session.execute(sa.update(DagRun).where(DagRun.id == run.id).values(state=done.state))
        session.commit()
        return wait_inline(trigger, ti)

    monkeypatch.setattr(dag_module, "_run_inline_trigger", run_then_wait)
    return triggered


def test_full_resync_rereads_everything_and_resends_all_to_its_receivers(
    airflow_db, run_databases, scheduler_stand_in, request
):
    from airflow.dag_processing.dagbag import DagBag

    urls = run_databases
    bag = DagBag(dag_folder=str(DAGS))
    night = bag.dags["nightly_sync"].test(
        logical_date=pendulum.datetime(2026, 11, 28, 2, tz="Asia/Shanghai"), run_conf={"resources": RESOURCES}
    )
    assert night.state == "success"
    lost = _lose_one_row(urls["exchange"])
    before = exchange_versions(urls["exchange"], "ex_xk_0101")

    conf = {"mode": "full", "resources": RESOURCES, "receivers": ["bigdata_centre"]}
    # Each database variant its own day: Airflow's metadata database is the test session's, and the trigger
    # skips a nightly_sync run id (resync__<ts>) that already exists, as a rerun of the task must.
    day = {"sqlite": 29, "servers": 30}[request.node.callspec.params["run_databases"]]
    resync = bag.dags["full_resync"].test(
        logical_date=pendulum.datetime(2026, 11, day, 10, tz="Asia/Shanghai"), run_conf=conf
    )

    assert resync.state == "success"
    states = {ti.task_id: ti.state for ti in resync.get_task_instances()}
    assert states == {"forget_deliveries": "success", "nightly_sync_resync": "success"}
    # The params reach nightly_sync as values (a list stays a list), and the run read every row.
    assert scheduler_stand_in == [conf | {"since": None, "until": None}]
    # Every record went to the centre again: it took back the one it lost and skipped those it holds.
    assert new_versions(before, exchange_versions(urls["exchange"], "ex_xk_0101")) == {lost: "I"}
