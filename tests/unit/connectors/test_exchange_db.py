"""The exchange database hook against the contract's rules (SQLite here; PostgreSQL in the integration run)."""

import json

import pytest
import sqlalchemy as sa

from catalog import default_catalog
from connectors.exchange_db.hook import ExchangeDatabaseHook, ExchangeRow
from schemas.canonical import record_digest, sorted_lines_digest

RESOURCE = default_catalog().resource("permit_0101")


def _row(record_id: str, name: str, deleted: bool = False) -> ExchangeRow:
    data = {item: None for item in RESOURCE.item_names} | {
        "zsbh": record_id,
        "qymc": name,
        "xzqhdm": "320412",
    }
    return ExchangeRow(
        record_id=record_id,
        digest=record_digest(None if deleted else data),
        deleted=deleted,
        division="320412",
        provider="11320400014110243T",
        data=data,
    )


def exchange_hook(monkeypatch, url: str) -> ExchangeDatabaseHook:
    monkeypatch.setenv(
        "AIRFLOW_CONN_BIGDATA_CENTRE", json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": url}})
    )
    hook = ExchangeDatabaseHook()
    hook.create_tables([RESOURCE])
    return hook


def _rows(hook):
    with hook.get_conn().connect() as conn:
        return {r.hj_jlid: r for r in conn.execute(sa.text("SELECT * FROM ex_xk_0101 ORDER BY hj_xh"))}


def _log(hook):
    with hook.get_conn().connect() as conn:
        return list(conn.execute(sa.text("SELECT * FROM ex_tsrz ORDER BY kssj, pch")))


def check_contract(hook: ExchangeDatabaseHook) -> None:
    first = hook.write_batch(RESOURCE, "b1", [_row("A", "甲"), _row("B", "乙")])
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    rows = _rows(hook)
    assert [r.hj_xh for r in rows.values()] == [1, 2]
    assert {r.hj_czlx for r in rows.values()} == {"I"}
    assert all(r.hj_zt == "0" and r.hj_fkxx is None and r.hj_qssj is None for r in rows.values())
    [log] = _log(hook)
    assert (log.pch, log.bm, log.zs, log.xzs, log.gxs, log.scs) == ("b1", "ex_xk_0101", 2, 2, 0, 0)
    assert log.zwhz == sorted_lines_digest([("A", _row("A", "甲").digest), ("B", _row("B", "乙").digest)])

    # The centre takes A; then the same versions again write nothing and log nothing.
    with hook.get_conn().begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE ex_xk_0101 SET hj_zt='1', hj_qssj=CURRENT_TIMESTAMP WHERE hj_jlid='A' AND hj_xh=1"
            )
        )
    again = hook.write_batch(RESOURCE, "b2", [_row("A", "甲"), _row("B", "乙")])
    assert again.written == () and again.unchanged == 2
    assert len(_log(hook)) == 1

    # A new version of A: new HJ_XH, status reset; a delete of B: data null, digest of null.
    changed = hook.write_batch(RESOURCE, "b3", [_row("A", "甲二"), _row("B", "乙", deleted=True)])
    assert (changed.updated, changed.deleted) == (1, 1)
    rows = _rows(hook)
    assert (
        rows["A"].hj_xh == 3
        and rows["A"].hj_czlx == "U"
        and rows["A"].hj_zt == "0"
        and rows["A"].hj_qssj is None
    )
    assert rows["B"].hj_xh == 4 and rows["B"].hj_czlx == "D" and rows["B"].qymc is None
    assert rows["B"].hj_sjzw.strip() == record_digest(None)
    assert rows["A"].hj_pch == "b3"
    assert hook.live_digests(RESOURCE) == {"A": _row("A", "甲二").digest}


def test_exchange_contract_on_sqlite(monkeypatch, sqlite_url):
    hook = exchange_hook(monkeypatch, sqlite_url)
    check_contract(hook)
    with hook.get_conn().connect() as conn:
        stamp = conn.execute(sa.text("SELECT hj_tssj FROM ex_xk_0101 LIMIT 1")).scalar()
    assert len(stamp) == 19, "SQLite control timestamps are text YYYY-MM-DD HH:MM:SS"


@pytest.mark.integration
def test_exchange_contract_on_postgres(monkeypatch, postgres_url):
    hook = exchange_hook(monkeypatch, postgres_url)
    check_contract(hook)
    with hook.get_conn().connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
    assert {"ex_xk_0101", "ex_tsrz"} <= names, "tables are created unquoted, so they read back lower case"
