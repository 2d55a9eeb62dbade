"""Redeliver, on demand: send again what a receiver refused or the latest reconciliation found missing.

The chosen records' ledger rows forget their version, then each receiver's ordinary delivery step sends the
curated records again: one task per receiver, a gateway receiver's in its pool. `sdx redeliver` takes the
same options without a scheduler.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, get_current_context, task

from exchange.alerts import RunAlertNotifier
from exchange.dag_params import receivers_param, resources_param
from exchange.orchestration import DEFAULT_ARGS, GATEWAY_RECEIVERS, RECEIVERS, TIMEZONE


@task
def resend(receiver: str) -> dict:
    """Send one receiver again what it refused or its latest reconciliation found missing or different."""
    from exchange import tasks

    return tasks.redeliver(get_current_context(), receiver)


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "on_failure_callback": RunAlertNotifier()},
    tags=["sdx", "manual"],
    params={
        "receivers": receivers_param("empty: every receiver"),
        "resources": resources_param(),
    },
    doc_md=__doc__,
)
def redeliver() -> None:
    """One task per receiver; those not among the run's receivers are skipped."""
    for receiver in RECEIVERS:
        resend.override(
            task_id=f"resend_to_{receiver}", pool=receiver if receiver in GATEWAY_RECEIVERS else None
        )(receiver)


redeliver()
