"""Reconciliation with a gateway receiver: summary first, pages on a mismatch, what it lacks sent again."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from gateway_delivery import BUILT, assert_held_exactly, urls
from pipeline_checks import LOGICAL

from catalog import default_catalog
from exchange import state
from exchange.context import RunContext
from exchange.reconcile_gateway import (
    format_gateway_reconciliation,
    load_gateway_reconciliation,
    reconcile_gateways,
)
from exchange.steps.deliver_gateway import deliver_resource
from sandbox.gateway import GatewayServer


def _deliver(run_id: str) -> dict[str, int]:
    ctx = RunContext(run_id=run_id, logical_date=LOGICAL)
    return {name: deliver_resource(ctx, name, receiver)["sent"] for name, receiver in BUILT.items()}


def _lose(server: GatewayServer, resource: str, record_ids: list[str], older: str) -> None:
    """The receiver loses some records (restored from an old backup) and holds one at an older version."""
    with server.state.store.transaction() as conn:
        conn.executemany(
            "DELETE FROM records WHERE resource = ? AND record_id = ?",
            [(resource, rid) for rid in record_ids],
        )
        conn.execute(
            "UPDATE records SET seq = seq - 1, digest = ? WHERE resource = ? AND record_id = ?",
            ("0" * 64, resource, older),
        )


def test_agreeing_receivers_are_checked_by_summary_alone(gateway_work: Path, gateway):
    _deliver("run-1")
    results = reconcile_gateways(RunContext(run_id="run-1", logical_date=LOGICAL))
    # Every gateway resource is reconciled; licences and hazchem enterprises are not built here (none held).
    assert {(r.receiver, r.resource) for r in results} >= {(v, k) for k, v in BUILT.items()}
    assert len(results) == 5
    assert all(r.differences == 0 and not r.pages_read for r in results)
    assert all(r.receiver_live == r.ledger_live == r.curated_live > 0 for r in results if r.resource in BUILT)
    assert "no differences" in format_gateway_reconciliation(results)


def test_records_the_receiver_lacks_are_listed_stored_and_sent_again(gateway_work: Path, gateway):
    _deliver("run-1")
    engine = sa.create_engine(urls(gateway_work)["curated"])
    cur = state.curated(default_catalog().resource("cases"))
    with engine.connect() as conn:
        ids = list(
            conn.execute(
                sa.select(cur.c.record_id)
                .where(cur.c.sdx_deleted.is_(False))
                .order_by(cur.c.record_id)
                .limit(4)
            ).scalars()
        )
    _lose(gateway, "cases", ids[:3], ids[3])

    ctx = RunContext(run_id="run-2", logical_date=LOGICAL)
    results = {r.resource: r for r in reconcile_gateways(ctx)}
    cases = results["cases"]
    assert cases.pages_read and cases.differences == 4 and cases.reset == 4
    assert {(d.record_id, d.problem) for d in cases.listed} == {
        *((rid, "missing") for rid in ids[:3]),
        (ids[3], "stale"),
    }
    assert results["industry_enterprises"].differences == 0
    stored = {(r.receiver, r.resource): r.differences for r in load_gateway_reconciliation(engine, "run-2")}
    assert stored[("service_network", "cases")] == 4
    diff = state.reconciliation_differences
    with engine.connect() as conn:
        listed = conn.execute(
            sa.select(sa.func.count()).where(diff.c.run_id == "run-2", diff.c.receiver == "service_network")
        ).scalar_one()
    engine.dispose()
    assert listed == 4

    # The next delivery sends exactly those again; then the receiver agrees and holds every record.
    assert _deliver("run-3") == {"cases": 4, "industry_enterprises": 0, "integrity_declarations": 0}
    again = reconcile_gateways(RunContext(run_id="run-3", logical_date=LOGICAL))
    assert sum(r.differences for r in again) == 0
    assert_held_exactly(gateway_work / "gateway.db", urls(gateway_work)["curated"])


def test_curated_digests_taken_from_the_ledger_match_push_records_built_afresh(gateway_work: Path, gateway):
    from connectors.gateway.hook import GatewayHook
    from connectors.gateway.payloads import CuratedRecord
    from exchange.reconcile_gateway import _curated

    _deliver("run-1")
    resource = default_catalog().resource("cases")
    receiver = BUILT["cases"]
    engine = sa.create_engine(urls(gateway_work)["curated"])
    cur = state.curated(resource)
    with engine.begin() as conn:
        # A version the receiver was never sent: its digest must be built, not read from the ledger.
        changed = (
            conn.execute(sa.select(cur.c.record_id).where(cur.c.sdx_deleted.is_(False))).scalars().first()
        )
        conn.execute(
            cur.update()
            .where(cur.c.record_id == changed)
            .values(sdx_seq=cur.c.sdx_seq + 1, applicant_name="常州市新名称化工有限公司")
        )
    hook = GatewayHook(receiver)
    with engine.connect() as conn:
        shortcut = _curated(conn, receiver, resource, hook)
        rows = conn.execute(sa.select(cur).where(cur.c.sdx_deleted.is_(False))).all()
    afresh = {
        r["recordId"]: r["digest"]
        for r in hook.build_records(resource.name, [CuratedRecord.from_row(resource, row) for row in rows])
    }
    assert shortcut == afresh
    with engine.connect() as conn:
        sent = conn.execute(
            sa.select(state.ledger.c.digest).where(
                state.ledger.c.receiver == receiver, state.ledger.c.record_id == changed
            )
        ).scalar_one()
    assert shortcut[changed] != sent
