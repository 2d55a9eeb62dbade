"""Deliver to the big-data centre: send each curated record whose digest the ledger has not seen."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import sqlalchemy as sa

from catalog import Resource
from connectors.exchange_db.hook import ExchangeDatabaseHook, ExchangeRow
from connectors.sql import bulk
from exchange import settings, state
from exchange.context import RunContext, shanghai_now
from exchange.faults import (
    DELIVER_AFTER_EXCHANGE_COMMIT,
    DELIVER_AFTER_LEDGER_COMMIT,
    DELIVER_AFTER_LEDGER_INTENT,
    DELIVER_MID_BATCH,
    crash_point,
)
from exchange.feedback import RECEIVER, collect_feedback

log = logging.getLogger(__name__)


def _pending(conn: sa.Connection, resource: Resource) -> list[str]:
    """The record ids of every version to send, in record-id order.

    Only the keys: the curated rows themselves are read a batch at a time (`_rows`), so a first night's
    million certificates are never all in memory at once.
    """
    cur, led = state.curated(resource), state.ledger
    joined = cur.outerjoin(
        led,
        sa.and_(
            led.c.receiver == RECEIVER, led.c.resource == resource.name, led.c.record_id == cur.c.record_id
        ),
    )
    stmt = (
        sa.select(cur.c.record_id)
        .select_from(joined)
        # A record deleted before the centre ever had it needs no delete.
        .where(
            sa.or_(
                sa.and_(led.c.record_id.is_(None), cur.c.sdx_deleted.is_(False)),
                led.c.digest != cur.c.sdx_digest,
                led.c.outcome == state.SENDING,
            )
        )
        .order_by(cur.c.record_id)
    )
    return list(conn.execute(stmt).scalars())


def _rows(engine: sa.Engine, resource: Resource, ids: list[str]) -> list[sa.Row]:
    with engine.connect() as conn:
        read = state.curated_rows(conn, resource, ids)
    return [read[rid] for rid in ids]


def _row(resource: Resource, provider: dict[str, str], rec: sa.Row) -> ExchangeRow:
    # A record without its own division or issuing authority is the providing bureau's (catalog.yaml).
    settings = resource.receivers[RECEIVER]
    data = {name: getattr(rec, name) for name in resource.item_names}
    return ExchangeRow(
        record_id=rec.record_id,
        digest=rec.sdx_digest,
        deleted=bool(rec.sdx_deleted),
        division=data.get(settings.get("division_item", "xzqhdm")) or provider["division"],
        provider=data.get(settings.get("provider_item", "fzjgdm")) or provider["code"],
        data=data,
    )


def _record_intent(conn: sa.Connection, resource: Resource, batch_id: str, rows: list[sa.Row]) -> None:
    led = state.ledger
    ids = [r.record_id for r in rows]
    conn.execute(
        led.delete().where(
            led.c.receiver == RECEIVER,
            led.c.resource == resource.name,
            bulk.key_in(conn, led.c.record_id, ids),
        )
    )
    now = shanghai_now()
    bulk.insert_rows(
        conn,
        led,
        [
            {"receiver": RECEIVER, "resource": resource.name, "record_id": r.record_id, "seq": r.sdx_seq,
             "digest": r.sdx_digest, "deleted": bool(r.sdx_deleted), "batch_id": batch_id,
             "outcome": state.SENDING, "sent_at": now}
            for r in rows
        ],
    )  # fmt: skip


def _confirm(conn: sa.Connection, resource: Resource, batch_id: str, unchanged: list[str]) -> None:
    led = state.ledger
    batch = sa.and_(led.c.receiver == RECEIVER, led.c.resource == resource.name, led.c.batch_id == batch_id)
    conn.execute(led.update().where(batch).values(outcome=state.WRITTEN))
    state.update_ledger(conn, RECEIVER, resource.name, unchanged, batch, outcome=state.UNCHANGED)


def deliver_resource(
    ctx: RunContext, resource_name: str, exchange: ExchangeDatabaseHook | None = None
) -> dict[str, Any]:
    """Read the centre's refusals back, then write pending versions in batches, each under the ledger.

    Per batch the ledger first records the versions as being sent, the exchange database then writes the
    batch in one transaction, and the ledger confirms it. A kill between any two of these leaves versions
    marked as being sent: the next run sends them again and the exchange database skips those it already
    holds (equal digests), so nothing is lost and nothing is written twice.
    """
    resource = ctx.catalog.resource(resource_name)
    if RECEIVER not in resource.receivers:
        return {"skipped": f"{resource_name} is not shared with {RECEIVER}", "sent": 0}
    if (
        state.step_stats(ctx.curated.get_conn(), ctx.run_id)
        .get(resource_name, {})
        .get("curate", {})
        .get("held")
    ):
        log.error("deliver %s: held back by the quality gate, nothing sent", resource_name)
        held = {"held": True, "sent": 0}
        with ctx.curated.get_conn().begin() as conn:
            state.record_step(conn, ctx.run_id, resource_name, f"deliver:{RECEIVER}", held, shanghai_now())
        return held
    exchange = exchange or ExchangeDatabaseHook()
    exchange.create_tables([resource])
    feedback = collect_feedback(ctx, resource, exchange)
    provider = ctx.catalog.settings["provider"]
    clock, in_exchange = time.monotonic(), 0.0
    totals = {"sent": 0, "inserted": 0, "updated": 0, "deleted": 0, "unchanged": 0, "batches": 0}
    engine = ctx.curated.get_conn()
    with engine.connect() as conn:
        pending = _pending(conn, resource)
    size = settings.deliver_batch_rows()
    for start in range(0, len(pending), size):
        chunk = _rows(engine, resource, pending[start : start + size])
        batch_id = f"{exchange.table(resource).name}-{shanghai_now():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:12]}"
        with engine.begin() as conn:
            _record_intent(conn, resource, batch_id, chunk)
        crash_point(DELIVER_AFTER_LEDGER_INTENT)
        writing = time.monotonic()
        outcome = exchange.write_batch(
            resource,
            batch_id,
            [_row(resource, provider, r) for r in chunk],
            before_commit=lambda: crash_point(DELIVER_MID_BATCH),
        )
        in_exchange += time.monotonic() - writing
        crash_point(DELIVER_AFTER_EXCHANGE_COMMIT)
        written = set(outcome.written)
        with engine.begin() as conn:
            _confirm(conn, resource, batch_id, [r.record_id for r in chunk if r.record_id not in written])
        crash_point(DELIVER_AFTER_LEDGER_COMMIT)
        totals["sent"] += len(chunk)
        totals["batches"] += 1 if written else 0
        for key in ("inserted", "updated", "deleted", "unchanged"):
            totals[key] += getattr(outcome, key)
        log.info("deliver %s → %s: %d/%d records", resource_name, RECEIVER, start + len(chunk), len(pending))
    stats = {
        **totals,
        "feedback": feedback,
        "seconds": round(time.monotonic() - clock, 3),
        "exchange_seconds": round(in_exchange, 3),
    }
    with engine.begin() as conn:
        state.record_step(conn, ctx.run_id, resource_name, f"deliver:{RECEIVER}", stats, shanghai_now())
    return stats
