"""All 18 types, MariaDB → PostgreSQL, with the centre's exchange agent taking rows while the pipeline writes."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from change_scenario import change_certificates, exchange_versions, new_versions
from pipeline_checks import LOGICAL, scalar, type_resources

from catalog import default_catalog
from connectors.sql.engine import create_engine
from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from exchange.reconcile import load_reconciliation, reconcile
from sandbox.exchange_agent import DIGEST_REASON, ExchangeAgent, RefusalRule
from schemas.tables import exchange_table_name

pytestmark = pytest.mark.integration

TABLES = [exchange_table_name(r) for r in type_resources()]
CHANGED = 5


def _versions(url: str) -> dict[str, dict[str, tuple[int, str, str]]]:
    return {table: exchange_versions(url, table) for table in TABLES}


def _written(before: dict, after: dict) -> dict[str, str]:
    return {rid: op for table in TABLES for rid, op in new_versions(before[table], after[table]).items()}


def _count_everywhere(url: str, where: str) -> int:
    return sum(int(scalar(url, f"SELECT COUNT(*) FROM {table} WHERE {where}")) for table in TABLES)


def _change_certificates(legacy_url: str, curated_url: str) -> set[str]:
    engine = sa.create_engine(curated_url)
    with engine.connect() as conn:
        picked = conn.execute(
            sa.text(
                "SELECT record_id, sdx_source_key FROM cur_permit_0101 WHERE sdx_deleted = false "
                "ORDER BY record_id LIMIT :n"
            ),
            {"n": CHANGED},
        ).all()
    engine.dispose()
    assert len(picked) == CHANGED
    change_certificates(legacy_url, {key: f"经营：甲醇（储存）{n}" for n, (_, key) in enumerate(picked)})
    return {rid for rid, _ in picked}


def test_all_types_delivered_exactly_once_while_the_agent_takes_rows(
    mariadb_url, postgres_url, second_postgres_url, use_connections
):
    from sandbox.legacy import generate_legacy

    generate_legacy(mariadb_url, scale=0.02, seed=7)
    use_connections(legacy_supervision=mariadb_url, curated=postgres_url, bigdata_centre=second_postgres_url)
    agent = ExchangeAgent(
        create_engine(second_postgres_url), default_catalog(), RefusalRule(share=0.03), batch=200
    )
    stop = threading.Event()
    passes: list = []
    worker = threading.Thread(target=lambda: passes.append(agent.run_loop(stop, interval=0.05)), daemon=True)
    worker.start()
    try:
        first = run_pipeline(RunContext(run_id="run-1", logical_date=LOGICAL))
        # The agent worked while the writer wrote: rows of the early tables were taken before the run ended.
        assert _count_everywhere(second_postgres_url, "hj_zt <> '0'") > 0
        for resource in type_resources():
            assert first[resource.name]["deliver:bigdata_centre"]["inserted"] > 0, resource.name
        before, pushes = (
            _versions(second_postgres_url),
            scalar(second_postgres_url, "SELECT COUNT(*) FROM ex_tsrz"),
        )

        run_pipeline(RunContext(run_id="run-2", logical_date=LOGICAL, mode="snapshot"))
        assert scalar(second_postgres_url, "SELECT COUNT(*) FROM ex_tsrz") == pushes, (
            "a rerun writes nothing new"
        )
        assert _written(before, _versions(second_postgres_url)) == {}

        changed = _change_certificates(mariadb_url, postgres_url)
        run_pipeline(RunContext(run_id="run-3", logical_date=LOGICAL))
        assert _written(before, _versions(second_postgres_url)) == dict.fromkeys(changed, "U")

        deadline = time.monotonic() + 60
        while _count_everywhere(second_postgres_url, "hj_zt = '0'") and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert _count_everywhere(second_postgres_url, "hj_zt = '0'") == 0, "the agent took every waiting row"
    assert passes and passes[0].taken > 0 and passes[0].refused > 0
    # Every version written was marked once: none was superseded before the agent read it.
    versions = sum(
        int(scalar(second_postgres_url, f"SELECT COALESCE(SUM(zs), 0) FROM ex_tsrz WHERE bm = '{t}'"))
        for t in TABLES
    )
    assert passes[0].taken + passes[0].refused == versions
    # PostgreSQL hands NUMERIC and DATE back as Decimal and date: the centre's digests still match.
    assert _count_everywhere(second_postgres_url, f"hj_fkxx = '{DIGEST_REASON}'") == 0

    results = reconcile(RunContext(run_id="run-3", logical_date=LOGICAL))
    assert {r.table_name for r in results} >= set(TABLES)
    assert [r.resource for r in results if r.differences] == []
    assert all(r.receiver_digest == r.ledger_digest == r.curated_digest for r in results)
    refused = sum(r.refused for r in results)
    assert refused == _count_everywhere(second_postgres_url, "hj_zt = '2'") > 0
    quarantined = scalar(
        postgres_url,
        "SELECT COUNT(*) FROM sdx_quarantine WHERE issue = 'receiver.refused' AND resolved_at IS NULL",
    )
    assert quarantined == refused
    assert len(load_reconciliation(sa.create_engine(postgres_url), "run-3")) == len(results)
