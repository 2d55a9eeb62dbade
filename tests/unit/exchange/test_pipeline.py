"""The 0101 permit flow end to end on SQLite files: extract → standardize → validate → curate → deliver."""

from __future__ import annotations

import sqlalchemy as sa
from change_scenario import change_certificates
from pipeline_checks import LOGICAL, run_twice_and_check

from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from sandbox.legacy import generate_legacy


def test_0101_flow_on_sqlite(tmp_path, use_connections):
    urls = {name: f"sqlite:///{tmp_path / name}.db" for name in ("legacy", "curated", "exchange")}
    generate_legacy(urls["legacy"], scale=0.05, seed=7)
    use_connections(
        legacy_supervision=urls["legacy"], curated=urls["curated"], bigdata_centre=urls["exchange"]
    )
    run_twice_and_check(urls["legacy"], urls["curated"], urls["exchange"])


def test_changed_source_record_becomes_one_new_version(tmp_path, use_connections):
    urls = {name: f"sqlite:///{tmp_path / name}.db" for name in ("legacy", "curated", "exchange")}
    generate_legacy(urls["legacy"], scale=0.05, seed=11)
    use_connections(
        legacy_supervision=urls["legacy"], curated=urls["curated"], bigdata_centre=urls["exchange"]
    )
    run_pipeline(RunContext(run_id="run-1", logical_date=LOGICAL), ["permit_0101"])

    engine = sa.create_engine(urls["curated"])
    with engine.connect() as conn:
        record_id, key, seq = conn.execute(
            sa.text(
                "SELECT record_id, sdx_source_key, sdx_seq FROM cur_permit_0101 WHERE sdx_deleted = 0 ORDER BY record_id LIMIT 1"
            )
        ).one()
    change_certificates(urls["legacy"], {key: "经营：苯、甲苯（不储存）"})
    stats = run_pipeline(RunContext(run_id="run-2", logical_date=LOGICAL), ["permit_0101"])["permit_0101"]
    assert stats["curate"]["updated"] == 1
    assert stats["deliver:bigdata_centre"]["updated"] == 1
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT sdx_seq FROM cur_permit_0101 WHERE record_id = :r"), {"r": record_id}
            ).scalar()
            == seq + 1
        )
