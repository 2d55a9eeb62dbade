"""Delivery to a gateway receiver, against the real stand-in: once, updates, refusals, held and skipped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from gateway_delivery import (
    BATCH_RECORDS,
    BUILT,
    assert_held_exactly,
    held,
    urls,
)
from pipeline_checks import LOGICAL

from catalog import default_catalog
from exchange import state
from exchange.context import RunContext
from exchange.steps.deliver_gateway import deliver_resource

CASES = default_catalog().resource("cases")


def _ctx(run_id: str = "run-1") -> RunContext:
    return RunContext(run_id=run_id, logical_date=LOGICAL)


def _deliver_all(run_id: str = "run-1") -> dict[str, dict]:
    ctx = _ctx(run_id)
    return {name: deliver_resource(ctx, name, receiver) for name, receiver in BUILT.items()}


def _ledger(work: Path, resource: str) -> dict[str, tuple[int, str]]:
    engine = sa.create_engine(urls(work)["curated"])
    led = state.ledger
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(led.c.record_id, led.c.seq, led.c.outcome).where(
                led.c.resource == resource, led.c.receiver != "bigdata_centre"
            )
        )
        out = {rid: (seq, outcome) for rid, seq, outcome in rows}
    engine.dispose()
    return out


def _change_case(work: Path, record_id: str, **values: object) -> int:
    """Give one curated case a new version with `values`; its new seq."""
    engine = sa.create_engine(urls(work)["curated"])
    cur = state.curated(CASES)
    with engine.begin() as conn:
        seq = conn.execute(sa.select(cur.c.sdx_seq).where(cur.c.record_id == record_id)).scalar_one() + 1
        conn.execute(
            cur.update()
            .where(cur.c.record_id == record_id)
            .values(sdx_seq=seq, sdx_digest=f"changed-{seq}", **values)
        )
    engine.dispose()
    return seq


def _first_live_case(work: Path) -> sa.Row:
    engine = sa.create_engine(urls(work)["curated"])
    cur = state.curated(CASES)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(cur).where(cur.c.sdx_deleted.is_(False)).order_by(cur.c.record_id).limit(1)
        ).one()
    engine.dispose()
    return row


def test_without_a_connection_the_receiver_is_skipped_with_the_reason(gateway_template: Path):
    stats = state.step_stats(sa.create_engine(urls(gateway_template)["curated"]), "run-0")
    for name, receiver in BUILT.items():
        step = stats[name][f"deliver:{receiver}"]
        assert step["sent"] == 0
        assert f"connection {receiver} is not configured" in step["skipped"]


def test_every_record_delivered_once_then_nothing_more(gateway_work: Path, gateway):
    first = _deliver_all()
    store = gateway_work / "gateway.db"
    assert_held_exactly(store, urls(gateway_work)["curated"])
    cases = first["cases"]
    assert cases["sent"] == cases["inserted"] > int(BATCH_RECORDS), "several batches"
    assert cases["batches"] == -(-cases["sent"] // int(BATCH_RECORDS))
    assert {outcome for _, outcome in _ledger(gateway_work, "cases").values()} == {state.WRITTEN}

    again = _deliver_all("run-2")
    assert {name: s["sent"] for name, s in again.items()} == dict.fromkeys(BUILT, 0)


def test_a_new_version_goes_as_an_update_at_its_seq(gateway_work: Path, gateway):
    deliver_resource(_ctx(), "cases", "service_network")
    row = _first_live_case(gateway_work)
    seq = _change_case(gateway_work, row.record_id, item_name=row.item_name + "（变更）")

    stats = deliver_resource(_ctx("run-2"), "cases", "service_network")
    assert (stats["sent"], stats["updated"], stats["inserted"]) == (1, 1, 0)
    assert held(gateway_work / "gateway.db", "service_network", "cases")[row.record_id][:2] == (seq, "U")
    assert_held_exactly(
        gateway_work / "gateway.db", urls(gateway_work)["curated"], {"cases": "service_network"}
    )


def test_a_refused_record_is_quarantined_in_clerks_words_and_not_sent_again(gateway_work: Path, gateway):
    deliver_resource(_ctx(), "cases", "service_network")
    row = _first_live_case(gateway_work)
    code = row.applicant_code
    # Right pattern, wrong check character: the schema passes, the receiver's meaning check refuses (E1001).
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    _change_case(gateway_work, row.record_id, applicant_code=wrong)

    stats = deliver_resource(_ctx("run-2"), "cases", "service_network")
    assert (stats["sent"], stats["refused"], stats["opened"]) == (1, 1, 1)
    assert _ledger(gateway_work, "cases")[row.record_id][1] == state.REFUSED
    engine = sa.create_engine(urls(gateway_work)["curated"])
    q = state.quarantine
    with engine.connect() as conn:
        (opened,) = conn.execute(
            sa.select(q).where(q.c.record_id == row.record_id, q.c.issue.like("gateway.%"))
        )
    assert opened.issue == "gateway.invalid" and opened.resolved_at is None
    assert opened.division == row.division_code, "the district whose clerks fix it"
    assert "政务服务网" in opened.message and "E1001" in opened.message
    assert wrong not in opened.message, "the receiver's words are masked"
    assert deliver_resource(_ctx("run-3"), "cases", "service_network")["sent"] == 0, (
        "not sent again unchanged"
    )

    # Corrected at the source: the new version is accepted and the quarantine row resolved.
    _change_case(gateway_work, row.record_id, applicant_code=code)
    fixed = deliver_resource(_ctx("run-4"), "cases", "service_network")
    assert (fixed["sent"], fixed["updated"], fixed["resolved"]) == (1, 1, 1)
    with engine.connect() as conn:
        resolved = conn.execute(
            sa.select(q.c.resolved_run_id).where(
                q.c.record_id == row.record_id, q.c.issue == "gateway.invalid"
            )
        ).scalar_one()
    engine.dispose()
    assert resolved == "run-4"
    assert_held_exactly(
        gateway_work / "gateway.db", urls(gateway_work)["curated"], {"cases": "service_network"}
    )


def test_a_resource_held_back_by_the_quality_gate_is_not_sent(gateway_work: Path, gateway):
    engine = sa.create_engine(urls(gateway_work)["curated"])
    with engine.begin() as conn:
        state.record_step(
            conn, "run-1", "cases", "curate", {"held": True, "reasons": ["x"]}, dt.datetime(2026, 11, 29)
        )
    engine.dispose()
    assert deliver_resource(_ctx(), "cases", "service_network") == {"held": True, "sent": 0}
    assert held(gateway_work / "gateway.db", "service_network", "cases") == {}
