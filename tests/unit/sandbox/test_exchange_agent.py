"""The big-data centre's exchange-agent stand-in against contracts/README.md section 1 (SQLite)."""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa

from catalog import default_catalog
from connectors.exchange_db.hook import ExchangeDatabaseHook, ExchangeRow
from sandbox.exchange_agent import DEFAULT_REASON, DIGEST_REASON, ExchangeAgent, RefusalRule, data_digest
from schemas.canonical import record_digest

CATALOG = default_catalog()
RESOURCE = CATALOG.resource("permit_0101")


def _row(
    record_id: str, name: str, division: str = "320412", deleted: bool = False, digest: str = ""
) -> ExchangeRow:
    data = {item: None for item in RESOURCE.item_names} | {
        "zsbh": record_id,
        "qymc": name,
        "xzqhdm": division,
    }
    return ExchangeRow(
        record_id=record_id,
        digest=digest or record_digest(None if deleted else data),
        deleted=deleted,
        division=division,
        provider="11320400014110243T",
        data=data,
    )


@pytest.fixture
def hook(monkeypatch, sqlite_url) -> ExchangeDatabaseHook:
    monkeypatch.setenv(
        "AIRFLOW_CONN_BIGDATA_CENTRE",
        json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": sqlite_url}}),
    )
    found = ExchangeDatabaseHook()
    found.create_tables([RESOURCE])
    return found


def _rows(engine: sa.Engine) -> dict[str, sa.Row]:
    with engine.connect() as conn:
        return {r.hj_jlid: r for r in conn.execute(sa.text("SELECT * FROM ex_xk_0101 ORDER BY hj_xh"))}


def test_agent_takes_waiting_rows_and_refuses_by_rule_with_the_contract_states(hook, sqlite_url):
    hook.write_batch(RESOURCE, "b1", [_row("A", "甲"), _row("B", "乙", division="320481"), _row("C", "丙")])
    hook.write_batch(RESOURCE, "b2", [_row("D", "丁", deleted=True)])
    engine = sa.create_engine(sqlite_url)
    agent = ExchangeAgent(
        engine, CATALOG, RefusalRule.parse(["xzqhdm=320481"], reason="区划不在本次接收范围")
    )

    done = agent.run_once()

    assert (done.taken, done.refused, done.stale) == (3, 1, 0)
    rows = _rows(engine)
    for rid in "ACD":
        assert rows[rid].hj_zt == "1" and rows[rid].hj_fkxx is None
        assert len(rows[rid].hj_qssj) == 19, "SQLite control timestamps are text YYYY-MM-DD HH:MM:SS"
    assert rows["B"].hj_zt == "2" and rows["B"].hj_fkxx == "区划不在本次接收范围" and rows["B"].hj_qssj
    assert agent.run_once().taken == 0, "taken and refused rows are not taken again"

    # A new version is waiting again and is judged afresh.
    hook.write_batch(RESOURCE, "b3", [_row("B", "乙", division="320412")])
    assert _rows(engine)["B"].hj_zt == "0"
    assert agent.run_once().taken == 1
    assert _rows(engine)["B"].hj_zt == "1"


def test_agent_takes_rows_in_hj_xh_order(hook, sqlite_url):
    hook.write_batch(RESOURCE, "b1", [_row("Z", "末"), _row("A", "首")])
    hook.write_batch(RESOURCE, "b2", [_row("Z", "末二")])
    engine = sa.create_engine(sqlite_url)
    marked: list[int] = []

    class Recording(ExchangeAgent):
        def _mark(self, resource, table, rows, done):
            marked.extend(int(row["hj_xh"]) for row in rows)
            super()._mark(resource, table, rows, done)

    Recording(engine, CATALOG, batch=1).run_once()
    assert marked == sorted(marked) == [2, 3]


def test_a_row_rewritten_before_the_agent_marks_it_is_stale_and_taken_later(hook, sqlite_url):
    hook.write_batch(RESOURCE, "b1", [_row("A", "甲")])
    engine = sa.create_engine(sqlite_url)
    rewrites = iter([lambda: hook.write_batch(RESOURCE, "b2", [_row("A", "甲二")])])

    class Racing(ExchangeAgent):
        def _mark(self, resource, table, rows, done):
            next(rewrites, lambda: None)()  # the provider writes a new version between read and mark
            super()._mark(resource, table, rows, done)

    first = Racing(engine, CATALOG).run_once()
    assert (first.taken, first.stale) == (1, 1), "the stale version was not marked; the new one was taken"
    row = _rows(engine)["A"]
    assert row.hj_xh == 2 and row.hj_zt == "1" and row.qymc == "甲二"


def test_agent_refuses_a_row_whose_digest_does_not_match_its_data(hook, sqlite_url):
    hook.write_batch(RESOURCE, "b1", [_row("A", "甲", digest="0" * 64), _row("B", "乙")])
    done = ExchangeAgent(sa.create_engine(sqlite_url), CATALOG).run_once()
    assert (done.taken, done.refused) == (1, 1)
    assert _rows(sa.create_engine(sqlite_url))["A"].hj_fkxx == DIGEST_REASON


def test_share_rule_is_deterministic_per_version_and_near_its_share():
    rule = RefusalRule.parse(share=0.1)
    digests = [(f"R{i}", record_digest({"i": i})) for i in range(4000)]
    refused = [rid for rid, d in digests if rule.judge(rid, d, {"i": int(rid[1:])})]
    assert 300 < len(refused) < 500
    assert refused == [rid for rid, d in digests if rule.judge(rid, d, {"i": int(rid[1:])})]
    assert RefusalRule.parse(share=0.1).judge(*digests[0], {"i": 0}) in (None, DEFAULT_REASON)


@pytest.mark.parametrize(("when", "share"), [(["xzqhdm"], 0.0), (["=320412"], 0.0), ([], 1.5), ([], -0.1)])
def test_rule_rejects_malformed_settings(when, share):
    with pytest.raises(ValueError):
        RefusalRule.parse(when, share)


def test_agent_digest_reads_database_values_as_the_contract_writes_them():
    import datetime as dt
    import decimal

    data = {
        "a": decimal.Decimal("120.000000"),
        "b": decimal.Decimal("31.5"),
        "c": dt.date(2026, 1, 2),
        "d": "常州",
    }
    assert data_digest(data) == record_digest({"a": 120, "b": 31.5, "c": "2026-01-02", "d": "常州"})
    assert data_digest(None) == record_digest(None)


def test_loop_runs_until_stopped(hook, sqlite_url):
    agent = ExchangeAgent(sa.create_engine(sqlite_url), CATALOG)
    stop = threading.Event()
    result: list = []
    worker = threading.Thread(target=lambda: result.append(agent.run_loop(stop, interval=0.05)))
    worker.start()
    hook.write_batch(RESOURCE, "b1", [_row("A", "甲"), _row("B", "乙")])
    for _ in range(100):
        if all(r.hj_zt == "1" for r in _rows(sa.create_engine(sqlite_url)).values()):
            break
        stop.wait(0.05)
    stop.set()
    worker.join(timeout=10)
    assert not worker.is_alive() and result[0].taken == 2
