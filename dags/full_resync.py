"""Full resync, on demand: nightly_sync over every row (mode full) or a GXSJ range (mode backfill).

For after a change of rules or code lists (full), or when a district re-entered a past period (backfill);
only records whose digest changed are delivered again, except to the `receivers` named: they are sent every
record of the resources again (a receiver that lost its data or was rebuilt). `sdx resync` takes the same
options. Airflow backfills of nightly_sync work too (docs/operations.md, Backfills and reruns).
"""

from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Param, dag, get_current_context, task

from exchange.alerts import RunAlertNotifier
from exchange.dag_params import receivers_param, resources_param
from exchange.orchestration import DEFAULT_ARGS, TIMEZONE


@task
def forget_deliveries() -> dict:
    """Make the run send every record of its resources again to its receivers (none named: nothing)."""
    from exchange import tasks

    return tasks.forget_deliveries(get_current_context())


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "on_failure_callback": RunAlertNotifier()},
    tags=["sdx", "manual"],
    params={
        "mode": Param(
            "full", enum=["full", "backfill"], description="full: every row; backfill: a GXSJ range"
        ),
        "resources": resources_param(),
        "receivers": receivers_param("send them every record of the resources again (empty: only changes)"),
        "since": Param(
            None, type=["null", "string"], format="date-time", description="backfill: from this GXSJ"
        ),
        "until": Param(
            None, type=["null", "string"], format="date-time", description="backfill: to this GXSJ"
        ),
    },
    # The params reach nightly_sync as they are (a list stays a list), not as their text.
    render_template_as_native_obj=True,
    doc_md=__doc__,
)
def full_resync() -> None:
    """One run of nightly_sync with this run's params, waited for in the triggerer."""
    forget_deliveries() >> TriggerDagRunOperator(
        task_id="nightly_sync_resync",
        trigger_dag_id="nightly_sync",
        trigger_run_id="resync__{{ ts_nodash }}",
        logical_date="{{ logical_date }}",
        conf={
            "mode": "{{ params.mode }}",
            "resources": "{{ params.resources }}",
            "receivers": "{{ params.receivers }}",
            "since": "{{ params.since }}",
            "until": "{{ params.until }}",
        },
        wait_for_completion=True,
        deferrable=True,
        poke_interval=60,
        skip_when_already_exists=True,
    )


full_resync()
