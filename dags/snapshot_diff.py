"""Weekly snapshot diff: nightly_sync in snapshot mode, for what has no reliable timestamp.

Every legacy row is read and hashed; only rows whose content hash changed go on, and rows that vanished
become deletes. This catches T_XK_KZ attribute edits, hard deletes and rows whose GXSJ is NULL.
"""

from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import dag

from exchange.alerts import RunAlertNotifier
from exchange.orchestration import DEFAULT_ARGS, TIMEZONE


@dag(
    schedule="0 3 * * 0",  # Sundays 03:00, after that night's incremental run
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "on_failure_callback": RunAlertNotifier()},
    tags=["sdx", "weekly"],
    doc_md=__doc__,
)
def snapshot_diff() -> None:
    """One run of nightly_sync with `mode: snapshot`, waited for in the triggerer."""
    TriggerDagRunOperator(
        task_id="nightly_sync_snapshot",
        trigger_dag_id="nightly_sync",
        trigger_run_id="snapshot__{{ ts_nodash }}",
        logical_date="{{ logical_date }}",
        conf={"mode": "snapshot"},
        wait_for_completion=True,
        deferrable=True,
        poke_interval=60,
        skip_when_already_exists=True,
    )


snapshot_diff()
