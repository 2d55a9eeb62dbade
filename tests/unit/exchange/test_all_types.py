"""All 18 permit and filing types flow from a generated legacy database to the exchange database (SQLite)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from pipeline_checks import CURRENT_DIVISIONS, LOGICAL, exchange_rows, generated_databases, type_resources
from stdnum.cn import uscc

from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from schemas.tables import exchange_table_name

TYPES = {resource.name: exchange_table_name(resource) for resource in type_resources()}
# The quirks of the legacy README add up to about one record in eight refused; far more means a mapping gap.
MAX_QUARANTINED = 0.2


@dataclass(frozen=True)
class Runs:
    """Two runs over one legacy database: a first one without a resource filter, then a snapshot run."""

    exchange_url: str
    first: dict
    second: dict
    push_log_rows: tuple[int, int]  # EX_TSRZ rows after the first run, after the second


def _push_log_rows(exchange_url: str) -> int:
    engine = sa.create_engine(exchange_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT COUNT(*) FROM ex_tsrz")).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    with generated_databases(tmp_path_factory.mktemp("all_types"), scale=0.05, seed=7) as urls:
        first = run_pipeline(RunContext(run_id="run-1", logical_date=LOGICAL))
        logged = _push_log_rows(urls["exchange"])
        second = run_pipeline(RunContext(run_id="run-2", logical_date=LOGICAL, mode="snapshot"))
    return Runs(urls["exchange"], first, second, (logged, _push_log_rows(urls["exchange"])))


def test_the_catalogue_has_18_types_and_a_run_plans_them_all(runs: Runs):
    assert len(TYPES) == 18
    assert set(TYPES) <= set(runs.first)


@pytest.mark.parametrize("resource", sorted(TYPES))
def test_type_is_standardized_with_few_refusals(runs: Runs, resource: str):
    std = runs.first[resource]["standardize"]
    assert std["extracted"] > 0 and std["valid"] > 0
    assert std["quarantined"] < MAX_QUARANTINED * std["extracted"], std["quarantined_by_issue"]


@pytest.mark.parametrize("resource", sorted(TYPES))
def test_type_reaches_its_exchange_table_with_current_division_and_valid_provider(runs: Runs, resource: str):
    rows = exchange_rows(runs.exchange_url, TYPES[resource])
    assert rows
    assert len(rows) == runs.first[resource]["deliver:bigdata_centre"]["inserted"]
    assert {row.hj_xzqhdm for row in rows} <= CURRENT_DIVISIONS
    assert all(uscc.is_valid(row.hj_xydw) for row in rows)


def test_snapshot_rerun_writes_nothing_new(runs: Runs):
    first, second = runs.push_log_rows
    assert second == first > 0
    for resource in TYPES:
        curate = runs.second[resource]["curate"]
        assert curate["inserted"] == curate["updated"] == curate["deleted"] == 0, resource
