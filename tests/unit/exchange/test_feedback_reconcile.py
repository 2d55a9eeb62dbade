"""The centre's refusals go back into quarantine and are resent once the source changes; reconciliation (SQLite)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from change_scenario import change_certificates, exchange_versions, new_versions
from pipeline_checks import LOGICAL, query_rows

from exchange.cli import main
from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from exchange.reconcile import load_reconciliation, reconcile
from exchange.steps.report import report_run
from quality.quarantine import mask_free_text

REASON = "许可范围与审批系统不一致，联系人13912345678，身份证320402199001011234"


def _run(run_id: str) -> dict:
    return run_pipeline(RunContext(run_id=run_id, logical_date=LOGICAL), ["permit_0101"])["permit_0101"]


def test_refusals_are_quarantined_with_the_reason_and_resent_only_when_the_source_changes(urls, capsys):
    _run("run-1")
    # The centre refuses every 0101 certificate of 溧阳市, with a reason quoting a phone and an ID number.
    assert (
        main(["-q", "sandbox", "exchange-agent", "--refuse-when", "xzqhdm=320481", "--reason", REASON]) == 0
    )
    refused = {
        r.hj_jlid for r in query_rows(urls["exchange"], "SELECT hj_jlid FROM ex_xk_0101 WHERE hj_zt = '2'")
    }
    assert len(refused) >= 2, "the generated database has too few 溧阳 certificates for the scenario"
    before = exchange_versions(urls["exchange"], "ex_xk_0101")

    second = _run("run-2")
    assert second["deliver:bigdata_centre"]["feedback"]["refused"] == len(refused)
    assert new_versions(before, exchange_versions(urls["exchange"], "ex_xk_0101")) == {}, (
        "refused data is not resent"
    )
    rows = query_rows(
        urls["curated"],
        "SELECT record_id, message, division, source_key, resolved_at FROM sdx_quarantine "
        "WHERE issue = 'receiver.refused'",
    )
    assert {r.record_id for r in rows} == refused and all(r.resolved_at is None for r in rows)
    assert all(r.message.startswith("接收方拒收（市大数据中心）：许可范围与审批系统不一致") for r in rows)
    assert all("13912345678" not in r.message and "320402199001011234" not in r.message for r in rows)
    assert {r.division for r in rows} == {"320481"}
    outcomes = query_rows(
        urls["curated"], "SELECT record_id, outcome FROM sdx_ledger WHERE outcome = 'refused'"
    )
    assert {r.record_id for r in outcomes} == refused

    # The district fixes one refused record in the source: only that record is sent again, and its
    # refusal is settled; the others stay open.
    fixed = sorted(refused)[0]
    key = next(r.source_key for r in rows if r.record_id == fixed)
    change_certificates(urls["legacy"], {key: "经营：甲醇（不储存）"})
    third = _run("run-3")
    after = exchange_versions(urls["exchange"], "ex_xk_0101")
    assert new_versions(before, after) == {fixed: "U"}
    assert third["deliver:bigdata_centre"]["updated"] == 1
    open_now = query_rows(
        urls["curated"],
        "SELECT record_id, resolved_run_id FROM sdx_quarantine WHERE issue = 'receiver.refused'",
    )
    assert {r.record_id for r in open_now if r.resolved_run_id is None} == refused - {fixed}
    assert {r.record_id: r.resolved_run_id for r in open_now}[fixed] == "run-3"

    # Reconciliation of that run: no differences; the centre holds the refused rows still (as refused).
    [result] = load_reconciliation(sa.create_engine(urls["curated"]), "run-3")
    assert result.differences == 0 and result.refused == len(refused) - 1 and result.waiting == 1
    assert result.receiver_digest == result.ledger_digest == result.curated_digest
    assert result.receiver_live == result.curated_live > 0
    html = Path(report_run(RunContext(run_id="run-3", logical_date=LOGICAL))["quality_report"]).read_text(
        "utf-8"
    )
    assert 'data-reconciled="permit_0101"' in html and "交付对账" in html


def _tamper(exchange_url: str) -> dict[str, str]:
    engine = sa.create_engine(exchange_url)
    with engine.begin() as conn:
        ids = [r[0] for r in conn.execute(sa.text("SELECT hj_jlid FROM ex_xk_0101 ORDER BY hj_jlid LIMIT 3"))]
        conn.execute(
            sa.text("UPDATE ex_xk_0101 SET hj_sjzw = :d WHERE hj_jlid = :r"), {"d": "0" * 64, "r": ids[0]}
        )
        conn.execute(sa.text("DELETE FROM ex_xk_0101 WHERE hj_jlid = :r"), {"r": ids[1]})
        conn.execute(
            sa.text("UPDATE ex_xk_0101 SET hj_pch = 'never-logged' WHERE hj_jlid = :r"), {"r": ids[2]}
        )
    engine.dispose()
    return {ids[0]: "ledger_differs", ids[1]: "missing", ids[2]: "unlogged"}


def test_reconciliation_lists_every_record_the_centre_holds_differently(urls, capsys):
    _run("run-1")
    assert main(["-q", "reconcile", "bigdata_centre"]) == 0
    assert "no differences" in capsys.readouterr().out
    expected = _tamper(urls["exchange"])

    [result] = reconcile(RunContext(run_id="run-1", logical_date=LOGICAL), ["permit_0101"])
    assert {d.record_id: d.problem for d in result.listed} == expected
    assert result.differences == 3 and result.receiver_digest != result.ledger_digest
    stored = query_rows(
        urls["curated"], "SELECT record_id, problem FROM sdx_reconciliation_diff WHERE run_id = 'run-1'"
    )
    assert dict(stored) == expected
    assert main(["-q", "reconcile", "bigdata_centre", "--resources", "permit_0101"]) == 1
    out = capsys.readouterr().out
    assert "3 differing records" in out and all(rid in out for rid in expected)
    assert main(["-q", "summary"]) == 0 and "3 differing records" in capsys.readouterr().out


def test_free_text_from_outside_is_masked():
    text = mask_free_text("联系人13912345678，证件320402199001011234")
    assert "13912345678" not in text and "320402199001011234" not in text
    assert text.startswith("联系人139") and "320*************34" in text
