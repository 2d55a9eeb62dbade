"""hazchem_enterprises built from curated enterprises, 01xx permits, 0602 filings and integrity declarations.

The enterprise master and the declarations have no legacy manifest in this suite: their curated rows are
written here, as their curate step would leave them.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from pipeline_checks import LOGICAL

from catalog import default_catalog
from exchange import state
from exchange.context import RunContext, shanghai_now
from exchange.pipeline import run_pipeline

FLAGGED, HOLDER, LAPSED = "91350100M000100Y43", "91110000600037341L", "91310115591693856A"
UNKNOWN = "91310110666007217T"  # holds a permit, but the enterprise master has no row for it


def _enterprise(uscc: str, flagged: bool) -> dict:
    return {
        "tyshxydm": uscc, "qymc": f"常州市{uscc[-4:]}化工有限公司", "xzqhdm": "320412", "jydz": "武进区测试路1号",
        "fddbr": "王某", "aqfzr": "李某", "cyrs": 120, "sfwhqy": int(flagged),
    }  # fmt: skip


def _permit(uscc: str, status: str) -> dict:
    return {"tyshxydm": uscc, "qymc": "常州市测试化工有限公司", "zszt": status, "zsbh": f"ZS-{uscc}"}


def _write(url: str, run_id: str, when: dt.datetime, rows: dict[str, dict[str, dict]], deleted=()) -> None:
    """Curated rows of several resources (resource → record id → items), as curate leaves them."""
    catalog = default_catalog()
    engine = sa.create_engine(url)
    state.create_all(engine, catalog.resources.values())
    with engine.begin() as conn:
        for name, records in rows.items():
            table = state.curated(catalog.resource(name))
            for record_id, items in records.items():
                seq = (
                    conn.execute(sa.select(table.c.sdx_seq).where(table.c.record_id == record_id)).scalar()
                    or 0
                )
                conn.execute(table.delete().where(table.c.record_id == record_id))
                conn.execute(table.insert().values(
                    record_id=record_id, **items, sdx_source_key=record_id, sdx_deleted=record_id in deleted,
                    sdx_digest=f"{seq + 1:064d}", sdx_seq=seq + 1, sdx_run_id=run_id, sdx_updated_at=when,
                ))  # fmt: skip
    engine.dispose()


def _hazchem(url: str) -> dict[str, sa.Row]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = {r.tyshxydm: r for r in conn.execute(sa.text("SELECT * FROM cur_hazchem_enterprises"))}
    engine.dispose()
    return rows


def _run(run_id: str) -> dict:
    return run_pipeline(RunContext(run_id=run_id, logical_date=LOGICAL), ["hazchem_enterprises"])[
        "hazchem_enterprises"
    ]


@pytest.fixture
def curated_url(sqlite_url, use_connections):
    use_connections(curated=sqlite_url)
    earlier = shanghai_now() - dt.timedelta(hours=1)
    _write(sqlite_url, "run-0", earlier, {
        "enterprises": {f"QY-{u}": _enterprise(u, u == FLAGGED) for u in (FLAGGED, HOLDER, LAPSED)},
        "permit_0103": {"XKZ-1": _permit(HOLDER, "01")},
        "permit_0101": {"XKZ-2": _permit(LAPSED, "05")},
        "permit_0104": {"XKZ-3": _permit(UNKNOWN, "01")},
        "filing_0602": {f"ZDWXY-{i}": {"tyshxydm": FLAGGED, "babh": f"BA-{i}"} for i in (1, 2)},
        "integrity_declarations": {
            "CXSB-1": {"tyshxydm": FLAGGED, "sbnd": 2024, "sbrq": dt.date(2024, 3, 1), "qylb": json.dumps(["JY"])},
            "CXSB-2": {"tyshxydm": FLAGGED, "sbnd": 2025, "sbrq": dt.date(2025, 3, 1), "qylb": json.dumps(["SC", "YBHG"])},
        },
    })  # fmt: skip
    return sqlite_url


def test_flagged_enterprises_and_holders_of_a_valid_01xx_permit_are_hazchem_enterprises(curated_url):
    stats = _run("run-1")
    # The one holder the master lacks is held back, saying so.
    assert stats["standardize"]["quarantined"] == 1
    assert stats["standardize"]["quarantined_by_issue"]["enterprise.not_in_master"] == 1
    built = _hazchem(curated_url)
    assert set(built) == {FLAGGED, HOLDER}  # the lapsed permit's holder is no hazchem enterprise
    flagged, holder = built[FLAGGED], built[HOLDER]
    assert json.loads(flagged.qylb) == ["SC", "YBHG"]  # the latest declaration's categories
    assert json.loads(holder.qylb) == ["SY"]  # the safe-use licence
    assert (flagged.zdwxysl, holder.zdwxysl) == (2, 0)
    assert (flagged.qymc, flagged.cyrs, flagged.record_id) == (
        _enterprise(FLAGGED, True)["qymc"],
        120,
        "WHQY-" + FLAGGED,
    )


def test_changed_inputs_rebuild_their_enterprise_and_a_lost_permit_deletes_it(curated_url):
    _run("run-1")
    before = _hazchem(curated_url)
    _write(curated_url, "run-2", shanghai_now(), {
        "filing_0602": {"ZDWXY-3": {"tyshxydm": FLAGGED, "babh": "BA-3"}},
        "permit_0103": {"XKZ-1": _permit(HOLDER, "01")},
    }, deleted={"XKZ-1"})  # fmt: skip
    cur = _run("run-2")["curate"]
    assert (cur["inserted"], cur["updated"], cur["deleted"]) == (0, 1, 1)
    after = _hazchem(curated_url)
    assert after[FLAGGED].zdwxysl == 3 and after[FLAGGED].sdx_seq == before[FLAGGED].sdx_seq + 1
    assert after[HOLDER].sdx_deleted

    again = _run("run-3")["curate"]
    assert again["inserted"] == again["updated"] == again["deleted"] == 0
    assert {r.sdx_run_id for r in _hazchem(curated_url).values()} <= {"run-1", "run-2"}
