"""The nightly pipeline in one process: what `sdx run` does, and what the DAG does task by task."""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import sys
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from exchange import settings, state
from exchange.context import RunContext, shanghai_now
from exchange.orchestration import GATEWAY_RECEIVERS
from exchange.reconcile import reconcile
from exchange.reconcile_gateway import reconcile_gateway
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
        self.pending: list[Future[Any]] = []

    def deliver(self, resource: str, receiver: str) -> None:
        if not self.background or receiver not in GATEWAY_RECEIVERS:
            deliver(self.ctx, resource, receiver)
            return
        if receiver not in self.lanes:
            self.lanes[receiver] = ThreadPoolExecutor(1, thread_name_prefix=f"deliver-{receiver}")
        self.pending.append(self.lanes[receiver].submit(deliver, self.ctx, resource, receiver))

    def reconcile(self, resources: list[str]) -> None:
        """Reconcile each gateway receiver at the end of its lane: one done early overlaps the others' pushes."""
        for receiver in GATEWAY_RECEIVERS:
            if receiver in self.lanes:
                self.pending.append(
                    self.lanes[receiver].submit(reconcile_gateway, self.ctx, receiver, resources)
                )
            else:
                reconcile_gateway(self.ctx, receiver, resources)

    def __enter__(self) -> _GatewayLanes:
        return self

    def __exit__(self, *failed: object) -> None:
        # Every lane finishes before the run goes on (reconciliation) or ends; a lane's error is the run's.
        for lane in self.lanes.values():
            lane.shutdown(wait=True)
        if failed[0] is None:
            for future in self.pending:
                future.result()


def _source(ctx: RunContext, source: str, names: list[str], lanes: _GatewayLanes | None) -> list[str]:
    """Extract (or derive), standardize, curate and deliver one source's resources; the resources done.

    Without `lanes` (in a worker process) the gateway deliveries are left to the caller's lanes.
    """
    if source in derivations():
        derive_resource(ctx, source)
    else:
        extract_source(ctx, source, names)
    for name in names:
        standardize_resource(ctx, name)
        curate_resource(ctx, name)
        for receiver in receivers_of(ctx.catalog, name):
            if lanes is not None:
                lanes.deliver(name, receiver)
            elif receiver not in GATEWAY_RECEIVERS:
                deliver(ctx, name, receiver)
    return names


def _source_in_worker(
    run: tuple[str, dt.date, str, dt.datetime | None, dt.datetime | None], source: str, names: list[str]
) -> list[str]:
    # A worker process builds its own context (hooks, engines) from the run's facts.
    run_id, logical_date, mode, since, until = run
    ctx = RunContext(run_id=run_id, logical_date=logical_date, mode=mode, since=since, until=until)
    return _source(ctx, source, names, None)


def _worker_logging(root_level: int, exchange_level: int) -> None:
    # A spawned process starts without the command's logging set-up: the same levels, its pid in each line.
    logging.basicConfig(
        level=root_level, format=f"%(asctime)s [worker {os.getpid()}] %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("exchange").setLevel(exchange_level)


def _waves(planned: dict[str, list[str]]) -> list[list[str]]:
    """Sources in waves, each wave's sources independent of one another.

    The enterprise master first (the others resolve old codes by what it curated), then the other legacy
    sources, then the derived sources, each in the first wave after every derived source it reads.
    """
    masters = [s for s in planned if s in master_sources()]
    legacy = [s for s in planned if s not in masters and s not in derivations()]
    depth: dict[str, int] = {}
    for source in (s for s in derivations() if s in planned):  # in the plan's order: inputs first
        inputs = derivations()[source].input_names()
        depth[source] = 1 + max((depth.get(i, -1) for i in inputs if i in derivations()), default=-1)
    derived = [
        [s for s in depth if depth[s] == level] for level in range(max(depth.values(), default=-1) + 1)
    ]
    return [wave for wave in (masters, legacy, *derived) if wave]


def _run_sources(ctx: RunContext, planned: dict[str, list[str]], lanes: _GatewayLanes) -> None:
    """Every planned source; on a server database the sources of a wave in worker processes at once.

    Python runs one step at a time per process, and a nightly run is mostly Python: independent sources
    in parallel use the machine's other cores (the Airflow DAG gets the same from its parallel tasks).
    The gateway deliveries stay on this process's lanes, fed as each source finishes.
    """
    workers = 1 if not lanes.background else min(settings.workers(), max(len(planned), 1))
    if workers == 1:
        for source, names in planned.items():
            _source(ctx, source, names, lanes)
        return
    run = (ctx.run_id, ctx.logical_date, ctx.mode, ctx.since, ctx.until)
    levels = (logging.getLogger().getEffectiveLevel(), logging.getLogger("exchange").getEffectiveLevel())
    # Spawned, not forked: this process already has threads (the lanes) and open connections. A spawned
    # worker imports our packages by name before anything of ours runs in it, with this process's path:
    # the folder they come from goes first, so a same-named folder elsewhere on the path (the test tree
    # mirrors the packages) cannot shadow them.
    packages = str(Path(__file__).resolve().parents[1])
    if sys.path[:1] != [packages]:
        sys.path.insert(0, packages)
    with ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_logging,
        initargs=levels,
    ) as pool:
        for wave in _waves(planned):
            running = {pool.submit(_source_in_worker, run, source, planned[source]) for source in wave}
            for done in as_completed(running):
                for name in done.result():
                    for receiver in receivers_of(ctx.catalog, name):
                        if receiver in GATEWAY_RECEIVERS:
                            lanes.deliver(name, receiver)


def run_pipeline(ctx: RunContext, resources: list[str] | None = None) -> dict[str, Any]:
    """Extract, standardize and validate, curate, deliver and reconcile every planned resource; close the run."""
    prepare(ctx)
    status = "failed"
    try:
        planned = plan(ctx, resources)
        everything = [name for names in planned.values() for name in names]
        with _GatewayLanes(ctx) as lanes:
            _run_sources(ctx, planned, lanes)
            lanes.reconcile(everything)
            reconcile(ctx, everything)  # the centre's deliveries are done: while the lanes still push
        stats = state.step_stats(ctx.curated.get_conn(), ctx.run_id)
        status = "held" if state.held_resources(stats) else "success"
    finally:
        state.finish_run(ctx.curated.get_conn(), ctx.run_id, status, shanghai_now())
    return stats
