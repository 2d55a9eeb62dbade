"""Changed records found table by table and read by key: the same rows a windowed pass over the join reads."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors.legacy.changes import (
    SharedChanges,
    TooManyChanges,
    changed_keys,
    read_by_key,
    shared_columns,
)
from connectors.legacy.hook import LegacySupervisionHook
from connectors.legacy.query import Window, build_select
from sandbox.legacy import LEGACY_TABLES, generate_legacy
from schemas.manifest import Manifest, manifests

STAMP = dt.datetime(2030, 1, 1, 8, 0)
WINDOW = Window(since=STAMP - dt.timedelta(days=2))
QY, CZZ = LEGACY_TABLES["T_QY_JBXX"], LEGACY_TABLES["T_TZZY_CZZ"]


@pytest.fixture
def hook(sqlite_url, use_connections):
    use_connections(legacy_supervision=sqlite_url)
    legacy = LegacySupervisionHook()
    yield legacy
    legacy.dispose()


def _stamp_some_rows(url: str) -> None:
    # A few rows of every table with a change column, the enterprise ones among those records refer to.
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        stamped = (
            "T_XK_ZS",
            "T_XK_SQ",
            "T_BA_YJYA",
            "T_ZDWXY",
            "T_PX_KHHG",
            "T_TZZY_CZZ",
            "T_HY_JGXX",
            "T_WH_CXSB",
        )
        for name in (*stamped, "T_QY_JBXX"):
            table = LEGACY_TABLES[name]
            key = next(iter(table.primary_key.columns))
            chosen = conn.execute(sa.select(key).order_by(key).limit(3)).scalars().all()
            conn.execute(table.update().where(key.in_(chosen)).values(GXSJ=STAMP))
        for name in ("T_XK_ZS", "T_XK_SQ", "T_BA_YJYA", "T_ZDWXY", "T_PX_KHHG", "T_HY_JGXX", "T_WH_CXSB"):
            table = LEGACY_TABLES[name]
            referenced = conn.execute(
                sa.select(table.c.QYID)
                .where(table.c.QYID.is_not(None))
                .order_by(table.c.QYID.desc())
                .limit(2)
            )
            conn.execute(QY.update().where(QY.c.QYID.in_(referenced.scalars().all())).values(GXSJ=STAMP))
        named = conn.execute(sa.select(CZZ.c.QYMC).where(CZZ.c.QYMC.is_not(None)).limit(2)).scalars().all()
        conn.execute(QY.update().where(QY.c.QYMC.in_(named)).values(GXSJ=STAMP, SCBZ="1"))
    engine.dispose()


def _rows(batches) -> list[dict]:
    return [row for batch in batches for row in pa.Table.from_batches([batch]).to_pylist()]


def _read_by_key(hook: LegacySupervisionHook, manifest: Manifest, keys: list[str]) -> list[dict]:
    values = manifest.partition_values(manifest.resources())
    timestamps = set(manifest.change_labels())
    return _rows(read_by_key(hook, manifest, values, keys, timestamp_columns=timestamps, batch_size=2))


@pytest.mark.parametrize("source", sorted(manifests()))
def test_records_read_by_key_are_those_the_windowed_join_reads(hook, sqlite_url, source):
    generate_legacy(sqlite_url, scale=0.02, seed=3)
    _stamp_some_rows(sqlite_url)
    manifest = manifests()[source]
    values = manifest.partition_values(manifest.resources())
    windowed = _rows(
        hook.read_batches(
            build_select(manifest, values, WINDOW), timestamp_columns=set(manifest.change_labels())
        )
    )
    keys = changed_keys(hook, manifest, values, WINDOW, limit=10_000)
    assert windowed, "the stamps must reach some records of every source"
    by_key = _read_by_key(hook, manifest, keys)
    if any(t.unique_match for t in manifest.tables.values()):
        # A deleted enterprise row changes which names are unique: reading by key catches those records too.
        assert [
            r for r in by_key if r[manifest.key_label] in {w[manifest.key_label] for w in windowed}
        ] == windowed
    else:
        assert by_key == windowed


def test_deleting_a_name_twin_links_the_certificate_to_the_remaining_enterprise(hook, sqlite_url):
    engine = sa.create_engine(sqlite_url)
    QY.metadata.create_all(engine, tables=[QY, CZZ])
    old = dt.datetime(2020, 1, 1)
    with engine.begin() as conn:
        conn.execute(
            QY.insert(),
            [
                {"QYID": "Q1", "QYMC": "常州丙化工有限公司", "XZQH": "320402", "SCBZ": "0", "GXSJ": old},
                {"QYID": "Q2", "QYMC": "常州丙化工有限公司", "XZQH": "320411", "SCBZ": "0", "GXSJ": old},
                {"QYID": "Q3", "QYMC": "常州丁化工有限公司", "XZQH": "320412", "SCBZ": "0", "GXSJ": old},
            ],
        )
        conn.execute(
            CZZ.insert(),
            [
                {"CZZID": "C1", "QYMC": "常州丙化工有限公司", "GXSJ": old},
                {"CZZID": "C2", "QYMC": "常州丁化工有限公司", "GXSJ": old},
            ],
        )
        # The twin is deleted: the name is now unique, so C1 links Q1, though neither C1 nor Q1 changed.
        conn.execute(QY.update().where(QY.c.QYID == "Q2").values(SCBZ="1", GXSJ=STAMP))
    engine.dispose()
    manifest = manifests()["special_operation_certificates"]
    keys = changed_keys(hook, manifest, [], WINDOW, limit=100)
    assert keys == ["C1"]
    assert [(r["czz.CZZID"], r["qy.XZQH"]) for r in _read_by_key(hook, manifest, keys)] == [("C1", "320402")]


def test_more_changes_than_the_limit_are_refused_rather_held(hook, sqlite_url):
    generate_legacy(sqlite_url, scale=0.02, seed=3)
    _stamp_some_rows(sqlite_url)
    manifest = manifests()["permits"]
    values = manifest.partition_values(manifest.resources())
    assert len(changed_keys(hook, manifest, values, WINDOW, limit=10_000)) > 1
    with pytest.raises(TooManyChanges):
        changed_keys(hook, manifest, values, WINDOW, limit=1)


def _scans_of(hook: LegacySupervisionHook, monkeypatch, *tables: str) -> dict[str, list[str]]:
    # The statements that read one of `tables` alone: the scans for its changed rows.
    scans: dict[str, list[str]] = {table: [] for table in tables}
    read = hook.read_batches

    def tables(stmt: sa.Select) -> list[str]:
        # A subquery of one table (the primary table's changes, flagged) reads that table alone.
        froms = stmt.get_final_froms()
        if len(froms) == 1 and isinstance(froms[0], sa.Subquery) and isinstance(froms[0].element, sa.Select):
            return tables(froms[0].element)
        return [str(f) for f in froms]

    def counting(stmt, **kwargs):
        froms = tables(stmt)
        if len(froms) == 1 and froms[0] in scans:
            scans[froms[0]].append(str(stmt))
        return read(stmt, **kwargs)

    monkeypatch.setattr(hook, "read_batches", counting)
    return scans


def test_the_sources_of_a_run_share_the_scans_of_a_common_table(hook, sqlite_url, tmp_path, monkeypatch):
    generate_legacy(sqlite_url, scale=0.02, seed=3)
    _stamp_some_rows(sqlite_url)
    alone = {}
    for source, manifest in sorted(manifests().items()):
        values = manifest.partition_values(manifest.resources())
        alone[source] = changed_keys(hook, manifest, values, WINDOW, limit=10_000)
    scans = _scans_of(hook, monkeypatch, "T_QY_JBXX", "T_XK_SQ")
    shared = SharedChanges(tmp_path, shared_columns(manifests().values()))
    for number, (source, manifest) in enumerate(sorted(manifests().items())):
        values = manifest.partition_values(manifest.resources())
        # Each source's window starts a little later than the first's, as their watermarks do.
        window = Window(since=WINDOW.since + dt.timedelta(seconds=number))
        assert changed_keys(hook, manifest, values, window, limit=10_000, shared=shared) == alone[source]
    readers = [s for s, m in manifests().items() if any(t.table == "T_QY_JBXX" for t in m.tables.values())]
    assert len(readers) > 2
    # One scan for all of them, QYID and QYMC (the name match) read together.
    assert len(scans["T_QY_JBXX"]) == 1
    # T_XK_SQ is the cases' own table: the scan for their changed records keeps its changed SQIDs for
    # the permits, which join it.
    assert len(scans["T_XK_SQ"]) == 1


def test_a_scan_reaches_back_to_the_earliest_window_of_the_run(hook, sqlite_url, tmp_path, monkeypatch):
    generate_legacy(sqlite_url, scale=0.02, seed=3)
    _stamp_some_rows(sqlite_url)
    sources = sorted(manifests().items())
    # Each source's window starts earlier than the one before, further apart than the slack: the first
    # scans reach back to the earliest (the watermarks of the run's sources, read before the run).
    windows = {
        s: Window(since=WINDOW.since - number * dt.timedelta(hours=12))
        for number, (s, _) in enumerate(sources)
    }
    alone = {}
    for source, manifest in sources:
        values = manifest.partition_values(manifest.resources())
        alone[source] = changed_keys(hook, manifest, values, windows[source], limit=10_000)
    scans = _scans_of(hook, monkeypatch, "T_QY_JBXX", "T_XK_SQ")
    earliest = min(w.since for w in windows.values() if w.since is not None)
    shared = SharedChanges(tmp_path, shared_columns(manifests().values()), reach=earliest)
    for source, manifest in sources:
        values = manifest.partition_values(manifest.resources())
        found = changed_keys(hook, manifest, values, windows[source], limit=10_000, shared=shared)
        assert found == alone[source], source
    assert len(scans["T_QY_JBXX"]) == 1
    # The cases' own scan (their window starts later than the permits') kept T_XK_SQ for the permits.
    assert len(scans["T_XK_SQ"]) == 1


def test_a_window_reaching_further_back_than_the_shared_scan_scans_again(hook, sqlite_url, tmp_path):
    generate_legacy(sqlite_url, scale=0.02, seed=3)
    _stamp_some_rows(sqlite_url)
    engine = sa.create_engine(sqlite_url)
    earlier = WINDOW.since - SharedChanges.SLACK - dt.timedelta(days=1)
    with engine.begin() as conn:
        qy, since = QY.c, WINDOW.since
        first = conn.execute(
            sa.select(qy.QYID).where(qy.GXSJ.between(dt.datetime(1900, 1, 1), since)).limit(1)
        ).scalar_one()
        conn.execute(QY.update().where(qy.QYID.in_([first])).values(GXSJ=earlier))
    engine.dispose()
    shared = SharedChanges(tmp_path)
    later = shared.values(hook, "T_QY_JBXX", ["QYID"], "GXSJ", WINDOW, limit=10_000)
    assert (first,) not in later and later
    wider = shared.values(hook, "T_QY_JBXX", ["QYID"], "GXSJ", Window(since=earlier), limit=10_000)
    assert wider == later | {(first,)}
    # The wider scan is kept: the narrower window is now answered from it, with the same values.
    assert shared.values(hook, "T_QY_JBXX", ["QYID"], "GXSJ", WINDOW, limit=10_000) == later
