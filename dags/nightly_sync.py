"""Nightly sync: extract the legacy database, standardize, validate, curate and deliver, every night at 02:00."""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task

from exchange.alerts import RunAlertNotifier, nightly_deadline
from exchange.orchestration import (
    DEFAULT_ARGS,
    GATEWAY_RECEIVERS,
    RECEIVERS,
    RUN_MODES,
    TIMEZONE,
    curated_asset_uris,
)


# Each task hands its work to exchange.tasks; the DAG below only wires them together.
# Legacy sources with their resources, the resources derived from curated ones, and every one planned.
@task
def prepare() -> dict[str, list]:
    """Record the run as started and plan it: legacy sources, their resources, derived resources."""
    from exchange import tasks

    return tasks.plan_entries(get_current_context())


@task
def resources_of(plan: dict[str, list], part: str = "resources") -> list:
    """One part of the plan, for the tasks mapped over it."""
    return plan[part]


@task(map_index_template="{{ task.op_kwargs['entry']['source'] }}")
def extract(entry: dict) -> dict:
    """Read one legacy source's changed rows into the run's staging."""
    from exchange import tasks

    return tasks.extract(get_current_context(), entry["source"], entry["resources"])


# Runs once the run's resources are curated, also when one of them failed or was held back.
@task(trigger_rule="all_done", map_index_template="{{ task.op_kwargs['resource'] }}")
def derive(resource: str) -> dict:
    """Build one derived resource's changed records from the curated resources it reads."""
    from exchange import tasks

    return tasks.derive(get_current_context(), resource)


@task(map_index_template="{{ task.op_kwargs['resource'] }}")
def standardize(resource: str) -> dict:
    """Standardize and validate one resource; quarantine what fails."""
    from exchange import tasks

    return tasks.standardize(get_current_context(), resource)


@task(map_index_template="{{ task.op_kwargs['resource'] }}")
def curate(resource: str) -> dict:
    """Load one resource into the curated database and move its watermark."""
    from exchange import tasks

    return tasks.curate(get_current_context(), resource)


# Runs once every planned resource is curated, also when one of them failed or was held back.
@task(trigger_rule="all_done", map_index_template="{{ task.op_kwargs['resource'] }}")
def deliver(resource: str, receiver: str) -> dict:
    """Deliver one resource's new versions to one receiver."""
    from exchange import tasks

    return tasks.deliver(get_current_context(), resource, receiver)


@task(trigger_rule="all_done")
def reconcile(planned: list[str]) -> dict:
    """Compare the centre's tables with the ledger and the curated database."""
    from exchange import tasks

    return tasks.reconcile(get_current_context(), planned)


# The run's curated resources, as the Assets other DAGs (and the catalogue) name them.
@task(trigger_rule="all_done", outlets=[Asset(uri) for uri in curated_asset_uris()])
def finish(planned: list[str]) -> str:
    """Close the run; fail if a resource was held back or did not finish."""
    from exchange import tasks

    return tasks.finish(get_current_context(), planned)


@task(trigger_rule="all_done")
def report() -> dict:
    """Write the run's quality report and rectification workbook."""
    from exchange import tasks

    return tasks.report(get_current_context())


@dag(
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    # A task that fails for good, and a run not done by 06:00, alert the people on duty.
    default_args={**DEFAULT_ARGS, "on_failure_callback": RunAlertNotifier()},
    deadline=nightly_deadline(),
    tags=["sdx", "nightly"],
    params={
        "mode": Param("incremental", enum=list(RUN_MODES)),
        "resources": Param([], type="array", items={"type": "string"}),
        "since": Param(
            None, type=["null", "string"], format="date-time", description="backfill: from this GXSJ"
        ),
        "until": Param(
            None, type=["null", "string"], format="date-time", description="backfill: to this GXSJ"
        ),
    },
    doc_md=__doc__,
)
def nightly_sync() -> None:
    """Extract → standardize and validate → curate → deliver → reconcile, mapped per source or resource."""
    plan = prepare()
    names = resources_of(plan)
    derived = resources_of.override(task_id="derived_resources")(plan, "derived")
    # The enterprise master is curated first: the other sources resolve old codes by its merged rows.
    # Their standardize runs also when no master was planned (its mapped tasks are then skipped).
    masters = resources_of.override(task_id="master_resources")(plan, "master_resources")
    master_curated = curate.override(task_id="curate_master").expand(resource=masters)
    (
        extract.override(task_id="extract_master").expand(
            entry=resources_of.override(task_id="master_sources")(plan, "master_sources")
        )
        >> standardize.override(task_id="standardize_master").expand(resource=masters)
        >> master_curated
    )
    extracted = extract.expand(entry=resources_of.override(task_id="sources")(plan, "sources"))
    standardized = standardize.override(trigger_rule="none_failed").expand(resource=names)
    master_curated >> standardized
    curated = curate.expand(resource=names)
    # Derived resources are built from curated ones, then checked and curated like every other.
    built = derive.expand(resource=derived)
    built_standardized = standardize.override(task_id="standardize_derived").expand(resource=derived)
    built_curated = curate.override(task_id="curate_derived").expand(resource=derived)
    planned = resources_of.override(task_id="planned")(plan, "planned")
    extracted >> standardized >> curated
    curated >> built >> built_standardized >> built_curated
    # One mapped task per receiver over the planned resources shared with it. A gateway receiver's run in the
    # pool of its name (docs/operations.md, Pools), so that all workers together keep to its granted rate.
    delivered = [
        deliver.override(
            task_id=f"deliver_{receiver}", **({"pool": receiver} if receiver in GATEWAY_RECEIVERS else {})
        )
        .partial(receiver=receiver)
        .expand(resource=resources_of.override(task_id=f"to_{receiver}")(plan, f"to_{receiver}"))
        for receiver in RECEIVERS
    ]
    for deliveries in delivered:
        [master_curated, curated, built_curated] >> deliveries
    delivered >> reconcile(planned) >> finish(planned) >> report()


nightly_sync()
