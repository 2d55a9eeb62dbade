"""Airflow task bodies: turn a task's context into a RunContext and call the step."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

import pendulum

from exchange.context import RunContext
from exchange.orchestration import TIMEZONE

log = logging.getLogger(__name__)


def context_for(airflow_context: Mapping[str, Any]) -> RunContext:
    """The RunContext of the Airflow run a task belongs to."""
    dag_run = airflow_context["dag_run"]
    when = airflow_context.get("logical_date") or dag_run.run_after
    logical = pendulum.instance(when).in_timezone(TIMEZONE).date()
    params = airflow_context.get("params") or {}
    return RunContext(
        run_id=dag_run.run_id,
        logical_date=dt.date(logical.year, logical.month, logical.day),
        mode=params.get("mode", "incremental"),
        since=_timestamp(params.get("since")),
        until=_timestamp(params.get("until")),
    )


def _timestamp(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def prepare(airflow_context: Mapping[str, Any]) -> dict[str, list[str]]:
    """Create tables, record the run, and return source → resources for the mapped tasks."""
    from exchange.pipeline import plan
    from exchange.pipeline import prepare as prepare_run

    ctx = context_for(airflow_context)
    prepare_run(ctx)
    params = airflow_context.get("params") or {}
    return plan(ctx, params.get("resources") or None)


def extract(airflow_context: Mapping[str, Any], source: str, resources: list[str]) -> dict[str, Any]:
    """Extract one source."""
    from exchange.steps.extract import extract_source

    return extract_source(context_for(airflow_context), source, resources)


def plan_entries(airflow_context: Mapping[str, Any]) -> dict[str, list[Any]]:
    """`prepare`, as the mapped tasks take it: legacy sources, their resources, derived resources, all.

    The master sources (`master_sources`, `master_resources`: the enterprise master) are apart from the
    other legacy sources, whose records resolve old codes by what the master has curated.
    """
    from catalog import default_catalog
    from exchange.orchestration import RECEIVERS
    from schemas.derived import derivations
    from schemas.manifest import master_sources

    plan = prepare(airflow_context)
    entries = [{"source": s, "resources": r} for s, r in plan.items() if s not in derivations()]
    masters = [e for e in entries if e["source"] in master_sources()]
    sources = [e for e in entries if e not in masters]
    derived = [name for s, names in plan.items() if s in derivations() for name in names]
    master_resources = [name for entry in masters for name in entry["resources"]]
    resources = [name for entry in sources for name in entry["resources"]]
    planned = master_resources + resources + derived
    catalog = default_catalog()
    deliveries = {f"to_{r}": [n for n in planned if r in catalog.resource(n).receivers] for r in RECEIVERS}
    return {"master_sources": masters, "master_resources": master_resources, "sources": sources,
            "resources": resources, "derived": derived, "planned": planned, **deliveries}  # fmt: skip


def derive(airflow_context: Mapping[str, Any], resource: str) -> dict[str, Any]:
    """Build one derived resource's changed records from the curated resources it reads."""
    from exchange.steps.derive import derive_resource

    return derive_resource(context_for(airflow_context), resource)


def standardize(airflow_context: Mapping[str, Any], resource: str) -> dict[str, Any]:
    """Standardize and validate one resource."""
    from exchange.steps.standardize import standardize_resource

    stats = standardize_resource(context_for(airflow_context), resource)
    return {k: v for k, v in stats.items() if k != "gx"} | {"gx_success": stats["gx"]["success"]}


def curate(airflow_context: Mapping[str, Any], resource: str) -> dict[str, Any]:
    """Load one resource into the curated database."""
    from exchange.steps.curate import curate_resource

    return curate_resource(context_for(airflow_context), resource)


def deliver(airflow_context: Mapping[str, Any], resource: str, receiver: str) -> dict[str, Any]:
    """Deliver one resource to one receiver (skipped, with the reason, when its connection is missing)."""
    from exchange.steps.deliver import deliver as deliver_step

    return deliver_step(context_for(airflow_context), resource, receiver)


def reconcile(airflow_context: Mapping[str, Any], planned: list[str]) -> dict[str, Any]:
    """Reconcile every receiver with the ledger (and the curated database); fail on any difference.

    Gateway receivers whose connection is not configured are left out (their deliveries were skipped).
    """
    from exchange.reconcile import format_reconciliation
    from exchange.reconcile import reconcile as reconcile_centre
    from exchange.reconcile_gateway import format_gateway_reconciliation, reconcile_gateways

    ctx = context_for(airflow_context)
    results = reconcile_centre(ctx, planned)
    gateway = reconcile_gateways(ctx, planned)
    log.info("%s", format_reconciliation(results))
    if gateway:
        log.info("%s", format_gateway_reconciliation(gateway))
    differing = {f"bigdata_centre/{r.resource}": r.differences for r in results if r.differences}
    differing |= {f"{r.receiver}/{r.resource}": r.differences for r in gateway if r.differences}
    if differing:
        # Failing here is the alert; finish and the report still run and show the differing records. The
        # gateway records found missing are already marked in the ledger: the next delivery resends them.
        raise RuntimeError(f"reconciliation found differences: {differing}")
    return {r.resource: {"centre": r.receiver_live, "refused": r.refused} for r in results} | {
        f"{r.receiver}/{r.resource}": {"holds": r.receiver_live, "refused": r.refused} for r in gateway
    }


def finish(airflow_context: Mapping[str, Any], planned: list[str]) -> str:
    """Close the run and return its summary table; fail when a planned resource did not finish."""
    from exchange import state
    from exchange.context import shanghai_now
    from exchange.reconcile import load_reconciliation
    from exchange.reconcile_gateway import load_gateway_reconciliation
    from exchange.summary import format_summary

    ctx = context_for(airflow_context)
    engine = ctx.curated.get_conn()
    stats = state.step_stats(engine, ctx.run_id)
    unfinished = sorted(r for r in planned if "curate" not in stats.get(r, {}))
    held = state.held_resources(stats)
    status = "failed" if unfinished else "held" if held else "success"
    state.finish_run(engine, ctx.run_id, status, shanghai_now())
    text = format_summary(
        ctx.run_id,
        stats,
        load_reconciliation(engine, ctx.run_id),
        load_gateway_reconciliation(engine, ctx.run_id),
    )
    log.info("run summary\n%s", text)
    if unfinished:
        raise RuntimeError(f"run {ctx.run_id} did not finish: {', '.join(unfinished)}")
    if held:
        # Failing here is the alert: the run's failure notifications go out, the other resources went through.
        reasons = "; ".join(f"{r}: {', '.join(why)}" for r, why in held.items())
        raise RuntimeError(f"run {ctx.run_id}: the quality gate held back {reasons}")
    return text


def report(airflow_context: Mapping[str, Any]) -> dict[str, Any]:
    """Write the run's quality report and rectification workbook; their paths go to XCom."""
    from exchange.steps.report import report_run

    return report_run(context_for(airflow_context))


def redeliver(airflow_context: Mapping[str, Any], receiver: str) -> dict[str, Any]:
    """Send one receiver again what it refused or reconciliation found missing; skipped when not asked for."""
    from airflow.sdk.exceptions import AirflowSkipException

    from exchange.redeliver import redeliver_to

    params = airflow_context.get("params") or {}
    if params.get("receivers") and receiver not in params["receivers"]:
        raise AirflowSkipException(f"{receiver} is not among this run's receivers")
    return redeliver_to(context_for(airflow_context), receiver, params.get("resources") or None)


def forget_deliveries(airflow_context: Mapping[str, Any]) -> dict[str, int]:
    """Before a full resync: every record of its resources goes again to its receivers (none by default)."""
    from exchange.redeliver import forget_deliveries as forget

    params = airflow_context.get("params") or {}
    receivers = params.get("receivers") or []
    return (
        forget(context_for(airflow_context), receivers, params.get("resources") or None) if receivers else {}
    )
