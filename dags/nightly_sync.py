"""Nightly sync: extract the legacy database, standardize, validate, curate and deliver, every night at 02:00."""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task

from exchange.orchestration import DEFAULT_ARGS, RUN_MODES, TIMEZONE, curated_asset_uris


@dag(
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
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

    @task
    def prepare() -> list[dict]:
        from exchange import tasks

        plan = tasks.prepare(get_current_context())
        return [{"source": s, "resources": r} for s, r in plan.items()]

    @task
    def resources_of(plan: list[dict]) -> list[str]:
        return [name for entry in plan for name in entry["resources"]]

    @task(map_index_template="{{ task.op_kwargs['entry']['source'] }}")
    def extract(entry: dict) -> dict:
        from exchange import tasks

        return tasks.extract(get_current_context(), entry["source"], entry["resources"])

    @task(map_index_template="{{ task.op_kwargs['resource'] }}")
    def standardize(resource: str) -> dict:
        from exchange import tasks

        return tasks.standardize(get_current_context(), resource)

    @task(map_index_template="{{ task.op_kwargs['resource'] }}")
    def curate(resource: str) -> dict:
        from exchange import tasks

        return tasks.curate(get_current_context(), resource)

    @task(map_index_template="{{ task.op_kwargs['resource'] }}")
    def deliver(resource: str) -> dict:
        from exchange import tasks

        return tasks.deliver(get_current_context(), resource)

    @task(trigger_rule="all_done")
    def reconcile(planned: list[str]) -> dict:
        from exchange import tasks

        return tasks.reconcile(get_current_context(), planned)

    # The run's curated resources, as the Assets other DAGs (and the catalogue) name them.
    @task(trigger_rule="all_done", outlets=[Asset(uri) for uri in curated_asset_uris()])
    def finish(planned: list[str]) -> str:
        from exchange import tasks

        return tasks.finish(get_current_context(), planned)

    @task(trigger_rule="all_done")
    def report() -> dict:
        from exchange import tasks

        return tasks.report(get_current_context())

    plan = prepare()
    names = resources_of(plan)
    extracted = extract.expand(entry=plan)
    standardized = standardize.expand(resource=names)
    curated = curate.expand(resource=names)
    delivered = deliver.expand(resource=names)
    extracted >> standardized >> curated >> delivered >> reconcile(names) >> finish(names) >> report()


nightly_sync()
