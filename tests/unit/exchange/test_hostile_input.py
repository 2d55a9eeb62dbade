"""Hostile legacy rows (random Unicode, huge values, control characters, SQL text, broken dates and codes).

Each example copies valid 0101 certificates and their enterprises under new ids, fills their fields with
hostile values and runs extract → standardize and validate → curate. The run must complete; each hostile
record is curated with values that fit the catalogue, or quarantined with a clerk's reason; the records
that were there before are curated exactly as in a run without the hostile ones.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline_checks import LOGICAL, connect

from catalog import default_catalog
from exchange.context import RunContext
from exchange.pipeline import prepare
from exchange.steps.curate import curate_resource
from exchange.steps.extract import extract_source
from exchange.steps.standardize import standardize_resource
from quality.issues import issue_kinds
from sandbox.legacy import LEGACY_TABLES, generate_legacy

ZS, QY = LEGACY_TABLES["T_XK_ZS"], LEGACY_TABLES["T_QY_JBXX"]
RESOURCE = "permit_0101"
ROWS_PER_EXAMPLE = 6
EXAMPLES = 25

SQL_TEXT = [
    "'; DROP TABLE T_XK_ZS; --", "1' OR '1'='1", "Robert'); DROP TABLE sdx_quarantine;--", "%s %(x)s :x ? $1",
    "\\'; SELECT pg_sleep(10); --", "`; SHUTDOWN; --", "NULL", "' UNION SELECT password FROM users --",
]  # fmt: skip
BAD_DATES = [
    "2026-02-30", "0000-00-00", "1900-01-01", "2026-13-01", "99999-01-01", "2026/02/29", "昨天", "-1",
    "1e9", "2026-1-1T25:61", "２０２６－０１－０１", "20261301", "", " ", "9999-12-31",
]  # fmt: skip
BAD_CODES = [
    "91320400MA1XXXXXXX", "913204000000000000", "9132040", "ＡＢＣ", "320499", "999999", "320400320400",
    "O0Il1|", "91320400ma1abc1234", "0" * 50,
]  # fmt: skip
hostile = st.one_of(
    st.text(max_size=40),  # any Unicode, control characters and unpaired-surrogate-free planes included
    st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Zs", "Mn"]), min_size=1, max_size=20),
    # Very long values, built by repetition: drawing 12,000 characters one by one overruns hypothesis's buffer.
    st.builds(lambda piece, times: piece * times, st.text(min_size=1, max_size=4), st.integers(1000, 3000)),
    st.sampled_from(SQL_TEXT + BAD_DATES + BAD_CODES),
    st.none(),
)
ZS_FIELDS = ["ZSBH", "FZRQ", "YXQQ", "YXQZ", "FZJG", "XKFW", "JYFS", "ZSZT"]
QY_FIELDS = ["QYMC", "TYSHXYDM", "XZQH", "JYDZ", "FDDBR", "ZCDZ"]
hostile_row = st.fixed_dictionaries({name: hostile for name in ZS_FIELDS + QY_FIELDS})


def _urls(folder: Path) -> dict[str, str]:
    return {name: f"sqlite:///{folder / name}.db" for name in ("legacy", "curated", "exchange")}


def _run(folder: Path) -> None:
    urls = _urls(folder)
    with pytest.MonkeyPatch.context() as patch:
        connect(patch, folder / "home", {"legacy_supervision": urls["legacy"], "curated": urls["curated"]})
        ctx = RunContext(run_id="night-1", logical_date=LOGICAL)
        prepare(ctx)
        extract_source(ctx, "permits", [RESOURCE])
        standardize_resource(ctx, RESOURCE)
        curate_resource(ctx, RESOURCE)


def _curated(folder: Path) -> dict[str, dict[str, object]]:
    """Curated records by record id, without the run id and clock."""
    engine = sa.create_engine(_urls(folder)["curated"])
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(f"SELECT * FROM cur_{RESOURCE}")).mappings()
            return {r["record_id"]: {k: v for k, v in r.items() if k not in ("sdx_run_id", "sdx_updated_at")}
                    for r in rows}  # fmt: skip
    finally:
        engine.dispose()


def _open_quarantine(folder: Path) -> dict[str, list[tuple[str, str]]]:
    engine = sa.create_engine(_urls(folder)["curated"])
    out: dict[str, list[tuple[str, str]]] = {}
    try:
        with engine.connect() as conn:
            for rid, issue, message in conn.execute(
                sa.text("SELECT record_id, issue, message FROM sdx_quarantine WHERE resolved_at IS NULL")
            ):
                out.setdefault(rid, []).append((issue, message))
    finally:
        engine.dispose()
    return out


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> tuple[Path, dict[str, dict[str, object]]]:
    """A generated legacy database and what a run without hostile rows curates from it."""
    template = tmp_path_factory.mktemp("hostile_template")
    generate_legacy(_urls(template)["legacy"], scale=0.01, seed=4)
    folder = tmp_path_factory.mktemp("hostile_baseline")
    shutil.copy(template / "legacy.db", folder / "legacy.db")
    _run(folder)
    curated = _curated(folder)
    assert len(curated) > 10
    return template, curated


def _insert_hostile(legacy_url: str, rows: list[dict[str, str | None]]) -> list[str]:
    engine = sa.create_engine(legacy_url)
    keys = []
    with engine.begin() as conn:
        base = (
            conn.execute(sa.select(ZS).where(ZS.c.SXBM == "0101", ZS.c.QYID.is_not(None)).limit(1))
            .mappings()
            .one()
        )
        enterprise = conn.execute(sa.select(QY).where(base["QYID"] == QY.c.QYID)).mappings().one()
        for n, row in enumerate(rows):
            key, qyid = f"HOSTILE{n:025d}", f"HOSTILEQY{n:023d}"
            conn.execute(QY.insert().values({**enterprise, "QYID": qyid, **{f: row[f] for f in QY_FIELDS}}))
            conn.execute(
                ZS.insert().values({**base, "ZSID": key, "QYID": qyid, **{f: row[f] for f in ZS_FIELDS}})
            )
            keys.append(key)
    engine.dispose()
    return keys


def _longer_than_the_catalogue(record: dict[str, object]) -> list[str]:
    lengths = {i.name: i.length for i in default_catalog().resource(RESOURCE).items if i.length}
    return [
        f"{name}: {len(str(value))} characters"
        for name, value in record.items()
        if name in lengths and value is not None and len(str(value)) > lengths[name]
    ]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
    ],
)
@given(rows=st.lists(hostile_row, min_size=ROWS_PER_EXAMPLE, max_size=ROWS_PER_EXAMPLE))
def test_hostile_rows_are_refused_with_a_reason_and_harm_nothing(baseline, rows):
    template, before = baseline
    with tempfile.TemporaryDirectory(prefix="sdx-hostile-") as work:
        folder = Path(work)
        shutil.copy(template / "legacy.db", folder / "legacy.db")
        keys = _insert_hostile(_urls(folder)["legacy"], rows)
        _run(folder)  # completes: no exception
        curated, quarantined = _curated(folder), _open_quarantine(folder)
        known = issue_kinds()
        for key in keys:
            rid = f"XKZ-{key}"
            if rid in curated:
                assert rid not in quarantined, f"{rid} both curated and quarantined"
                too_long = _longer_than_the_catalogue(curated[rid])
                assert too_long == [], (
                    f"{rid} curated with values longer than the catalogue allows: {too_long}"
                )
            else:
                assert quarantined.get(rid), f"{rid} neither curated nor quarantined"
                for issue, message in quarantined[rid]:
                    assert issue in known and message.strip(), (issue, message)
        for rid, values in before.items():
            assert curated.get(rid) == values, (
                f"{rid}, a valid record, changed because hostile rows came along"
            )
