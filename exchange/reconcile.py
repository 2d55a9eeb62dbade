"""Reconcile the big-data centre's exchange database with the ledger and the curated database.

Per resource: the live rows the centre holds (count, and SM3 over the sorted `HJ_JLID:HJ_SJZW` lines, as
contracts/README.md section 4 defines "sorted lines"), the versions the ledger says were sent, and the live
curated records. Every record on which the three disagree is listed, and so is every row whose batch the
push log (EX_TSRZ) does not know, or whose sending the ledger never confirmed. The result of each run is
kept in the curated database (sdx_reconciliation, sdx_reconciliation_diff) and shown in the quality report.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from catalog import Resource
from connectors.exchange_db.hook import ExchangeDatabaseHook
from exchange import state
from exchange.context import RunContext, shanghai_now
from exchange.feedback import RECEIVER, collect_feedback
from schemas.canonical import sorted_lines_digest

log = logging.getLogger(__name__)

# Differences kept per run and resource: enough to find the cause, bounded when everything differs.
KEPT_DIFFERENCES = 1000
PROBLEMS = {
    "missing": "交换库中缺少该记录",
    "not_curated": "交换库有而入库数据中没有（或已删除）",
    "ledger_differs": "交付台账与交换库不一致",
    "curated_differs": "入库数据与交换库不一致",
    "unconfirmed": "交付台账未确认写入",
    "unlogged": "所在批次不在推送日志（EX_TSRZ）中",
}


@dataclass(frozen=True)
class Difference:
    """One record on which the receiver, the ledger and the curated database disagree."""

    record_id: str
    problem: str
    receiver_digest: str | None
    ledger_digest: str | None
    curated_digest: str | None


@dataclass(frozen=True)
class TableReconciliation:
    """One resource's reconciliation; `differences` counts all, `listed` holds the first ones."""

    resource: str
    table_name: str
    receiver_live: int
    receiver_deleted: int
    receiver_digest: str
    ledger_live: int
    ledger_digest: str
    curated_live: int
    curated_digest: str
    waiting: int
    taken: int
    refused: int
    differences: int
    listed: tuple[Difference, ...] = ()


def _ledger(conn: sa.Connection, resource: Resource) -> tuple[dict[str, str], set[str]]:
    led = state.ledger
    stmt = sa.select(led.c.record_id, led.c.digest, led.c.deleted, led.c.outcome).where(
        led.c.receiver == RECEIVER, led.c.resource == resource.name
    )
    live, unconfirmed = {}, set()
    for rid, digest, deleted, outcome in conn.execute(stmt):
        if not deleted:
            live[rid] = digest
        if outcome == state.SENDING:
            unconfirmed.add(rid)
    return live, unconfirmed


def _curated(conn: sa.Connection, resource: Resource) -> dict[str, str]:
    cur = state.curated(resource)
    stmt = sa.select(cur.c.record_id, cur.c.sdx_digest).where(cur.c.sdx_deleted.is_(False))
    return {rid: digest for rid, digest in conn.execute(stmt)}


def _problem(rid: str, held: str | None, sent: str | None, curated: str | None, unconfirmed: set[str]) -> str:
    if held is None and sent is None and curated is None:
        return "unconfirmed" if rid in unconfirmed else ""
    if held is None:
        return "missing"
    if curated is None:
        return "not_curated"
    if sent != held:
        return "ledger_differs"
    if curated != held:
        return "curated_differs"
    return "unconfirmed" if rid in unconfirmed else ""


def reconcile_resource(
    ctx: RunContext, resource: Resource, exchange: ExchangeDatabaseHook
) -> TableReconciliation:
    """Compare one resource's exchange table with the ledger and the curated database."""
    holdings = exchange.holdings(resource)
    with ctx.curated.get_conn().connect() as conn:
        sent, unconfirmed = _ledger(conn, resource)
        curated = _curated(conn, resource)
    held = holdings.live
    differences = []
    for rid in sorted(set(held) | set(sent) | set(curated) | unconfirmed):
        problem = _problem(rid, held.get(rid), sent.get(rid), curated.get(rid), unconfirmed)
        if problem:
            differences.append(Difference(rid, problem, held.get(rid), sent.get(rid), curated.get(rid)))
    flagged = {d.record_id for d in differences}
    differences += [
        Difference(rid, "unlogged", held.get(rid), sent.get(rid), curated.get(rid))
        for rid in holdings.unlogged
        if rid not in flagged
    ]
    return TableReconciliation(
        resource=resource.name,
        table_name=exchange.table(resource).name,
        receiver_live=len(held),
        receiver_deleted=holdings.deleted,
        receiver_digest=sorted_lines_digest(held.items()),
        ledger_live=len(sent),
        ledger_digest=sorted_lines_digest(sent.items()),
        curated_live=len(curated),
        curated_digest=sorted_lines_digest(curated.items()),
        waiting=holdings.by_status.get("0", 0),
        taken=holdings.by_status.get("1", 0),
        refused=holdings.by_status.get("2", 0),
        differences=len(differences),
        listed=tuple(differences[:KEPT_DIFFERENCES]),
    )


# The columns of sdx_reconciliation a result fills (run_id, receiver and checked_at come from the caller).
STORED = (
    "resource", "table_name", "receiver_live", "receiver_deleted", "receiver_digest", "ledger_live",
    "ledger_digest", "curated_live", "curated_digest", "waiting", "taken", "refused", "differences",
)  # fmt: skip


def store_reconciliation(
    conn: sa.Connection, run_id: str, receiver: str, results: Sequence[TableReconciliation]
) -> None:
    """Keep a run's results with one receiver, replacing earlier ones of the same resources."""
    rec, diff = state.reconciliation, state.reconciliation_differences
    names = [r.resource for r in results]
    for table in (rec, diff):
        conn.execute(
            table.delete().where(
                table.c.run_id == run_id, table.c.receiver == receiver, table.c.resource.in_(names)
            )
        )
    now = shanghai_now()
    conn.execute(
        rec.insert(),
        [{"run_id": run_id, "receiver": receiver, "checked_at": now} | {k: getattr(r, k) for k in STORED}
         for r in results],
    )  # fmt: skip
    rows = [
        {"run_id": run_id, "receiver": receiver, "resource": r.resource, **d.__dict__}
        for r in results
        for d in r.listed
    ]
    if rows:
        conn.execute(diff.insert(), rows)


def record_reconciliation(
    engine: sa.Engine, run_id: str, receiver: str, results: Sequence[TableReconciliation], unit: str
) -> None:
    """Store a run's results with one receiver and log them: an error when any record differs."""
    if results:
        with engine.begin() as conn:
            store_reconciliation(conn, run_id, receiver, results)
    differing = sum(r.differences for r in results)
    (log.error if differing else log.info)(
        "reconcile %s: %d %s, %d differing records", receiver, len(results), unit, differing
    )


def reconcile(
    ctx: RunContext, resources: Iterable[str] | None = None, exchange: ExchangeDatabaseHook | None = None
) -> list[TableReconciliation]:
    """Reconcile every resource shared with the centre (or those named), after reading its feedback.

    The results replace any earlier reconciliation of the same run and resources.
    """
    results = compare(ctx, resources, exchange)
    if results:
        record_reconciliation(ctx.curated.get_conn(), ctx.run_id, RECEIVER, results, "tables")
    return results


def compare(
    ctx: RunContext, resources: Iterable[str] | None = None, exchange: ExchangeDatabaseHook | None = None
) -> list[TableReconciliation]:
    """`reconcile` without storing the results: so that parts of a run's resources can be compared at once."""
    wanted = set(resources) if resources is not None else None
    shared = [
        r
        for name, r in sorted(ctx.catalog.resources.items())
        if RECEIVER in r.receivers and (wanted is None or name in wanted)
    ]
    if not shared:
        return []  # a run of resources the centre does not take has nothing to reconcile with it
    exchange = exchange or ExchangeDatabaseHook()
    exchange.create_tables(shared)
    state.create_all(ctx.curated.get_conn(), shared)
    results = []
    for resource in shared:
        collect_feedback(ctx, resource, exchange)
        results.append(reconcile_resource(ctx, resource, exchange))
    return results


def load_reconciliation(engine: sa.Engine, run_id: str) -> list[TableReconciliation]:
    """A run's stored reconciliation with the centre (differences counted, not listed)."""
    return [
        TableReconciliation(**{k: getattr(row, k) for k in STORED}) for row in stored_rows(engine, run_id)
    ]


def stored_rows(engine: sa.Engine, run_id: str, receivers: Sequence[str] = (RECEIVER,)) -> list[sa.Row]:
    """A run's sdx_reconciliation rows of the receivers, by receiver and resource."""
    rec = state.reconciliation
    if not sa.inspect(engine).has_table(rec.name):
        return []
    with engine.connect() as conn:
        stmt = sa.select(rec).where(rec.c.run_id == run_id, rec.c.receiver.in_(list(receivers)))
        return list(conn.execute(stmt.order_by(rec.c.receiver, rec.c.resource)))


def headline(title: str, checked: str, results: Sequence[Any]) -> list[str]:
    """The first lines of a reconciliation table: what was checked and how many records differ."""
    differing = sum(r.differences for r in results)
    return [
        f"{title}: {checked}, " + (f"{differing} differing records" if differing else "no differences"),
        "",
    ]


def format_reconciliation(results: list[TableReconciliation]) -> str:
    """A plain-text table: per resource, centre against ledger and curated, statuses, differences."""
    if not results:
        return f"Reconciliation with {RECEIVER}: not run"
    lines = headline(f"Reconciliation with {RECEIVER}", f"{len(results)} tables", results)
    header = (
        f"{'resource':<16}{'centre':>8}{'ledger':>8}{'curated':>9}  digests   "
        f"{'waiting':>8}{'taken':>8}{'refused':>8}{'differ':>8}"
    )
    lines += [header, "-" * len(header)]
    for r in results:
        same = "same" if r.receiver_digest == r.ledger_digest == r.curated_digest else "DIFFER"
        lines.append(
            f"{r.resource:<16}{r.receiver_live:>8}{r.ledger_live:>8}{r.curated_live:>9}  {same:<8}  "
            f"{r.waiting:>8}{r.taken:>8}{r.refused:>8}{r.differences:>8}"
        )
        for d in r.listed[:20]:
            lines.append(f"{'':<16}{d.record_id}: {PROBLEMS[d.problem]}")
    return "\n".join(lines)
