"""Quarantined records are judged again every run: fixed at the source they leave quarantine and flow on."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from pipeline_checks import LOGICAL, scalar

from exchange.context import RunContext, shanghai_now
from exchange.pipeline import run_pipeline
from sandbox.legacy import LEGACY_TABLES, generate_legacy

RESOURCE = "certificate_0702"
CZZ = LEGACY_TABLES["T_TZZY_CZZ"]


def _open_rows(curated_url: str) -> list[sa.Row]:
    # Records refused for one thing only, an unreadable review date (FSRQ, optional, in no rule).
    engine = sa.create_engine(curated_url)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    sa.text(
                        "SELECT * FROM sdx_quarantine q WHERE resource = :r AND item = 'fsrq' AND resolved_at IS NULL"
                        " AND (SELECT COUNT(*) FROM sdx_quarantine o WHERE o.record_id = q.record_id) = 1"
                        " ORDER BY record_id"
                    ),
                    {"r": RESOURCE},
                )
            )
    finally:
        engine.dispose()


def _quarantine_rows(curated_url: str, record_id: str) -> list[sa.Row]:
    engine = sa.create_engine(curated_url)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(sa.text("SELECT * FROM sdx_quarantine WHERE record_id = :id"), {"id": record_id})
            )
    finally:
        engine.dispose()


def _first_run(tmp_path, use_connections) -> dict[str, str]:
    urls = {name: f"sqlite:///{tmp_path / name}.db" for name in ("legacy", "curated", "exchange")}
    generate_legacy(urls["legacy"], scale=0.02, seed=5, rates={"date.placeholder": 0.02})
    use_connections(
        legacy_supervision=urls["legacy"], curated=urls["curated"], bigdata_centre=urls["exchange"]
    )
    run_pipeline(RunContext(run_id="run-1", logical_date=LOGICAL), [RESOURCE])
    return urls


@pytest.mark.parametrize("second_mode", ["incremental", "snapshot"])
def test_a_fixed_record_leaves_quarantine_and_a_broken_one_stays_once(tmp_path, use_connections, second_mode):
    urls = _first_run(tmp_path, use_connections)
    fixed, broken = _open_rows(urls["curated"])[:2]
    before = _quarantine_rows(urls["curated"], broken.record_id)

    # A clerk clears the unreadable date of one record; the legacy application stamps the edit.
    legacy = sa.create_engine(urls["legacy"])
    with legacy.begin() as conn:
        conn.execute(
            CZZ.update().where(fixed.source_key == CZZ.c.CZZID).values(FSRQ=None, GXSJ=shanghai_now())
        )
    legacy.dispose()
    stats = run_pipeline(RunContext(run_id="run-2", logical_date=LOGICAL + dt.timedelta(days=1), mode=second_mode), [RESOURCE])  # fmt: skip

    (resolved,) = _quarantine_rows(urls["curated"], fixed.record_id)
    assert resolved.resolved_at is not None and resolved.resolved_run_id == "run-2"
    assert scalar(urls["curated"], f"SELECT COUNT(*) FROM cur_{RESOURCE} WHERE record_id = '{fixed.record_id}' AND sdx_deleted = false") == 1  # fmt: skip
    assert (
        scalar(urls["exchange"], f"SELECT COUNT(*) FROM ex_czz_0702 WHERE hj_jlid = '{fixed.record_id}'") == 1
    )
    assert stats[RESOURCE]["curate"]["quarantine"]["resolved"] >= 1

    # The record still broken is judged again: one row, first seen unchanged, last seen this run.
    (still,) = _quarantine_rows(urls["curated"], broken.record_id)
    (was,) = before
    assert still.resolved_at is None
    assert (still.first_run_id, str(still.first_seen)) == ("run-1", str(was.first_seen))
    assert still.last_run_id == "run-2" and str(still.last_seen) >= str(was.last_seen)
    assert scalar(urls["curated"], f"SELECT COUNT(*) FROM cur_{RESOURCE} WHERE record_id = '{broken.record_id}'") == 0  # fmt: skip


def test_a_quarantined_record_whose_row_is_gone_leaves_quarantine_on_a_full_read(tmp_path, use_connections):
    urls = _first_run(tmp_path, use_connections)
    gone = _open_rows(urls["curated"])[0]
    legacy = sa.create_engine(urls["legacy"])
    with legacy.begin() as conn:
        conn.execute(CZZ.delete().where(gone.source_key == CZZ.c.CZZID))
    legacy.dispose()
    stats = run_pipeline(RunContext(run_id="run-2", logical_date=LOGICAL, mode="snapshot"), [RESOURCE])
    (row,) = _quarantine_rows(urls["curated"], gone.record_id)
    assert row.resolved_at is not None and row.resolved_run_id == "run-2"
    assert stats[RESOURCE]["curate"]["quarantine"]["resolved_vanished"] == 1
