"""Merging the rows of one enterprise: old codes resolved by a twin row, the canonical row, deletes."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa
from stdnum.iso7064 import mod_11_10

from catalog import default_catalog
from exchange import state
from exchange.steps import merge
from quality.records import standardize_records
from quality.standardize.enterprise_codes import organisation_code_check_char
from quality.validation import judge
from sandbox.legacy.codes import make_uscc
from schemas.manifest import manifests

MANIFEST = manifests()["enterprises"]
RESOURCE = default_catalog().resource("enterprises")
NOW = dt.datetime(2026, 11, 29, 2, 0)
ORG = "12345678" + organisation_code_check_char("12345678")
USCC = make_uscc("320412", ORG)
OTHER_ORG = "87654321" + organisation_code_check_char("87654321")
OTHER = make_uscc("320412", OTHER_ORG)
REGISTRATION = "32040000012345" + mod_11_10.calc_check_digit("32040000012345")


def _row(qyid: str, **columns) -> dict:
    row = {
        "qy.QYID": qyid, "qy.QYMC": "常州市华达化工有限公司", "qy.TYSHXYDM": USCC, "qy.XZQH": "320412",
        "qy.FDDBR": "张三", "qy.FDDBRDH": "13912345678", "qy.LRDW": "320412", "qy.GXSJ": None, "qy.SCBZ": None,
    }  # fmt: skip
    return {f"qy.{k}" if not k.startswith("qy.") else k: v for k, v in {**row, **columns}.items()}


def _judged(rows: list[dict], twins: merge.TwinIndex | None = None) -> pd.DataFrame:
    """Rows as the standardize step writes them: resolved, ranked, judged; the quarantined ones too."""
    catalog = default_catalog()
    raw = pd.DataFrame(rows)
    batch = standardize_records(RESOURCE, MANIFEST, raw, catalog)
    batch = merge.with_rank((twins or merge.TwinIndex(pd.Series(), pd.Series())).resolve(batch, MANIFEST),
                            MANIFEST, raw)  # fmt: skip
    return judge(RESOURCE, batch, catalog, NOW.date()).records


@pytest.fixture
def conn():
    engine = sa.create_engine("sqlite://")
    state.metadata.create_all(engine, tables=[state.merged_rows])
    with engine.begin() as connection:
        yield connection
    engine.dispose()


def _curate(conn: sa.Connection, rows: list[dict], read_keys: set[str] | None = None) -> pd.DataFrame:
    twins = merge.TwinIndex.build(conn, RESOURCE, MANIFEST, pd.DataFrame(rows), default_catalog())
    judged = _judged(rows, twins)
    valid = judged[~judged["quarantined"]]
    records, _ = merge.curate_merged(conn, RESOURCE, MANIFEST, [valid], read_keys, "run", NOW)
    return records.set_index("record_id")


def test_bureau_levels():
    assert [merge.bureau_level(c) for c in ("320400", "320412", "320412101", None, "市局")] == [0, 1, 2, 3, 3]


def test_an_organisation_code_takes_the_uscc_of_its_twin_in_the_same_division():
    rows = [
        _row("A", **{"QYMC": "华达化工有限公司 ", "TYSHXYDM": ORG[:8] + "-" + ORG[8]}),
        _row("B"),
        # Same name in another division: not a twin, so its old code stays unresolved.
        _row("C", **{"TYSHXYDM": ORG, "XZQH": "320481"}),
    ]
    judged = _judged(rows, merge.TwinIndex.build(_empty_conn(), RESOURCE, MANIFEST, pd.DataFrame(rows),
                                                 default_catalog()))  # fmt: skip
    assert judged.loc[0, "tyshxydm"] == USCC and not judged.loc[0, "quarantined"]
    assert judged.loc[2, "quarantined"]


def test_a_registration_number_without_twin_is_quarantined_with_its_reason():
    catalog = default_catalog()
    raw = pd.DataFrame([_row("A", TYSHXYDM=REGISTRATION)])
    batch = merge.TwinIndex(pd.Series(), pd.Series()).resolve(
        standardize_records(RESOURCE, MANIFEST, raw, catalog), MANIFEST
    )
    verdict = judge(RESOURCE, batch, catalog, NOW.date())
    assert verdict.records.loc[0, "quarantined"]
    assert "uscc.registration_number" in set(verdict.findings["issue"])


def _empty_conn() -> sa.Connection:
    engine = sa.create_engine("sqlite://")
    state.metadata.create_all(engine, tables=[state.merged_rows])
    return engine.connect()


def test_one_record_per_uscc_from_the_newest_row_city_first_on_a_tie(conn):
    records = _curate(
        conn,
        [
            _row("T1", FDDBRDH="13900000001", LRDW="320412101"),
            _row("D1", FDDBRDH="13900000002", LRDW="320412"),
            _row("C1", FDDBRDH="13900000003", LRDW="320400"),
            _row("X1", TYSHXYDM=OTHER, QYMC="另一家公司", GXSJ=dt.datetime(2020, 1, 1)),
        ],
    )
    assert set(records.index) == {"QY-" + USCC, "QY-" + OTHER}
    # None is stamped: the city's row speaks for the enterprise.
    assert records.loc["QY-" + USCC, "fddbrdh"] == "13900000003"
    assert records.loc["QY-" + USCC, "source_key"] == "C1"

    # The town's row is updated (newest now): it speaks for the enterprise; the other rows are re-read
    # from the merged rows, not from the batch.
    records = _curate(conn, [_row("T1", FDDBRDH="13900000009", LRDW="320412101", GXSJ=NOW)])
    assert records.loc["QY-" + USCC, "fddbrdh"] == "13900000009"
    assert not records.loc["QY-" + USCC, "deleted"]


def test_a_twin_with_an_old_code_added_later_joins_its_enterprise_through_the_merged_rows(conn):
    _curate(conn, [_row("D1")])
    records = _curate(conn, [_row("C1", TYSHXYDM=ORG, QYMC="华达化工有限公司", LRDW="320400", GXSJ=NOW)])
    assert list(records.index) == ["QY-" + USCC]
    assert records.loc["QY-" + USCC, "source_key"] == "C1"
    assert records.loc["QY-" + USCC, "qymc"] == "华达化工有限公司"


def test_deleting_one_twin_keeps_the_enterprise_deleting_all_deletes_it(conn):
    _curate(conn, [_row("D1"), _row("C1", LRDW="320400")])
    records = _curate(conn, [_row("C1", LRDW="320400", SCBZ="1", GXSJ=NOW)])
    assert not records.loc["QY-" + USCC, "deleted"]
    assert records.loc["QY-" + USCC, "source_key"] == "D1"
    # The last live row vanishes from a full read: the enterprise is deleted.
    records = _curate(conn, [_row("X1", TYSHXYDM=OTHER, QYMC="另一家公司")], read_keys={"X1", "C1"})
    assert records.loc["QY-" + USCC, "deleted"]
    assert not records.loc["QY-" + OTHER, "deleted"]


def test_a_row_whose_code_changes_leaves_its_old_enterprise(conn):
    _curate(conn, [_row("D1")])
    records = _curate(conn, [_row("D1", TYSHXYDM=OTHER, GXSJ=NOW)])
    assert records.loc["QY-" + USCC, "deleted"]
    assert not records.loc["QY-" + OTHER, "deleted"]


def test_missing_values_stay_none_in_the_rebuilt_records(conn):
    records = _curate(
        conn, [_row("D1", JYDZ=None), _row("X1", TYSHXYDM=OTHER, QYMC="另一家公司", JYDZ="新北区1号")]
    )
    assert records.loc["QY-" + USCC, "jydz"] is None
