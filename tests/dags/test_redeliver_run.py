"""The redeliver DAG and `sdx redeliver` do the same work: one function, the same options."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest

from exchange.cli import main
from exchange.orchestration import GATEWAY_RECEIVERS

pytestmark = pytest.mark.airflow

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture
def calls(monkeypatch) -> list[tuple[str, list[str] | None]]:
    """Every call of the shared function, as (receiver, resources); it sends nothing here."""
    import exchange.redeliver

    made: list[tuple[str, list[str] | None]] = []

    def record(ctx, receiver, resources=None):
        made.append((receiver, list(resources) if resources else None))
        return {}

    monkeypatch.setattr(exchange.redeliver, "redeliver_to", record)
    return made


@pytest.fixture
def receiver_pools(airflow_db):
    """The gateway receivers' pools, as docs/operations.md has them set (`airflow pools set`)."""
    from airflow.models.pool import Pool

    for receiver in GATEWAY_RECEIVERS:
        Pool.create_or_update_pool(receiver, slots=1, description=receiver, include_deferred=False)


def test_dag_and_command_line_redeliver_through_the_same_function(receiver_pools, calls, use_connections):
    from airflow.dag_processing.dagbag import DagBag

    options = {"receivers": ["province_hazchem", "bigdata_centre"], "resources": ["hazchem_enterprises"]}
    assert (
        main(["-q", "redeliver", "--receivers", *options["receivers"], "--resources", *options["resources"]])
        == 0
    )
    from_command_line = sorted(calls)
    calls.clear()

    dag = DagBag(dag_folder=str(DAGS / "redeliver.py")).dags["redeliver"]
    run = dag.test(logical_date=pendulum.datetime(2026, 11, 29, 9, tz="Asia/Shanghai"), run_conf=options)

    assert run.state == "success"
    assert (
        sorted(calls)
        == from_command_line
        == [
            ("bigdata_centre", ["hazchem_enterprises"]),
            ("province_hazchem", ["hazchem_enterprises"]),
        ]
    )
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == {
        "resend_to_bigdata_centre": "success",
        "resend_to_province_hazchem": "success",
        "resend_to_service_network": "skipped",
        "resend_to_province_supervision": "skipped",
    }
