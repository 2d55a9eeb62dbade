"""Deliver to a gateway receiver: push each curated version whose seq its ledger has not confirmed.

The ledger of a gateway receiver holds what was pushed: the curated version's seq, and the digest of the
push record (of the receiver's fields, as the receiver digests them), so that it compares with the
receiver's own ledger. A curated version is pending while the ledger holds another seq of it.

Per batch the ledger first records the versions as being sent under the batch's request id, the receiver
then takes the batch, and the ledger confirms what it accepted and refused. A kill between any two of these
leaves versions marked as being sent: the next run resends that batch under the same request id with the
same body, so the receiver answers it from its stored answer or applies it once; nothing is lost or doubled.
A batch whose records have changed since cannot be the same request: its records go out in new batches,
which the receiver's seq rules make safe (an equal seq with an equal digest changes nothing).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from airflow.sdk.exceptions import AirflowNotFoundException

from catalog import Resource
from catalog.export import RECEIVER_NAMES
from connectors.gateway.hook import GatewayHook, PushOutcome
from connectors.gateway.payloads import MAX_RECORDS, CuratedRecord, PushRecord, batches
from connectors.sql import bulk
from exchange import settings, state
from exchange.context import RunContext, shanghai_now
from exchange.faults import (
    GATEWAY_AFTER_LEDGER_COMMIT,
    GATEWAY_AFTER_LEDGER_INTENT,
    GATEWAY_AFTER_PUSH,
    crash_point,
)
from exchange.feedback import source_table
from exchange.orchestration import GATEWAY_RECEIVERS
from quality.issues import issue_kind, issue_kinds
from quality.quarantine import mask_free_text, record_quarantine

log = logging.getLogger(__name__)

# The receiver's refusal codes (gateway.yaml PushResponse) as issue kinds: quality/issues.yaml `receiver_code`.
REFUSAL_ISSUES = {kind.receiver_code: code for code, kind in issue_kinds().items() if kind.receiver_code}
GATEWAY_ISSUES = tuple(REFUSAL_ISSUES.values())
# A batch's request id says whether its records are ones the receiver lacks (I) or holds (U, D), so that a
# resend after a crash rebuilds exactly the body first sent: the ledger rows of the batch no longer say.
_NEW, _HELD = "i", "h"


@dataclass(frozen=True)
class _Batch:
    request_id: str
    rows: list[sa.Row]
    records: list[PushRecord]


def is_configured(receiver: str) -> bool:
    """Whether the receiver's connection (Airflow, or AIRFLOW_CONN_<ID>) exists."""
    try:
        GatewayHook.get_connection(receiver)
    except AirflowNotFoundException:
        return False
    return True


def _ledger_where(receiver: str, resource: Resource) -> sa.ColumnElement[bool]:
    led = state.ledger
    return sa.and_(led.c.receiver == receiver, led.c.resource == resource.name)


def _pending(
    conn: sa.Connection, resource: Resource, receiver: str
) -> list[tuple[sa.Row, str | None, str | None]]:
    """(record id and seq, ledger outcome, ledger batch id) of every version to send, in record-id order.

    Only the keys: the curated rows themselves are read a few thousand at a time as batches are cut
    (`_plan`), so a first night's 200,000 licences are never all in memory at once.
    """
    cur, led = state.curated(resource), state.ledger
    joined = cur.outerjoin(
        led, sa.and_(_ledger_where(receiver, resource), led.c.record_id == cur.c.record_id)
    )
    stmt = (
        sa.select(cur.c.record_id, cur.c.sdx_seq, led.c.outcome.label("led_outcome"), led.c.batch_id.label("led_batch"),
                  led.c.seq.label("led_seq"))
        .select_from(joined)
        # A record deleted before the receiver ever had it needs no delete.
        .where(
            sa.or_(
                sa.and_(led.c.record_id.is_(None), cur.c.sdx_deleted.is_(False)),
                led.c.seq != cur.c.sdx_seq,
                led.c.outcome == state.SENDING,
            )
        )
        .order_by(cur.c.record_id)
    )  # fmt: skip
    return [(row, row.led_outcome, row.led_batch) for row in conn.execute(stmt)]


def _request_id(receiver: str, resource: Resource, kind: str) -> str:
    return f"{receiver[:8]}-{resource.name[:16]}-{kind}-{shanghai_now():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:12]}"


def _kind_of(request_id: str) -> str:
    parts = request_id.split("-")
    return parts[-3] if len(parts) >= 3 and parts[-3] in (_NEW, _HELD) else _HELD


#: Curated rows turned into push records at a time.
_BUILD_ROWS = 2000
PROGRESS_SECONDS = 10.0  # how often a long push logs how far it has got


def _sorted_pending(
    pending: list[tuple[sa.Row, str | None, str | None]],
) -> tuple[dict[str, list[sa.Row]], dict[str, list[sa.Row]]]:
    """Batches to resend as they were (by request id), and the versions for new batches (by kind)."""
    resend: dict[str, list[sa.Row]] = {}
    fresh: dict[str, list[sa.Row]] = {_NEW: [], _HELD: []}
    changed_batches: set[str] = set()
    for row, outcome, batch in pending:
        if outcome == state.SENDING and batch:
            resend.setdefault(batch, []).append(row)
            if row.led_seq != row.sdx_seq:
                changed_batches.add(batch)
        else:
            fresh[_HELD if outcome is not None else _NEW].append(row)
    for batch in changed_batches:
        # Some record changed since: not the same request any more, its records go in new batches.
        fresh[_kind_of(batch)].extend(resend.pop(batch))
    return resend, fresh


def _plan(
    engine: sa.Engine,
    hook: GatewayHook,
    resource: Resource,
    receiver: str,
    pending: list[tuple[sa.Row, str | None, str | None]],
) -> Iterator[_Batch]:
    """Unfinished batches first (same request id, same body), then new batches of the other versions."""
    full: dict[str, sa.Row] = {}  # curated rows read and not yet in a batch

    def records(rows: list[sa.Row], held: bool) -> Iterator[PushRecord]:
        # Read and built as the batches are cut, a few thousand at a time: never a whole resource's.
        for start in range(0, len(rows), _BUILD_ROWS):
            ids = [r.record_id for r in rows[start : start + _BUILD_ROWS]]
            with engine.connect() as conn:
                full.update(state.curated_rows(conn, resource, ids))
            curated = [CuratedRecord.from_row(resource, full[rid]) for rid in ids]
            yield from hook.build_records(resource.name, curated, held=set(ids) if held else ())

    def batch_of(request_id: str, chunk: list[PushRecord]) -> _Batch:
        return _Batch(request_id, [full.pop(r["recordId"]) for r in chunk], chunk)

    resend, fresh = _sorted_pending(pending)
    for batch, rows in resend.items():
        yield batch_of(batch, list(records(rows, _kind_of(batch) == _HELD)))
    for kind, rows in fresh.items():
        rows.sort(key=lambda r: r.record_id)
        # The exchange database's batch size, where smaller than the contract's 500 (tests make it small).
        for chunk in batches(records(rows, kind == _HELD), min(MAX_RECORDS, settings.deliver_batch_rows())):
            yield batch_of(_request_id(receiver, resource, kind), chunk)


def _record_intent(conn: sa.Connection, resource: Resource, receiver: str, batch: _Batch) -> None:
    led = state.ledger
    ids = [r.record_id for r in batch.rows]
    digests = {r["recordId"]: r["digest"] for r in batch.records}
    conn.execute(
        led.delete().where(_ledger_where(receiver, resource), bulk.key_in(conn, led.c.record_id, ids))
    )
    now = shanghai_now()
    bulk.insert_rows(
        conn,
        led,
        [
            {"receiver": receiver, "resource": resource.name, "record_id": r.record_id, "seq": r.sdx_seq,
             "digest": digests[r.record_id], "deleted": bool(r.sdx_deleted), "batch_id": batch.request_id,
             "outcome": state.SENDING, "sent_at": now}
            for r in batch.rows
        ],
    )  # fmt: skip


def _confirm(
    conn: sa.Connection,
    ctx: RunContext,
    resource: Resource,
    receiver: str,
    batch: _Batch,
    outcome: PushOutcome,
    any_open: bool = True,
) -> dict[str, int]:
    """The ledger's confirmation of a batch; its refusals quarantined, accepted records' refusals resolved.

    `any_open`: whether the resource had open refusals when the delivery began. Without any, a batch
    that the receiver took whole has nothing to resolve, and the quarantine is not read for it.
    """
    in_batch = state.ledger.c.batch_id == batch.request_id
    refused = {r.record_id for r in outcome.rejected}
    accepted = [rid for rid in dict.fromkeys(outcome.accepted) if rid not in refused]
    for ids, result in ((accepted, state.WRITTEN), (sorted(refused), state.REFUSED)):
        state.update_ledger(conn, receiver, resource.name, ids, in_batch, outcome=result)
    quarantined = {"opened": 0, "still_open": 0, "resolved": 0}
    if refused or any_open:
        quarantined = _quarantine(conn, ctx, resource, receiver, batch, outcome, accepted)
    ops = {r["recordId"]: r["op"] for r in batch.records}
    return {
        "inserted": sum(ops.get(rid) == "I" for rid in accepted),
        "updated": sum(ops.get(rid) == "U" for rid in accepted),
        "deleted": sum(ops.get(rid) == "D" for rid in accepted),
        "refused": len(refused),
        "unanswered": len(outcome.unanswered),
        **quarantined,
    }


def _quarantine(
    conn: sa.Connection,
    ctx: RunContext,
    resource: Resource,
    receiver: str,
    batch: _Batch,
    outcome: PushOutcome,
    accepted: Iterable[str],
) -> dict[str, int]:
    """Open a quarantine row per refused record (the receiver's code and words), resolve accepted ones."""
    rows = {r.record_id: r for r in batch.rows}
    # The district whose clerks fix the record: the resource's division item, where it has one.
    division_item = next((item.name for item in resource.items if item.type == "division"), "")
    where = RECEIVER_NAMES.get(receiver, receiver)
    refusals = [r for r in outcome.rejected if r.record_id in rows]
    issues = [REFUSAL_ISSUES.get(r.code, "gateway.invalid") for r in refusals]
    errors = pd.DataFrame(
        {
            "record_id": [r.record_id for r in refusals],
            "source_key": [rows[r.record_id].sdx_source_key or r.record_id for r in refusals],
            "division": [
                getattr(rows[r.record_id], division_item, None) if division_item else None for r in refusals
            ],
            "item": "",
            "issue": issues,
            "value": None,
            # The receiver's own words, masked: its reason may quote an ID number or a phone.
            "message": [
                f"{issue_kind(issue).message}（{where}，{r.code}）：{mask_free_text(r.reason)}"
                for r, issue in zip(refusals, issues, strict=True)
            ],
        },
        columns=["record_id", "source_key", "division", "item", "issue", "value", "message"],
    )
    seen = sorted({r.record_id for r in refusals} | set(accepted))
    return record_quarantine(
        conn, state.quarantine, resource, source_table=source_table(resource), errors=errors,
        seen_record_ids=seen, run_id=ctx.run_id, now=shanghai_now(), issues=GATEWAY_ISSUES,
    )  # fmt: skip


def _any_open_refusal(conn: sa.Connection, resource: Resource) -> bool:
    q = state.quarantine
    stmt = sa.select(q.c.record_id).where(
        q.c.resource == resource.name, q.c.issue.in_(GATEWAY_ISSUES), q.c.resolved_at.is_(None)
    )
    return conn.execute(stmt.limit(1)).first() is not None


def _push_pending(ctx: RunContext, hook: GatewayHook, resource: Resource, receiver: str) -> dict[str, int]:
    """Every pending batch: ledger intent, push, ledger confirmation; the counts of what the receiver said.

    A few batches are in flight at once (the connection's `in_flight`): while the receiver answers one, the
    next is recorded, checked, encoded and signed. Each batch keeps its own intent → push → confirmation
    order, and batches hold different records, so a crash leaves each batch as a lone batch would.
    """
    totals = {"sent": 0, "inserted": 0, "updated": 0, "deleted": 0, "refused": 0, "unanswered": 0,
              "batches": 0, "resent_batches": 0, "opened": 0, "still_open": 0, "resolved": 0}  # fmt: skip
    engine = ctx.curated.get_conn()
    with engine.connect() as conn:
        pending = _pending(conn, resource, receiver)
        any_open = _any_open_refusal(conn, resource)
    unfinished = {batch for _, outcome, batch in pending if outcome == state.SENDING}

    def send(batch: _Batch) -> tuple[_Batch, PushOutcome, dict[str, int]]:
        if batch.request_id not in unfinished:
            with engine.begin() as conn:
                _record_intent(conn, resource, receiver, batch)
        crash_point(GATEWAY_AFTER_LEDGER_INTENT)
        outcome = hook.push(resource.name, batch.records, batch.request_id)
        crash_point(GATEWAY_AFTER_PUSH)
        with engine.begin() as conn:
            counts = _confirm(conn, ctx, resource, receiver, batch, outcome, any_open)
        crash_point(GATEWAY_AFTER_LEDGER_COMMIT)
        return batch, outcome, counts

    logged = time.monotonic()  # when progress was last logged

    def tally(done: Iterable[Future[tuple[_Batch, PushOutcome, dict[str, int]]]]) -> None:
        nonlocal logged
        for future in done:
            batch, outcome, counts = future.result()
            if outcome.unanswered:
                # Left as being sent: the next run asks again. The contract answers every record, so say so.
                log.error("deliver %s → %s: batch %s left %d records unanswered", resource.name, receiver,
                          batch.request_id, len(outcome.unanswered))  # fmt: skip
            totals["sent"] += len(batch.records)
            totals["batches"] += 1
            totals["resent_batches"] += batch.request_id in unfinished
            for key, value in counts.items():
                totals[key] += value
            # A line per batch was 4,294 lines for the licences at ten times city scale: every few seconds will do.
            if totals["sent"] == len(pending) or time.monotonic() - logged >= PROGRESS_SECONDS:
                logged = time.monotonic()
                log.info(
                    "deliver %s → %s: %d/%d records", resource.name, receiver, totals["sent"], len(pending)
                )

    in_flight = hook.batches_in_flight()
    running: set[Future[tuple[_Batch, PushOutcome, dict[str, int]]]] = set()
    with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix=f"deliver-{receiver}") as pool:
        for batch in _plan(engine, hook, resource, receiver, pending):
            if len(running) >= in_flight:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                tally(done)
            running.add(pool.submit(send, batch))
        tally(as_completed(running))
    return totals


def _record(ctx: RunContext, resource_name: str, receiver: str, stats: dict[str, Any]) -> dict[str, Any]:
    with ctx.curated.get_conn().begin() as conn:
        state.record_step(conn, ctx.run_id, resource_name, f"deliver:{receiver}", stats, shanghai_now())
    return stats


def deliver_resource(
    ctx: RunContext, resource_name: str, receiver: str, hook: GatewayHook | None = None
) -> dict[str, Any]:
    """Push a resource's pending versions to a gateway receiver in batches, each under the ledger.

    A receiver whose connection is not configured is skipped with the reason in the step's statistics, so
    one missing connection does not stop the other receivers; a resource held back by the quality gate is
    not sent.
    """
    if receiver not in GATEWAY_RECEIVERS:
        raise ValueError(f"{receiver} is not a gateway receiver ({', '.join(GATEWAY_RECEIVERS)})")
    resource = ctx.catalog.resource(resource_name)
    if receiver not in resource.receivers:
        return {"skipped": f"{resource_name} is not shared with {receiver}", "sent": 0}
    if (
        state.step_stats(ctx.curated.get_conn(), ctx.run_id)
        .get(resource_name, {})
        .get("curate", {})
        .get("held")
    ):
        log.error("deliver %s: held back by the quality gate, nothing sent to %s", resource_name, receiver)
        return _record(ctx, resource_name, receiver, {"held": True, "sent": 0})
    if hook is None:
        if not is_configured(receiver):
            reason = f"connection {receiver} is not configured (AIRFLOW_CONN_{receiver.upper()})"
            log.warning("deliver %s → %s skipped: %s", resource_name, receiver, reason)
            return _record(ctx, resource_name, receiver, {"skipped": reason, "sent": 0})
        hook = GatewayHook(receiver, catalog=ctx.catalog)
    clock = time.monotonic()
    totals = _push_pending(ctx, hook, resource, receiver)
    if totals["refused"]:
        log.warning(
            "deliver %s → %s: %d records refused, quarantined", resource_name, receiver, totals["refused"]
        )
    return _record(ctx, resource_name, receiver, {**totals, "seconds": round(time.monotonic() - clock, 3)})
