"""The nightly pipeline in one process: what `sdx run` does, and what the DAG does task by task."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from exchange import state
from exchange.context import RunContext, shanghai_now
from exchange.orchestration import GATEWAY_RECEIVERS
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


class _GatewayLanes:
    """Gateway deliveries in the background, one lane (thread) per gateway receiver, in plan order.

    A gateway delivery is bound by the receiver's granted request rate, not by this machine: while a lane
    waits on its receiver, the next resources are extracted, curated and written to the exchange database.
    On SQLite, whose one writer at a time would make the lanes and the main line wait on each other's
    transactions, every delivery runs inline as before.
    """

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.background = ctx.curated.get_conn().dialect.name != "sqlite"
        self.lanes: dict[str, ThreadPoolExecutor] = {}
        self.pending: list[Future[dict[str, Any]]] = []

    def deliver(self, resource: str, receiver: str) -> None:
        if not self.background or receiver not in GATEWAY_RECEIVERS:
            deliver(self.ctx, resource, receiver)
            return
        if receiver not in self.lanes:
            self.lanes[receiver] = ThreadPoolExecutor(1, thread_name_prefix=f"deliver-{receiver}")
        self.pending.append(self.lanes[receiver].submit(deliver, self.ctx, resource, receiver))

    def __enter__(self) -> _GatewayLanes:
        return self

    def __exit__(self, *failed: object) -> None:
        # Every lane finishes before the run goes on (reconciliation) or ends; a lane's error is the run's.
        for lane in self.lanes.values():
            lane.shutdown(wait=True)
        if failed[0] is None:
            for future in self.pending:
                future.result()


def run_pipeline(ctx: RunContext, resources: list[str] | None = None) -> dict[str, Any]:
    """Extract, standardize and validate, curate, deliver and reconcile every planned resource; close the run."""
    prepare(ctx)
    status = "failed"
    try:
        planned = plan(ctx, resources)
        with _GatewayLanes(ctx) as lanes:
            for source, names in planned.items():
                if source in derivations():
                    derive_resource(ctx, source)
                else:
                    extract_source(ctx, source, names)
                for name in names:
                    standardize_resource(ctx, name)
                    curate_resource(ctx, name)
                    for receiver in receivers_of(ctx.catalog, name):
                        lanes.deliver(name, receiver)
        everything = [name for names in planned.values() for name in names]
        reconcile(ctx, everything)
        reconcile_gateways(ctx, everything)
        stats = state.step_stats(ctx.curated.get_conn(), ctx.run_id)
        status = "held" if state.held_resources(stats) else "success"
    finally:
        state.finish_run(ctx.curated.get_conn(), ctx.run_id, status, shanghai_now())
    return stats
