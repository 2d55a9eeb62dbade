"""Feedback from the big-data centre: rows it refused (HJ_ZT = '2') go back into quarantine with its reason.

A refusal counts while the refused version is the one the ledger last sent. It stays open in quarantine (for
the district's clerks, with the centre's words) until a new version of the record replaces the refused row:
the ledger marks the record refused, and since a record is sent again only when its digest changes, the
same refused data is never pushed twice; a corrected source record is.
"""

from __future__ import annotations

import logging

import pandas as pd
import sqlalchemy as sa

from catalog import Resource
from connectors.exchange_db.hook import ExchangeDatabaseHook, Refusal
from exchange import state
from exchange.context import RunContext, shanghai_now
from quality.issues import issue_kind
from quality.quarantine import mask_free_text, record_quarantine
from schemas.manifest import ManifestError, manifest_for

log = logging.getLogger(__name__)

RECEIVER = "bigdata_centre"
ISSUE = "receiver.refused"
CENTRE = "市大数据中心"


def source_table(resource: Resource) -> str:
    """The legacy table a resource's quarantine rows name (the resource itself when derived)."""
    try:
        return manifest_for(resource.name).primary.table
    except ManifestError:  # a derived resource has no legacy table of its own
        return resource.name


def _current(conn: sa.Connection, resource: Resource, refusals: list[Refusal]) -> list[tuple[Refusal, str]]:
    # Only the version the ledger last sent (and saw written) is refused; an older one was replaced.
    led, cur = state.ledger, state.curated(resource)
    sent: dict[str, tuple[str, str, str]] = {}
    ids = [r.record_id for r in refusals]
    for start in range(0, len(ids), 1000):
        stmt = (
            sa.select(led.c.record_id, led.c.digest, led.c.outcome, cur.c.sdx_source_key)
            .select_from(led.outerjoin(cur, cur.c.record_id == led.c.record_id))
            .where(
                led.c.receiver == RECEIVER,
                led.c.resource == resource.name,
                led.c.record_id.in_(ids[start : start + 1000]),
            )
        )
        sent.update({rid: (digest, outcome, key) for rid, digest, outcome, key in conn.execute(stmt)})
    out = []
    for refusal in refusals:
        digest, outcome, key = sent.get(refusal.record_id, ("", "", ""))
        if digest == refusal.digest and outcome != state.SENDING:
            out.append((refusal, key or refusal.record_id))
    return out


def _open_refusal_ids(conn: sa.Connection, resource: Resource) -> list[str]:
    q = state.quarantine
    stmt = sa.select(q.c.record_id).where(
        q.c.resource == resource.name, q.c.issue == ISSUE, q.c.resolved_at.is_(None)
    )
    return [rid for (rid,) in conn.execute(stmt)]


def collect_feedback(
    ctx: RunContext, resource: Resource, exchange: ExchangeDatabaseHook | None = None
) -> dict[str, int]:
    """Quarantine the records the centre refuses now, resolve those it no longer refuses, mark the ledger."""
    exchange = exchange or ExchangeDatabaseHook()
    refusals = exchange.refusals(resource)
    now = shanghai_now()
    with ctx.curated.get_conn().begin() as conn:
        current = _current(conn, resource, refusals)
        kind = issue_kind(ISSUE)
        errors = pd.DataFrame(
            {
                "record_id": [r.record_id for r, _ in current],
                "source_key": [key for _, key in current],
                "division": [r.division for r, _ in current],
                "item": "",
                "issue": ISSUE,
                "value": None,
                # The centre's own words, masked: its reason may quote an ID number or a phone.
                "message": [f"{kind.message}（{CENTRE}）：{mask_free_text(r.reason)}" for r, _ in current],
            },
            columns=["record_id", "source_key", "division", "item", "issue", "value", "message"],
        )
        seen = sorted({r.record_id for r, _ in current} | set(_open_refusal_ids(conn, resource)))
        counts = record_quarantine(
            conn, state.quarantine, resource, source_table=source_table(resource), errors=errors,
            seen_record_ids=seen, run_id=ctx.run_id, now=now, issues=[ISSUE],
        )  # fmt: skip
        state.update_ledger(
            conn, RECEIVER, resource.name, [r.record_id for r, _ in current], outcome=state.REFUSED
        )
    if current:
        log.warning("feedback %s: %s refuses %d records", resource.name, RECEIVER, len(current))
    return {"refused": len(current), **counts}
