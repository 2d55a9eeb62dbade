"""The extraction query of a manifest: a table joined by a name takes part only where the name is unique."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from connectors.legacy.query import Window, build_select
from sandbox.legacy import LEGACY_TABLES
from schemas.manifest import manifests

CZZ, QY = LEGACY_TABLES["T_TZZY_CZZ"], LEGACY_TABLES["T_QY_JBXX"]


@pytest.fixture
def legacy(sqlite_url: str) -> sa.Engine:
    engine = sa.create_engine(sqlite_url)
    CZZ.metadata.create_all(engine, tables=[CZZ, QY])
    enterprises = [
        # One live row: the name links.
        ("Q1", "常州甲化工有限公司", "91320400MA1XXXXXX1", "320412", None),
        # The same name entered by two bureau levels: it links neither.
        ("Q2", "常州乙化工有限公司", "91320400MA2XXXXXX2", "320411", "0"),
        ("Q3", "常州乙化工有限公司", "91320400MA2XXXXXX2", "320411", ""),
        # A live row and a deleted twin: the deleted one does not count.
        ("Q4", "常州丙化工有限公司", "91320400MA3XXXXXX3", "320402", "0"),
        ("Q5", "常州丙化工有限公司", "91320400MA3XXXXXX3", "320402", "1"),
    ]
    certificates = ["常州甲化工有限公司", "常州乙化工有限公司", "常州丙化工有限公司", "常州丁化工有限公司"]
    with engine.begin() as conn:
        conn.execute(
            QY.insert(),
            [
                {"QYID": q, "QYMC": n, "TYSHXYDM": c, "XZQH": x, "SCBZ": s, "GXSJ": dt.datetime(2020, 1, 1)}
                for q, n, c, x, s in enterprises
            ],
        )
        conn.execute(
            CZZ.insert(),
            [
                {"CZZID": f"C{i}", "QYMC": name, "GXSJ": dt.datetime(2020, 1, 1)}
                for i, name in enumerate(certificates, start=1)
            ],
        )
    yield engine
    engine.dispose()


def test_a_name_links_the_one_live_enterprise_that_carries_it(legacy: sa.Engine):
    manifest = manifests()["special_operation_certificates"]
    with legacy.connect() as conn:
        rows = conn.execute(build_select(manifest, [], Window())).mappings().all()
    linked = {row["czz.CZZID"]: row["qy.XZQH"] for row in rows}
    assert linked == {"C1": "320412", "C2": None, "C3": "320402", "C4": None}


def test_a_change_of_the_linked_enterprise_brings_the_certificate_along(legacy: sa.Engine):
    manifest = manifests()["special_operation_certificates"]
    with legacy.begin() as conn:
        conn.execute(QY.update().where(QY.c.QYID == "Q1").values(GXSJ=dt.datetime(2026, 11, 28)))
    with legacy.connect() as conn:
        rows = conn.execute(build_select(manifest, [], Window(since=dt.datetime(2026, 11, 1)))).all()
    assert [row[0] for row in rows] == ["C1"]
