"""The nightly pipeline in one process: what `sdx run` does, and what the DAG does task by task."""

from __future__ import annotations

import logging
from typing import Any

from exchange import state
from exchange.context import RunContext, shanghai_now
from exchange.reconcile import reconcile
from exchange.reconcile_gateway import reconcile_gateways
from exchange.steps.curate import curate_resource
from exchange.steps.deliver import deliver, receivers_of
from exchange.steps.derive import derive_resource
from exchange.steps.extract import extract_source
from exchange.steps.standardize import standardize_resource
from schemas.derived import derivations, inputs_fed
from schemas.manifest import manifests, master_sources

log = logging.getLogger(__name__)


def plan(ctx: RunContext, resources: list[str] | None = None) -> dict[str, list[str]]:
    """Source → the resources of it this run processes (all catalogued resources by default).

    A derived source is named after the one resource it builds.
    """
    wanted = set(resources or ctx.catalog.resources)
    unknown = wanted - set(ctx.catalog.resources)
    if unknown:
        ctx.catalog.resource(sorted(unknown)[0])  # raises, naming the known resources
    out: dict[str, list[str]] = {}
    # The enterprise master first: the other sources resolve old codes by what it has curated.
    masters = master_sources()
    for source, manifest in sorted(manifests().items(), key=lambda pair: pair[0] not in masters):
        mine = [r for r in manifest.resources() if r in wanted]
        if mine:
            out[source] = mine
    # Derived resources come last: they read what the legacy sources above have curated. Unless asked for,
    # one waits until every resource it reads has a source (an input nothing feeds stays empty).
    out |= {
        name: [name]
        for name, derivation in derivations().items()
        if name in wanted and (resources or inputs_fed(derivation))
    }
    return out


def prepare(ctx: RunContext) -> None:
    """Create the curated database's tables and record the run as started."""
    engine = ctx.curated.get_conn()
    state.create_all(engine, ctx.catalog.resources.values())
    state.start_run(engine, ctx.run_id, ctx.mode, ctx.logical_date, shanghai_now())


def run_pipeline(ctx: RunContext, resources: list[str] | None = None) -> dict[str, Any]:
    """Extract, standardize and validate, curate, deliver and reconcile every planned resource; close the run."""
    prepare(ctx)
    status = "failed"
    try:
        planned = plan(ctx, resources)
        for source, names in planned.items():
            if source in derivations():
                derive_resource(ctx, source)
            else:
                extract_source(ctx, source, names)
            for name in names:
                standardize_resource(ctx, name)
                curate_resource(ctx, name)
                for receiver in receivers_of(ctx.catalog, name):
                    deliver(ctx, name, receiver)
        everything = [name for names in planned.values() for name in names]
        reconcile(ctx, everything)
        reconcile_gateways(ctx, everything)
        stats = state.step_stats(ctx.curated.get_conn(), ctx.run_id)
        status = "held" if state.held_resources(stats) else "success"
    finally:
        state.finish_run(ctx.curated.get_conn(), ctx.run_id, status, shanghai_now())
    return stats
