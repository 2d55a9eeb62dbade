"""The nightly pipeline in one process: what `sdx run` does, and what the DAG does task by task."""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import logging
import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from catalog import CatalogError
from exchange import settings, state
from exchange.context import RunContext, shanghai_now
from exchange.feedback import RECEIVER
from exchange.orchestration import GATEWAY_RECEIVERS
from exchange.reconcile import TableReconciliation, compare, reconcile, record_reconciliation
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

    def deliver_curated(self, resource: str) -> None:
        """Deliver a resource just curated to each gateway receiver it is shared with."""
        for receiver in receivers_of(self.ctx.catalog, resource):
            if receiver in GATEWAY_RECEIVERS:
                self.deliver(resource, receiver)

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


def _source(ctx: RunContext, source: str, names: list[str], lanes: _GatewayLanes) -> None:
    """Extract (or derive), standardize, curate and deliver one source's resources, in this process."""
    _read(ctx, source, names)
    for name in names:
        _resource(ctx, name)
        lanes.deliver_curated(name)


def _read(ctx: RunContext, source: str, names: list[str]) -> None:
    if source in derivations():
        derive_resource(ctx, source)
    else:
        extract_source(ctx, source, names)


def _resource(ctx: RunContext, name: str) -> None:
    # Standardize, curate and deliver to the exchange database; the gateway deliveries are the caller's.
    standardize_resource(ctx, name)
    curate_resource(ctx, name)
    for receiver in receivers_of(ctx.catalog, name):
        if receiver not in GATEWAY_RECEIVERS:
            deliver(ctx, name, receiver)


_RunFacts = tuple[str, dt.date, str, dt.datetime | None, dt.datetime | None]


def _context(run: _RunFacts) -> RunContext:
    # A worker process builds its own context (hooks, engines) from the run's facts.
    run_id, logical_date, mode, since, until = run
    return RunContext(run_id=run_id, logical_date=logical_date, mode=mode, since=since, until=until)


def _in_worker(run: _RunFacts, step: str, source: str, names: list[str]) -> None:
    ctx = _context(run)
    try:
        if step == _Schedule.READ:
            _read(ctx, source, names)
        else:
            _resource(ctx, names[0])
    finally:
        _release_memory()


def _release_memory() -> None:
    """Give the memory a finished step freed back to the system, so an idle worker does not hold its peak.

    glibc keeps freed blocks of its heap for reuse (a worker that curated a million records kept 2 GiB
    while idle); `malloc_trim` returns them. Python has no binding for it: called through ctypes, and
    skipped where the C library is not glibc.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _worker_start(root_level: int, exchange_level: int) -> None:
    # A spawned process starts without the command's logging set-up: the same levels, its pid in each line.
    logging.basicConfig(
        level=root_level, format=f"%(asctime)s [worker {os.getpid()}] %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("exchange").setLevel(exchange_level)
    # Great Expectations takes seconds to import and every resource validates with it: imported as the
    # worker starts, while this process prepares the run, rather than inside the first standardize step.
    from quality.expectations import ephemeral_context

    ephemeral_context()


def _started() -> int:
    return os.getpid()


class _Schedule:
    """What a run's workers may do next: each step as soon as what it reads is there, the critical first.

    The steps and their order are the DAG's (dags/nightly_sync.py): every legacy source is read at once;
    a resource is standardized and curated once its source is read and the enterprise master is curated
    (the others resolve old codes by it); a derived resource is built once every planned resource it reads
    is curated. Of the steps that may run, the master's come first, then derivations (the licences are the
    night's longest step), then resources a derivation reads, then reads, then the other resources.
    """

    READ, RESOURCE = "read", "resource"

    def __init__(self, planned: dict[str, list[str]]) -> None:
        self.planned = planned
        self.masters = {n for s in planned if s in master_sources() for n in planned[s]}
        self.everything = {n for names in planned.values() for n in names}
        self.unread = [s for s in planned if s not in derivations()]
        self.underived = [s for s in planned if s in derivations()]
        self.read: list[str] = []  # resources whose source is read, in plan order, not yet started
        self.curated: set[str] = set()

    def _inputs_curated(self, source: str) -> bool:
        inputs = set(derivations()[source].input_names()) & self.everything
        return inputs <= self.curated and self.masters <= self.curated

    def next(self) -> tuple[str, str, list[str]] | None:
        """The step to start now (step, source, resources), or None when none may start yet."""
        for name in self.read:
            if name in self.masters:
                return self._start(self.read, name, (self.RESOURCE, name, [name]))
        for source in self.unread:
            if set(self.planned[source]) & self.masters:
                return self._start(self.unread, source, (self.READ, source, self.planned[source]))
        for source in self.underived:
            if self._inputs_curated(source):
                return self._start(self.underived, source, (self.READ, source, self.planned[source]))
        # Resources a derivation waits on, then reads, then the other resources: those run beside the
        # derivations instead of before them.
        feeding = {n for s in self.underived for n in derivations()[s].input_names()}
        ready = self.read if self.masters <= self.curated else []
        for name in [n for n in ready if n in feeding]:
            return self._start(self.read, name, (self.RESOURCE, name, [name]))
        if self.unread:
            source = self.unread[0]
            return self._start(self.unread, source, (self.READ, source, self.planned[source]))
        for name in ready:
            return self._start(self.read, name, (self.RESOURCE, name, [name]))
        return None

    @staticmethod
    def _start(queue: list[str], item: str, step: tuple[str, str, list[str]]) -> tuple[str, str, list[str]]:
        queue.remove(item)
        return step

    def done(self, step: str, names: list[str]) -> None:
        """A step has finished: a read makes its resources ready, a resource step curates one."""
        if step == self.READ:
            self.read.extend(names)
        else:
            self.curated.update(names)

    def left(self) -> list[str]:
        """Sources and resources not started yet."""
        return [*self.unread, *self.underived, *self.read]


def _drive(
    pool: ProcessPoolExecutor,
    workers: int,
    run: _RunFacts,
    schedule: _Schedule,
    curated: Callable[[str], None],
) -> None:
    # No more steps at once than workers: the schedule, not the pool's queue, picks each next step.
    running: dict[Future[None], tuple[str, list[str]]] = {}
    while True:
        while len(running) < workers and (step := schedule.next()) is not None:
            running[pool.submit(_in_worker, run, *step)] = (step[0], step[2])
        if not running:
            break
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            kind, names = running.pop(future)
            future.result()  # a step's error is the run's
            schedule.done(kind, names)
            if kind == _Schedule.RESOURCE:
                curated(names[0])
    if schedule.left():
        # Nothing runs and nothing may start: a derivation waits on a resource that can never be curated.
        raise RuntimeError(f"steps that could not start: {', '.join(schedule.left())}")


def _worker_count(ctx: RunContext, steps: int) -> int:
    """How many worker processes a run uses; 0 means every step runs in this process.

    One per core (`SDX_WORKERS`), at most one per planned source (`steps`); none on SQLite or with one.

    Python runs one step at a time per process, and a nightly run is mostly Python: independent steps in
    parallel use the machine's other cores (the Airflow DAG gets the same from its parallel tasks). SQLite
    takes one writer at a time: there every step runs in this process, in plan order.
    """
    workers = min(settings.workers(), steps)
    return 0 if ctx.curated.get_conn().dialect.name == "sqlite" or workers < 2 else workers


def _workers(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` spawned processes, all started now."""
    levels = (logging.getLogger().getEffectiveLevel(), logging.getLogger("exchange").getEffectiveLevel())
    # Spawned, not forked: this process already has threads (the lanes) and open connections. A spawned
    # worker imports our packages by name before anything of ours runs in it, with this process's path:
    # the folder they come from goes first, so a same-named folder elsewhere on the path (the test tree
    # mirrors the packages) cannot shadow them.
    packages = str(Path(__file__).resolve().parents[1])
    if sys.path[:1] != [packages]:
        sys.path.insert(0, packages)
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_start, initargs=levels
    )
    # A spawn pool starts a process per task submitted while none is idle: one task per worker now starts
    # them all at once, not one more each time the steps that may run outnumber them.
    for _ in range(workers):
        pool.submit(_started)
    return pool


def _run_sources(
    ctx: RunContext,
    planned: dict[str, list[str]],
    lanes: _GatewayLanes,
    pool: ProcessPoolExecutor | None,
    workers: int,
) -> None:
    """Every planned source's steps: in the worker processes as soon as each may run, or here in plan order.

    The gateway deliveries stay on this process's lanes, fed as each resource is curated.
    """
    if pool is None:
        for source, names in planned.items():
            _source(ctx, source, names, lanes)
        return
    run: _RunFacts = (ctx.run_id, ctx.logical_date, ctx.mode, ctx.since, ctx.until)
    _drive(pool, workers, run, _Schedule(planned), lanes.deliver_curated)


def _compared_in_worker(run: _RunFacts, name: str) -> list[TableReconciliation]:
    return compare(_context(run), [name])


def _reconcile_centre(ctx: RunContext, resources: list[str], pool: ProcessPoolExecutor | None) -> None:
    """Reconcile the centre's tables, each resource in a worker where there are workers; store them at once."""
    if pool is None:
        reconcile(ctx, resources)
        return
    run: _RunFacts = (ctx.run_id, ctx.logical_date, ctx.mode, ctx.since, ctx.until)
    futures = [pool.submit(_compared_in_worker, run, name) for name in resources]
    results = sorted((r for future in futures for r in future.result()), key=lambda r: r.resource)
    if results:
        record_reconciliation(ctx.curated.get_conn(), ctx.run_id, RECEIVER, results, "tables")


def run_pipeline(ctx: RunContext, resources: list[str] | None = None) -> dict[str, Any]:
    """Extract, standardize and validate, curate, deliver and reconcile every planned resource; close the run."""
    # The workers start first: their imports overlap this process's preparing the run.
    workers = _worker_count(ctx, _planned_sources(ctx, resources))
    pool = _workers(workers) if workers else None
    try:
        prepare(ctx)
        status = "failed"
        try:
            planned = plan(ctx, resources)
            everything = [name for names in planned.values() for name in names]
            with _GatewayLanes(ctx) as lanes:
                _run_sources(ctx, planned, lanes, pool, workers)
                lanes.reconcile(everything)
                # The centre's deliveries are done: reconciled while the lanes still push.
                _reconcile_centre(ctx, everything, pool)
            stats = state.step_stats(ctx.curated.get_conn(), ctx.run_id)
            status = "held" if state.held_resources(stats) else "success"
        finally:
            state.finish_run(ctx.curated.get_conn(), ctx.run_id, status, shanghai_now())
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return stats


def _planned_sources(ctx: RunContext, resources: list[str] | None) -> int:
    # How many sources the run plans; an unknown resource fails the run after it is recorded, not here.
    try:
        return len(plan(ctx, resources))
    except CatalogError:
        return 0
