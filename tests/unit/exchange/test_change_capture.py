"""Every kind of legacy change between two runs is delivered exactly once: none missed, none repeated."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from change_scenario import apply_changes, apply_competence_changes, exchange_versions, new_versions
from pipeline_checks import LOGICAL, watermark

from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from sandbox.legacy import generate_legacy


@pytest.fixture
def loaded(tmp_path, use_connections):
    urls = {name: f"sqlite:///{tmp_path / name}.db" for name in ("legacy", "curated", "exchange")}
    generate_legacy(urls["legacy"], scale=0.05, seed=5)
    use_connections(
        legacy_supervision=urls["legacy"], curated=urls["curated"], bigdata_centre=urls["exchange"]
    )
    run_pipeline(RunContext(run_id="run-1", logical_date=LOGICAL), ["permit_0101"])
    return urls


def _run(run_id: str, mode: str) -> dict:
    return run_pipeline(RunContext(run_id=run_id, logical_date=LOGICAL, mode=mode), ["permit_0101"])[
        "permit_0101"
    ]


def test_snapshot_run_delivers_exactly_every_kind_of_change(loaded):
    expected = apply_changes(loaded["legacy"], loaded["curated"], watermark(loaded["curated"]))
    before = exchange_versions(loaded["exchange"], "ex_xk_0101")

    stats = _run("run-2", "snapshot")

    written = new_versions(before, exchange_versions(loaded["exchange"], "ex_xk_0101"))
    assert {r for r, op in written.items() if op == "I"} == expected.inserted
    assert {r for r, op in written.items() if op == "U"} == expected.updated
    assert {r for r, op in written.items() if op == "D"} == expected.deleted
    assert stats["curate"]["inserted"] == len(expected.inserted)
    assert stats["curate"]["updated"] == len(expected.updated)
    assert stats["curate"]["deleted"] == len(expected.deleted)
    # A snapshot run reads everything but processes only rows whose content changed.
    assert stats["extract"]["rows"] < stats["extract"]["rows_read"] / 5

    # Nothing is repeated by the next run, whatever its mode.
    for run_id, mode in (("run-3", "incremental"), ("run-4", "snapshot")):
        after = exchange_versions(loaded["exchange"], "ex_xk_0101")
        _run(run_id, mode)
        assert new_versions(after, exchange_versions(loaded["exchange"], "ex_xk_0101")) == {}


def test_incremental_run_sees_stamped_changes_and_the_snapshot_the_rest(loaded):
    expected = apply_changes(loaded["legacy"], loaded["curated"], watermark(loaded["curated"]))
    before = exchange_versions(loaded["exchange"], "ex_xk_0101")

    _run("run-2", "incremental")
    after_incremental = exchange_versions(loaded["exchange"], "ex_xk_0101")
    assert set(new_versions(before, after_incremental)) == expected.all() - expected.snapshot_only

    _run("run-3", "snapshot")
    assert (
        set(new_versions(after_incremental, exchange_versions(loaded["exchange"], "ex_xk_0101")))
        == expected.snapshot_only
    )


def test_future_timestamp_does_not_move_the_watermark_past_now(loaded):
    apply_changes(loaded["legacy"], loaded["curated"], watermark(loaded["curated"]))
    _run("run-2", "incremental")
    assert watermark(loaded["curated"]) <= dt.datetime.now() + dt.timedelta(hours=9)


def test_full_refresh_turns_hard_deleted_rows_into_deletes(loaded):
    engine = sa.create_engine(loaded["curated"])
    with engine.connect() as conn:
        key = conn.execute(
            sa.text(
                "SELECT sdx_source_key FROM cur_permit_0101 WHERE sdx_deleted = false ORDER BY record_id LIMIT 1"
            )
        ).scalar_one()
    legacy = sa.create_engine(loaded["legacy"])
    with legacy.begin() as conn:
        conn.execute(sa.text('DELETE FROM "T_XK_ZS" WHERE "ZSID" = :k'), {"k": key})
    before = exchange_versions(loaded["exchange"], "ex_xk_0101")
    stats = _run("run-2", "full")
    assert stats["curate"]["deleted"] == 1
    assert new_versions(before, exchange_versions(loaded["exchange"], "ex_xk_0101")) == {"XKZ-" + key: "D"}


def _run_0701(run_id: str, mode: str) -> None:
    run_pipeline(RunContext(run_id=run_id, logical_date=LOGICAL, mode=mode), ["certificate_0701"])


def test_competence_certificate_changes_are_delivered_exactly_once(tmp_path, use_connections):
    # A one-resource source (T_PX_KHHG): the stamped changes go incrementally, the unstamped one by snapshot.
    urls = {name: f"sqlite:///{tmp_path / name}.db" for name in ("legacy", "curated", "exchange")}
    generate_legacy(urls["legacy"], scale=0.05, seed=5)
    use_connections(
        legacy_supervision=urls["legacy"], curated=urls["curated"], bigdata_centre=urls["exchange"]
    )
    _run_0701("run-1", "incremental")
    expected = apply_competence_changes(urls["legacy"], urls["curated"])
    before = exchange_versions(urls["exchange"], "ex_zm_0701")

    _run_0701("run-2", "incremental")
    after_incremental = exchange_versions(urls["exchange"], "ex_zm_0701")
    stamped = expected.updated - expected.snapshot_only
    assert new_versions(before, after_incremental) == {r: "U" for r in stamped} | {
        r: "D" for r in expected.deleted
    }

    _run_0701("run-3", "snapshot")
    after_snapshot = exchange_versions(urls["exchange"], "ex_zm_0701")
    assert new_versions(after_incremental, after_snapshot) == {r: "U" for r in expected.snapshot_only}

    _run_0701("run-4", "snapshot")
    assert new_versions(after_snapshot, exchange_versions(urls["exchange"], "ex_zm_0701")) == {}
