"""Send records again: what a receiver refused or its latest reconciliation found missing or different.

The ledger decides what a receiver's delivery step sends: a record whose ledger row names another version
than the curated one goes (again). Redelivery makes the ledger rows of the chosen records name no version
(an empty digest, seq 0) and then runs the receiver's ordinary delivery step, so a resend goes through the
same batches, idempotency and confirmation as every night's.

The big-data centre takes a version only once (contracts/README.md section 1: a version whose digest equals
the row's HJ_SJZW is not written again), so a version it refused goes again only once its source record is
corrected; those it refused unchanged are counted as kept, not reset.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from catalog import Resource
from exchange import state
from exchange.context import RunContext
from exchange.orchestration import BIGDATA_CENTRE, RECEIVERS
from exchange.steps.deliver import deliver

log = logging.getLogger(__name__)

# Receivers that never take the same version twice: a version they refused stays refused until corrected.
TAKES_A_VERSION_ONCE = frozenset({BIGDATA_CENTRE})
_CHUNK = 1000


@dataclass(frozen=True)
class Resend:
    """The records of one resource to send one receiver again, and those left as they are, with why."""

    refused: tuple[str, ...]
    differing: tuple[str, ...]
    # Refused unchanged by a receiver that takes a version once: only a corrected record goes again.
    kept_refused: tuple[str, ...]
    # Listed by the reconciliation but not in the curated database: there is nothing to send.
    not_curated: tuple[str, ...]
    # Differences the reconciliation counted but did not list (it keeps the first ones): the next one lists them.
    unlisted: int

    @property
    def record_ids(self) -> list[str]:
        """Every record to send again, once each."""
        return sorted(set(self.refused) | set(self.differing))


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _ledger_of(receiver: str, resource: Resource) -> sa.ColumnElement[bool]:
    led = state.ledger
    return sa.and_(led.c.receiver == receiver, led.c.resource == resource.name)


def _refused(conn: sa.Connection, receiver: str, resource: Resource) -> tuple[list[str], list[str]]:
    """(records to send again, records kept) of those the receiver refused."""
    led, cur = state.ledger, state.curated(resource)
    stmt = (
        sa.select(led.c.record_id, led.c.digest, cur.c.sdx_digest)
        .select_from(led.join(cur, cur.c.record_id == led.c.record_id))
        .where(_ledger_of(receiver, resource), led.c.outcome == state.REFUSED)
        .order_by(led.c.record_id)
    )
    resend: list[str] = []
    kept: list[str] = []
    for record_id, sent, curated in conn.execute(stmt):
        unchanged = sent == curated and receiver in TAKES_A_VERSION_ONCE
        (kept if unchanged else resend).append(record_id)
    return resend, kept


def _latest_differences(conn: sa.Connection, receiver: str, resource: Resource) -> tuple[list[str], int]:
    """The records the latest reconciliation of the resource with the receiver listed, and how many it did not."""
    rec, diff = state.reconciliation, state.reconciliation_differences
    latest = conn.execute(
        sa.select(rec.c.run_id, rec.c.differences)
        .where(rec.c.receiver == receiver, rec.c.resource == resource.name)
        .order_by(rec.c.checked_at.desc())
        .limit(1)
    ).first()
    if latest is None:
        return [], 0
    listed = conn.execute(
        sa.select(diff.c.record_id)
        .where(diff.c.run_id == latest.run_id, diff.c.receiver == receiver, diff.c.resource == resource.name)
        .order_by(diff.c.record_id)
    ).scalars()
    ids = list(listed)
    return ids, max(latest.differences - len(ids), 0)


def _curated_ids(conn: sa.Connection, resource: Resource, ids: Sequence[str]) -> set[str]:
    cur = state.curated(resource)
    found: set[str] = set()
    for chunk in _chunks(ids):
        found.update(conn.execute(sa.select(cur.c.record_id).where(cur.c.record_id.in_(chunk))).scalars())
    return found


def records_to_resend(conn: sa.Connection, receiver: str, resource: Resource) -> Resend:
    """What to send `receiver` again of one resource: its refusals and its latest reconciliation's differences."""
    refused, kept = _refused(conn, receiver, resource)
    listed, unlisted = _latest_differences(conn, receiver, resource)
    curated = _curated_ids(conn, resource, listed)
    return Resend(
        refused=tuple(refused),
        differing=tuple(rid for rid in listed if rid in curated and rid not in kept),
        kept_refused=tuple(kept),
        not_curated=tuple(rid for rid in listed if rid not in curated),
        unlisted=unlisted,
    )


def forget_versions(
    conn: sa.Connection, receiver: str, resource: Resource, record_ids: Sequence[str] | None = None
) -> int:
    """Make the receiver's next delivery send these records (all when None) again; how many rows changed.

    Their ledger rows then name no version (empty digest, seq 0), which every delivery step sends; what the
    receiver already holds it skips or overwrites with the same data.
    """
    led = state.ledger
    where = _ledger_of(receiver, resource)
    if receiver in TAKES_A_VERSION_ONCE:
        # A version such a receiver refused stays refused until corrected (see the module's docstring).
        cur = state.curated(resource)
        same_version = sa.select(cur.c.record_id).where(
            cur.c.record_id == led.c.record_id, cur.c.sdx_digest == led.c.digest
        )
        where = sa.and_(where, sa.or_(led.c.outcome != state.REFUSED, ~sa.exists(same_version)))
    forget = led.update().values(digest="", seq=0)
    if record_ids is None:
        return conn.execute(forget.where(where)).rowcount
    return sum(
        conn.execute(forget.where(where, led.c.record_id.in_(chunk))).rowcount
        for chunk in _chunks(record_ids)
    )


def _shared(ctx: RunContext, receiver: str, resources: Iterable[str] | None) -> list[Resource]:
    if receiver not in RECEIVERS:
        raise ValueError(f"unknown receiver {receiver!r}; the receivers are {', '.join(RECEIVERS)}")
    wanted = {ctx.catalog.resource(name).name for name in resources or ()}  # an unknown name raises
    return [r for r in ctx.catalog.resources_for(receiver) if not wanted or r.name in wanted]


def redeliver_to(ctx: RunContext, receiver: str, resources: Iterable[str] | None = None) -> dict[str, Any]:
    """Send one receiver again what it refused or its latest reconciliation found missing or different.

    Per resource shared with it (or only those named): the chosen records' ledger rows are reset, then the
    receiver's delivery step runs. Returns, per resource, what was chosen, kept and delivered.
    """
    shared = _shared(ctx, receiver, resources)
    engine = ctx.curated.get_conn()
    state.create_all(engine, shared)
    out: dict[str, Any] = {}
    for resource in shared:
        with engine.begin() as conn:
            chosen = records_to_resend(conn, receiver, resource)
            reset = forget_versions(conn, receiver, resource, chosen.record_ids)
        result: dict[str, Any] = {
            "refused": len(chosen.refused),
            "differing": len(chosen.differing),
            "reset": reset,
            "kept_refused": len(chosen.kept_refused),
            "not_curated": len(chosen.not_curated),
            "unlisted": chosen.unlisted,
        }
        if chosen.record_ids:
            result["delivered"] = deliver(ctx, resource.name, receiver)
        log.info(
            "redeliver %s → %s: %d refused, %d differing sent again; %d refused unchanged kept",
            resource.name, receiver, len(chosen.refused), len(chosen.differing), len(chosen.kept_refused),
        )  # fmt: skip
        out[resource.name] = result
    return out


def redeliver(
    ctx: RunContext, receivers: Iterable[str] | None = None, resources: Iterable[str] | None = None
) -> dict[str, dict[str, Any]]:
    """`redeliver_to` for each receiver named (every receiver by default), in the catalogue's order."""
    chosen = list(receivers or RECEIVERS)
    return {receiver: redeliver_to(ctx, receiver, resources) for receiver in chosen}


def forget_deliveries(
    ctx: RunContext, receivers: Iterable[str], resources: Iterable[str] | None = None
) -> dict[str, int]:
    """Make the next delivery send every record of the resources (all shared by default) again to the receivers.

    For a receiver that lost its data or was rebuilt: `full_resync` with `receivers`. Returns receiver →
    ledger rows reset.
    """
    engine = ctx.curated.get_conn()
    out = {}
    for receiver in receivers:
        shared = _shared(ctx, receiver, resources)
        state.create_all(engine, shared)
        with engine.begin() as conn:
            out[receiver] = sum(forget_versions(conn, receiver, resource) for resource in shared)
        log.info("resync %s: %d ledger rows reset, every record goes again", receiver, out[receiver])
    return out
