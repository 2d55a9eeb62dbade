"""A record joined to an enterprise row with an old code: refused until the master resolves it, then stable."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from pipeline_checks import LOGICAL, query_rows
from stdnum.iso7064 import mod_11_10

from exchange.context import RunContext, shanghai_now
from exchange.pipeline import run_pipeline
from sandbox.legacy import LEGACY_TABLES, QUIRKS, generate_legacy

RESOURCES = ["enterprises", "integrity_declarations"]
QY, SB = LEGACY_TABLES["T_QY_JBXX"], LEGACY_TABLES["T_WH_CXSB"]
REGISTRATION = "32040000098765" + mod_11_10.calc_check_digit("32040000098765")


def _declared_enterprise(legacy_url: str) -> sa.Row:
    """A live enterprise row with a live declaration, the only live row of its name."""
    (row, *_) = query_rows(
        legacy_url,
        "SELECT q.* FROM T_QY_JBXX q WHERE COALESCE(q.SCBZ, '0') <> '1' AND LENGTH(q.TYSHXYDM) = 18"
        " AND EXISTS (SELECT 1 FROM T_WH_CXSB s WHERE s.QYID = q.QYID AND COALESCE(s.SCBZ, '0') <> '1')"
        " AND (SELECT COUNT(*) FROM T_QY_JBXX o WHERE o.QYMC = q.QYMC) = 1 ORDER BY q.QYID",
    )
    return row


def _run(run_id: str, day: int) -> None:
    run_pipeline(RunContext(run_id=run_id, logical_date=LOGICAL + dt.timedelta(days=day)), RESOURCES)


def test_a_declaration_is_freed_when_the_enterprises_twin_arrives_and_stays_unchanged(
    tmp_path, use_connections
):
    urls = {name: f"sqlite:///{tmp_path / name}.db" for name in ("legacy", "curated", "exchange")}
    # No quirks: the old code put in below is the only reason a declaration is refused.
    generate_legacy(urls["legacy"], scale=0.02, seed=5, rates=dict.fromkeys(QUIRKS, 0.0))
    use_connections(
        legacy_supervision=urls["legacy"], curated=urls["curated"], bigdata_centre=urls["exchange"]
    )
    enterprise = _declared_enterprise(urls["legacy"])
    uscc = enterprise.TYSHXYDM
    legacy = sa.create_engine(urls["legacy"])
    # The only row of the enterprise carries its old registration number: nothing can resolve it.
    with legacy.begin() as conn:
        conn.execute(QY.update().where(QY.c.QYID == enterprise.QYID).values(TYSHXYDM=REGISTRATION))
    _run("run-1", 0)
    keys = [r.SBID for r in query_rows(urls["legacy"], "SELECT SBID FROM T_WH_CXSB WHERE QYID = :q AND COALESCE(SCBZ, '0') <> '1'", q=enterprise.QYID)]  # fmt: skip
    refused = _open(urls["curated"], keys)
    assert refused and all(r.issue == "uscc.registration_number" for r in refused)

    # Another bureau enters the same enterprise with its USCC: the master resolves the old row by it.
    twin = {c.name: getattr(enterprise, c.name) for c in QY.columns}
    with legacy.begin() as conn:
        conn.execute(
            QY.insert().values({**twin, "QYID": "TWIN" + enterprise.QYID[:28], "GXSJ": shanghai_now()})
        )
    legacy.dispose()
    _run("run-2", 1)

    assert _open(urls["curated"], keys) == []
    curated = _curated(urls["curated"], keys)
    assert {r.tyshxydm for r in curated} == {uscc} and len(curated) == len(keys)

    _run("run-3", 2)
    assert _curated(urls["curated"], keys) == curated  # same value, digest and sequence: nothing changed


def _open(url: str, keys: list[str]) -> list[sa.Row]:
    found = query_rows(
        url,
        "SELECT source_key, issue FROM sdx_quarantine WHERE resource = 'integrity_declarations'"
        " AND item = 'tyshxydm' AND resolved_at IS NULL",
    )
    return [r for r in found if r.source_key in keys]


def _curated(url: str, keys: list[str]) -> list[sa.Row]:
    found = query_rows(
        url, "SELECT sdx_source_key, tyshxydm, sdx_digest, sdx_seq FROM cur_integrity_declarations"
    )
    return sorted((r for r in found if r.sdx_source_key in keys), key=lambda r: r.sdx_source_key)
