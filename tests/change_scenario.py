"""Every kind of change the legacy database makes, applied between two runs, with what each must cause."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from sandbox.legacy import LEGACY_TABLES

ZS, KZ = LEGACY_TABLES["T_XK_ZS"], LEGACY_TABLES["T_XK_KZ"]
KHHG = LEGACY_TABLES["T_PX_KHHG"]


@dataclass
class Expected:
    """Record ids each change must turn into a new version, by kind of effect."""

    inserted: set[str] = field(default_factory=set)
    updated: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    # Changes that leave GXSJ alone: only a snapshot run can see them.
    snapshot_only: set[str] = field(default_factory=set)

    def all(self) -> set[str]:
        return self.inserted | self.updated | self.deleted


def _live_keys(curated_url: str, resource: str, n: int) -> list[str]:
    engine = sa.create_engine(curated_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                f"SELECT sdx_source_key FROM cur_{resource} WHERE sdx_deleted = false "
                "AND yxqz IS NOT NULL ORDER BY record_id"
            )
        )
        keys = [r[0] for r in rows][:n]
    engine.dispose()
    assert len(keys) == n, "the generated database is too small for the scenario"
    return keys


def apply_changes(
    legacy_url: str, curated_url: str, watermark: dt.datetime, prefix: str = "XKZ-"
) -> Expected:
    """Make one change of every kind to 0101 certificates; return the record ids each must affect."""
    keys = _live_keys(curated_url, "permit_0101", 9)
    now = dt.datetime(2026, 11, 29, 1, 0)
    expected = Expected()
    legacy = sa.create_engine(legacy_url)
    with legacy.begin() as conn:
        # Insert: a new certificate (a copy of a valid one under a new id), stamped now.
        original = conn.execute(sa.select(ZS).where(keys[0] == ZS.c.ZSID)).mappings().one()
        conn.execute(ZS.insert().values({**original, "ZSID": "NEW0000000000000000000000000001", "GXSJ": now}))
        expected.inserted.add(prefix + "NEW0000000000000000000000000001")
        # Update with GXSJ.
        conn.execute(ZS.update().where(keys[1] == ZS.c.ZSID).values(XKFW="经营：甲醇（储存）", GXSJ=now))
        expected.updated.add(prefix + keys[1])
        # Update without GXSJ (an old code path that never stamps).
        conn.execute(ZS.update().where(keys[2] == ZS.c.ZSID).values(XKFW="经营：乙醇（不储存）"))
        expected.updated.add(prefix + keys[2])
        expected.snapshot_only.add(prefix + keys[2])
        # Soft delete.
        conn.execute(ZS.update().where(keys[3] == ZS.c.ZSID).values(SCBZ="1", GXSJ=now))
        expected.deleted.add(prefix + keys[3])
        # Hard delete of an attribute row (T_XK_KZ has no timestamp): the certificate's data changes.
        conn.execute(KZ.delete().where(keys[4] == KZ.c.ZSID))
        expected.updated.add(prefix + keys[4])
        expected.snapshot_only.add(prefix + keys[4])
        # Bulk fix: several rows share one GXSJ equal to the last watermark (a `> last_max` reader loses them).
        for key in keys[5:7]:
            conn.execute(ZS.update().where(key == ZS.c.ZSID).values(JYFS="批发（带储存）", GXSJ=watermark))
            expected.updated.add(prefix + key)
        # A server with a wrong clock: GXSJ a month ahead.
        conn.execute(
            ZS.update()
            .where(keys[7] == ZS.c.ZSID)
            .values(XKFW="经营：丙酮（储存）", GXSJ=now + dt.timedelta(days=30))
        )
        expected.updated.add(prefix + keys[7])
        # An old row with no GXSJ at all, changed.
        conn.execute(ZS.update().where(keys[8] == ZS.c.ZSID).values(XKFW="经营：硫酸（不储存）", GXSJ=None))
        expected.updated.add(prefix + keys[8])
        expected.snapshot_only.add(prefix + keys[8])
    legacy.dispose()
    return expected


def _quiet_competence_keys(legacy_url: str, curated_url: str, n: int) -> list[str]:
    # Live certificates that no incremental run re-reads by chance: stamped long before the watermark's
    # look-back, and linked to no enterprise (whose own GXSJ would bring them along).
    engine = sa.create_engine(curated_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT sdx_source_key FROM cur_certificate_0701 WHERE sdx_deleted = false")
        )
        live = {r[0] for r in rows}
    engine.dispose()
    legacy = sa.create_engine(legacy_url)
    with legacy.connect() as conn:
        rows = conn.execute(
            sa.select(KHHG.c.ZMID)
            .where(
                KHHG.c.QYID.is_(None), sa.or_(KHHG.c.GXSJ.is_(None), dt.datetime(2026, 1, 1) > KHHG.c.GXSJ)
            )
            .order_by(KHHG.c.ZMID)
        )
        keys = [r[0] for r in rows if r[0] in live][:n]
    legacy.dispose()
    assert len(keys) == n, "the generated database is too small for the scenario"
    return keys


def apply_competence_changes(legacy_url: str, curated_url: str, prefix: str = "KHHG-") -> Expected:
    """Change three 0701 competence certificates (T_PX_KHHG); return the record ids each change must affect."""
    keys = _quiet_competence_keys(legacy_url, curated_url, 3)
    now = dt.datetime(2026, 11, 29, 1, 0)
    expected = Expected()
    legacy = sa.create_engine(legacy_url)
    with legacy.begin() as conn:
        # Update with GXSJ: the work unit renamed.
        conn.execute(
            KHHG.update().where(keys[0] == KHHG.c.ZMID).values(QYMC="常州市更名测试化工有限公司", GXSJ=now)
        )
        expected.updated.add(prefix + keys[0])
        # Soft delete.
        conn.execute(KHHG.update().where(keys[1] == KHHG.c.ZMID).values(SCBZ="1", GXSJ=now))
        expected.deleted.add(prefix + keys[1])
        # Update without GXSJ: only a snapshot run sees it.
        conn.execute(KHHG.update().where(keys[2] == KHHG.c.ZMID).values(QYMC="常州市未盖戳测试化工有限公司"))
        expected.updated.add(prefix + keys[2])
        expected.snapshot_only.add(prefix + keys[2])
    legacy.dispose()
    return expected


def change_certificates(legacy_url: str, scopes: dict[str, str]) -> None:
    """Give 0101 certificates (ZSID → new XKFW) a new licensed scope, stamped with a fresh GXSJ."""
    legacy = sa.create_engine(legacy_url)
    with legacy.begin() as conn:
        for key, scope in scopes.items():
            conn.execute(
                ZS.update().where(key == ZS.c.ZSID).values(XKFW=scope, GXSJ=dt.datetime(2026, 11, 29, 1))
            )
    legacy.dispose()


def exchange_versions(exchange_url: str, table: str) -> dict[str, tuple[int, str, str]]:
    """Record id → (HJ_XH, HJ_CZLX, HJ_SJZW) of an exchange table."""
    engine = sa.create_engine(exchange_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT hj_jlid, hj_xh, hj_czlx, hj_sjzw FROM {table}"))
        out = {r[0]: (int(r[1]), r[2], r[3].strip()) for r in rows}
    engine.dispose()
    return out


def new_versions(
    before: dict[str, tuple[int, str, str]], after: dict[str, tuple[int, str, str]]
) -> dict[str, str]:
    """Record id → operation of every row written between the two readings."""
    return {rid: v[1] for rid, v in after.items() if before.get(rid, (None,))[0] != v[0]}
