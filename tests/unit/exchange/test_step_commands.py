"""Each step as its own `sdx` command, sharing a run id; and a bounded backfill that leaves the watermark."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from pipeline_checks import LOGICAL, scalar

from exchange.cli import main
from sandbox.legacy import LEGACY_TABLES, generate_legacy

ZS = LEGACY_TABLES["T_XK_ZS"]


def _steps(run_id: str, *mode: str) -> None:
    common = ["--run-id", run_id, "--logical-date", LOGICAL.isoformat(), *mode]
    assert main(["extract", *common, "--source", "permits", "--resources", "permit_0101"]) == 0
    for step in ("standardize", "curate", "deliver"):
        assert main([step, *common, "--resource", "permit_0101"]) == 0


def test_steps_one_by_one_then_a_backfill_window(tmp_path, use_connections, capsys):
    urls = {name: f"sqlite:///{tmp_path / name}.db" for name in ("legacy", "curated", "exchange")}
    generate_legacy(urls["legacy"], scale=0.03, seed=4)
    use_connections(
        legacy_supervision=urls["legacy"], curated=urls["curated"], bigdata_centre=urls["exchange"]
    )

    _steps("steps-1")
    live = scalar(urls["curated"], "SELECT COUNT(*) FROM cur_permit_0101 WHERE sdx_deleted = 0")
    assert live > 0
    assert scalar(urls["exchange"], "SELECT COUNT(*) FROM ex_xk_0101") == live
    watermark = scalar(urls["curated"], "SELECT changed_until FROM sdx_watermark")
    assert '"rows_read"' in capsys.readouterr().out, "each step prints its result"

    # A row re-stamped inside an old window: the backfill of that window picks it up, nothing else moves.
    key = scalar(
        urls["curated"],
        "SELECT sdx_source_key FROM cur_permit_0101 WHERE sdx_deleted = 0 ORDER BY record_id LIMIT 1",
    )
    legacy = sa.create_engine(urls["legacy"])
    with legacy.begin() as conn:
        conn.execute(
            ZS.update()
            .where(key == ZS.c.ZSID)
            .values(XKFW="经营：甲苯（储存）", GXSJ=dt.datetime(2015, 6, 1, 12))
        )
    legacy.dispose()
    before = scalar(urls["exchange"], "SELECT MAX(hj_xh) FROM ex_xk_0101")
    _steps(
        "backfill-2015",
        "--mode",
        "backfill",
        "--since",
        "2015-06-01T00:00:00",
        "--until",
        "2015-06-02T00:00:00",
    )
    assert scalar(urls["exchange"], "SELECT MAX(hj_xh) FROM ex_xk_0101") == before + 1
    assert (
        scalar(urls["exchange"], f"SELECT hj_jlid FROM ex_xk_0101 WHERE hj_xh = {before + 1}") == "XKZ-" + key
    )
    assert scalar(urls["curated"], "SELECT changed_until FROM sdx_watermark") == watermark, (
        "a backfill leaves the watermark"
    )


def test_backfill_without_a_window_is_refused_before_anything_runs(capsys):
    import pytest

    with pytest.raises(SystemExit) as exit_info:
        main(
            ["extract", "--run-id", "x", "--source", "permits", "--mode", "backfill", "--since", "2020-01-01"]
        )
    assert exit_info.value.code == 2
    assert "--mode backfill needs a window" in capsys.readouterr().err
