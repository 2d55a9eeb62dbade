"""Redelivery sends again what a receiver refused or its latest reconciliation found missing (SQLite)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from change_scenario import change_certificates, exchange_versions, new_versions
from pipeline_checks import LOGICAL, query_rows

from exchange import state
from exchange.cli import main
from exchange.context import RunContext
from exchange.pipeline import plan, prepare, run_pipeline
from exchange.reconcile import reconcile
from exchange.redeliver import forget_versions, records_to_resend
from exchange.steps.curate import curate_resource
from exchange.steps.extract import extract_source
from exchange.steps.standardize import standardize_resource


def _run(run_id: str) -> dict:
    return run_pipeline(RunContext(run_id=run_id, logical_date=LOGICAL), ["permit_0101"])["permit_0101"]


def _redeliver(capsys, *options: str) -> dict:
    assert main(["-q", "redeliver", *options]) == 0
    return json.loads(capsys.readouterr().out)


def _lose_and_damage(exchange_url: str) -> tuple[str, str]:
    """The centre loses one row (restored from an old backup) and holds another at a wrong digest."""
    engine = sa.create_engine(exchange_url)
    with engine.begin() as conn:
        ids = [r[0] for r in conn.execute(sa.text("SELECT hj_jlid FROM ex_xk_0101 ORDER BY hj_jlid LIMIT 2"))]
        conn.execute(sa.text("DELETE FROM ex_xk_0101 WHERE hj_jlid = :r"), {"r": ids[0]})
        conn.execute(
            sa.text("UPDATE ex_xk_0101 SET hj_sjzw = :d WHERE hj_jlid = :r"), {"d": "0" * 64, "r": ids[1]}
        )
    engine.dispose()
    return ids[0], ids[1]


def test_what_the_latest_reconciliation_found_missing_or_different_is_sent_again(urls, capsys):
    _run("run-1")
    missing, damaged = _lose_and_damage(urls["exchange"])
    [found] = reconcile(RunContext(run_id="run-1", logical_date=LOGICAL), ["permit_0101"])
    assert {d.record_id: d.problem for d in found.listed} == {missing: "missing", damaged: "ledger_differs"}
    before = exchange_versions(urls["exchange"], "ex_xk_0101")

    done = _redeliver(capsys, "--receivers", "bigdata_centre", "--resources", "permit_0101")

    result = done["bigdata_centre"]["permit_0101"]
    assert (result["differing"], result["reset"], result["delivered"]["sent"]) == (2, 2, 2)
    assert new_versions(before, exchange_versions(urls["exchange"], "ex_xk_0101")) == {
        missing: "I",
        damaged: "U",
    }
    [after] = reconcile(RunContext(run_id="run-1-checked", logical_date=LOGICAL), ["permit_0101"])
    assert after.differences == 0 and after.receiver_digest == after.curated_digest


def _curate_without_delivering(run_id: str) -> None:
    # A night whose delivery did not happen (the centre was down): curated, not sent.
    ctx = RunContext(run_id=run_id, logical_date=LOGICAL)
    prepare(ctx)
    for source, names in plan(ctx, ["permit_0101"]).items():
        extract_source(ctx, source, names)
    standardize_resource(ctx, "permit_0101")
    curate_resource(ctx, "permit_0101")


def test_a_record_the_centre_refused_is_sent_again_once_corrected_never_the_same_version(urls, capsys):
    _run("run-1")
    assert main(["-q", "sandbox", "exchange-agent", "--refuse-when", "xzqhdm=320481"]) == 0
    capsys.readouterr()
    refused = {r[0] for r in query_rows(urls["exchange"], "SELECT hj_jlid FROM ex_xk_0101 WHERE hj_zt = '2'")}
    assert len(refused) >= 2, "the generated database has too few 溧阳 certificates for the scenario"
    _run("run-2")  # reads the refusals back: the ledger marks them refused
    fixed = sorted(refused)[0]
    [(key,)] = query_rows(
        urls["curated"], "SELECT sdx_source_key FROM cur_permit_0101 WHERE record_id = :r", r=fixed
    )
    change_certificates(urls["legacy"], {key: "经营：甲醇（不储存）"})
    _curate_without_delivering("run-3")
    before = exchange_versions(urls["exchange"], "ex_xk_0101")

    done = _redeliver(capsys, "--receivers", "bigdata_centre", "--resources", "permit_0101")

    result = done["bigdata_centre"]["permit_0101"]
    assert (result["refused"], result["kept_refused"]) == (1, len(refused) - 1)
    # The corrected record goes again; the versions refused unchanged are not written twice (contract §1).
    assert new_versions(before, exchange_versions(urls["exchange"], "ex_xk_0101")) == {fixed: "U"}
    still = {r[0] for r in query_rows(urls["exchange"], "SELECT hj_jlid FROM ex_xk_0101 WHERE hj_zt = '2'")}
    assert still == refused - {fixed}


def test_a_gateway_receiver_is_sent_a_refused_version_again(urls):
    # A gateway receiver judges every push afresh: what it refused goes again as it is.
    _run("run-1")
    engine = sa.create_engine(urls["curated"])
    led = state.ledger
    resource = RunContext(run_id="x", logical_date=LOGICAL).catalog.resource("permit_0101")
    with engine.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(led).where(led.c.resource == "permit_0101"))]
        refused = sorted(r["record_id"] for r in rows)[:2]
        conn.execute(
            led.insert(),
            [r | {"receiver": "service_network", "outcome": state.REFUSED if r["record_id"] in refused
                  else state.WRITTEN} for r in rows],
        )  # fmt: skip
        chosen = records_to_resend(conn, "service_network", resource)
        assert (list(chosen.refused), chosen.kept_refused) == (refused, ())
        assert forget_versions(conn, "service_network", resource, chosen.record_ids) == 2
        # The ledger rows name no curated version now: every delivery step sends them (by digest or seq).
        cur = state.curated(resource)
        pending = conn.execute(
            sa.select(led.c.record_id)
            .join(cur, cur.c.record_id == led.c.record_id)
            .where(
                led.c.receiver == "service_network",
                led.c.digest != cur.c.sdx_digest,
                led.c.seq != cur.c.sdx_seq,
            )
        ).scalars()
        assert sorted(pending) == refused
        # The centre's own rows are untouched.
        centre = conn.execute(
            sa.select(sa.func.count()).where(led.c.receiver == "bigdata_centre", led.c.digest == "")
        ).scalar_one()
        assert centre == 0
    engine.dispose()


def test_an_unknown_receiver_or_resource_is_refused(urls):
    from exchange.redeliver import redeliver

    ctx = RunContext(run_id="x", logical_date=LOGICAL)
    with pytest.raises(ValueError, match="unknown receiver"):
        redeliver(ctx, ["city_archive"])
    with pytest.raises(Exception, match="permit_9999"):
        redeliver(ctx, ["bigdata_centre"], ["permit_9999"])


def test_resync_to_a_receiver_sends_it_every_record_again(urls, capsys):
    """`sdx resync --receivers`, as full_resync: the centre gets back what it lost, unknown to the ledger."""
    _run("run-1")
    lost, _ = _lose_and_damage(urls["exchange"])
    before = exchange_versions(urls["exchange"], "ex_xk_0101")
    options = ["--resources", "permit_0101", "--run-id", "resync-1", "--logical-date", "2026-11-29"]

    assert main(["-q", "resync", *options]) == 0  # no receivers named: only what changed goes
    assert new_versions(before, exchange_versions(urls["exchange"], "ex_xk_0101")) == {}
    assert main(["-q", "resync", *options, "--receivers", "bigdata_centre"]) == 0
    capsys.readouterr()

    assert lost in new_versions(before, exchange_versions(urls["exchange"], "ex_xk_0101"))
