"""The batch-level quality gate holds a resource back instead of curating and delivering a bad batch."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from change_scenario import exchange_versions
from pipeline_checks import LOGICAL, scalar

from catalog import default_catalog
from exchange.cli import main
from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from sandbox.legacy import generate_legacy


def _loaded(tmp_path, use_connections) -> dict[str, str]:
    urls = {name: f"sqlite:///{tmp_path / name}.db" for name in ("legacy", "curated", "exchange")}
    generate_legacy(urls["legacy"], scale=0.05, seed=8)
    use_connections(
        legacy_supervision=urls["legacy"], curated=urls["curated"], bigdata_centre=urls["exchange"]
    )
    return urls


def test_a_half_truncated_source_is_held_not_deleted(tmp_path, use_connections, capsys):
    urls = _loaded(tmp_path, use_connections)
    run_pipeline(RunContext(run_id="run-1", logical_date=LOGICAL), ["permit_0101"])
    live = scalar(urls["curated"], "SELECT COUNT(*) FROM cur_permit_0101 WHERE sdx_deleted = 0")
    watermark = scalar(urls["curated"], "SELECT changed_until FROM sdx_watermark")
    before = exchange_versions(urls["exchange"], "ex_xk_0101")

    legacy = sa.create_engine(urls["legacy"])
    with legacy.begin() as conn:  # an operator restored half a table
        conn.execute(sa.text('DELETE FROM "T_XK_ZS" WHERE rowid % 2 = 0'))
    legacy.dispose()

    code = main(
        [
            "run",
            "--run-id",
            "run-2",
            "--mode",
            "snapshot",
            "--logical-date",
            LOGICAL.isoformat(),
            "--resources",
            "permit_0101",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1 and "quality gate held back permit_0101" in err
    assert "HELD by the quality gate: count:rows_read" in out
    assert scalar(urls["curated"], "SELECT COUNT(*) FROM cur_permit_0101 WHERE sdx_deleted = 0") == live
    assert exchange_versions(urls["exchange"], "ex_xk_0101") == before, "nothing was delivered"
    assert scalar(urls["curated"], "SELECT status FROM sdx_run WHERE run_id = 'run-2'") == "held"
    assert scalar(urls["curated"], "SELECT changed_until FROM sdx_watermark") == watermark


def test_too_many_quarantined_records_hold_the_resource(tmp_path, use_connections):
    urls = _loaded(tmp_path, use_connections)
    catalog = default_catalog()
    strict = dataclasses.replace(
        catalog, settings={**catalog.settings, "quality_gate": {"max_quarantined_share": 0.01}}
    )
    stats = run_pipeline(RunContext(run_id="run-1", logical_date=LOGICAL, catalog=strict), ["permit_0101"])[
        "permit_0101"
    ]
    assert stats["curate"]["held"] is True
    assert any(reason.startswith("share:quarantined") for reason in stats["curate"]["reasons"])
    assert stats["deliver:bigdata_centre"]["held"] is True
    assert scalar(urls["curated"], "SELECT COUNT(*) FROM cur_permit_0101") == 0
    # With the shipped limits the same data goes through.
    stats = run_pipeline(RunContext(run_id="run-2", logical_date=LOGICAL), ["permit_0101"])["permit_0101"]
    assert not stats["curate"].get("held") and stats["curate"]["inserted"] > 0


def test_a_resource_not_shared_with_the_centre_is_not_delivered_there(tmp_path, use_connections):
    from exchange.steps.deliver_exchange_db import deliver_resource

    use_connections(curated=f"sqlite:///{tmp_path / 'c.db'}")
    result = deliver_resource(RunContext(run_id="r", logical_date=LOGICAL), "enterprises")
    assert result["sent"] == 0 and "not shared" in result["skipped"]


def test_a_small_batch_is_not_judged_by_its_share(tmp_path, use_connections):
    urls = _loaded(tmp_path, use_connections)
    catalog = default_catalog()
    strict = dataclasses.replace(
        catalog,
        settings={**catalog.settings, "quality_gate": {"max_quarantined_share": 0.01, "min_rows": 10_000}},
    )
    stats = run_pipeline(RunContext(run_id="run-1", logical_date=LOGICAL, catalog=strict), ["permit_0101"])[
        "permit_0101"
    ]
    assert stats["standardize"]["quarantined"] > 0
    assert not stats["curate"].get("held")
    assert scalar(urls["curated"], "SELECT COUNT(*) FROM cur_permit_0101") > 0
