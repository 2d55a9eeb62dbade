"""Checks of a whole run that the SQLite and the server flow tests share."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from catalog import Resource, default_catalog
from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from sandbox.legacy import generate_legacy

LOGICAL = dt.date(2026, 11, 29)
# HJ_XZQHDM: the city and its six current county-level divisions.
CURRENT_DIVISIONS = frozenset({"320400", "320402", "320404", "320411", "320412", "320413", "320481"})


def connect(patch: pytest.MonkeyPatch, home: Path, urls: dict[str, str]) -> None:
    """Point connection ids at SQLAlchemy URLs and the toolkit's home at `home`, as `use_connections` does."""
    patch.setenv("SDX_HOME", str(home))
    for conn_id, url in urls.items():
        extra = {"conn_type": "generic", "extra": {"sqlalchemy_url": url}}
        patch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(extra))


@contextmanager
def generated_databases(work: Path, scale: float, seed: int) -> Iterator[dict[str, str]]:
    """A generated legacy database and empty curated and exchange ones in `work`, connected while open."""
    urls = {name: f"sqlite:///{work / name}.db" for name in ("legacy", "curated", "exchange")}
    generate_legacy(urls["legacy"], scale=scale, seed=seed)
    with pytest.MonkeyPatch.context() as patch:
        connect(
            patch,
            work / "sdx_home",
            {
                "legacy_supervision": urls["legacy"],
                "curated": urls["curated"],
                "bigdata_centre": urls["exchange"],
            },
        )
        yield urls


def sdx_environment(urls: dict[str, str], home: Path, **extra: str) -> dict[str, str]:
    """This process's environment for an `sdx` subprocess on the legacy/curated/exchange URLs given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "SDX_"))}
    for conn_id, name in (
        ("LEGACY_SUPERVISION", "legacy"),
        ("CURATED", "curated"),
        ("BIGDATA_CENTRE", "exchange"),
    ):
        env[f"AIRFLOW_CONN_{conn_id}"] = json.dumps(
            {"conn_type": "generic", "extra": {"sqlalchemy_url": urls[name]}}
        )
    return env | {"SDX_HOME": str(home)} | extra


def type_resources() -> list[Resource]:
    """The 18 permit and filing types: the catalogue resources that carry a legacy type code, by code."""
    typed = [r for r in default_catalog().resources.values() if r.permit_type]
    return sorted(typed, key=lambda r: str(r.permit_type))


def exchange_rows(exchange_url: str, table: str) -> list[sa.Row]:
    """HJ_JLID, HJ_CZLX, HJ_XZQHDM and HJ_XYDW of every row of an exchange table."""
    engine = sa.create_engine(exchange_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(f"SELECT hj_jlid, hj_czlx, hj_xzqhdm, hj_xydw FROM {table}")))
    finally:
        engine.dispose()


def scalar(url: str, sql: str | sa.Select) -> Any:
    """The single value a query returns, on a database of its own engine (disposed after)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql) if isinstance(sql, str) else sql).scalar_one()
    finally:
        engine.dispose()


def query_rows(url: str, sql: str, **params: Any) -> list[sa.Row]:
    """The rows a text query returns, with bound parameters, on a database of its own engine (disposed after)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))
    finally:
        engine.dispose()


def _count(url: str, sql: str | sa.Select) -> int:
    return int(scalar(url, sql))


def watermark(curated_url: str, resource: str = "permit_0101") -> dt.datetime:
    """A resource's watermark (SQLite returns it as text)."""
    value = scalar(curated_url, f"SELECT changed_until FROM sdx_watermark WHERE resource = '{resource}'")
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def run_twice_and_check(legacy_url: str, curated_url: str, exchange_url: str) -> None:
    first = run_pipeline(RunContext(run_id="run-1", logical_date=LOGICAL), ["permit_0101"])["permit_0101"]
    std, cur, sent = first["standardize"], first["curate"], first["deliver:bigdata_centre"]

    zs = sa.table("T_XK_ZS", sa.column("SXBM"))
    legacy_0101 = _count(legacy_url, sa.select(sa.func.count()).select_from(zs).where(zs.c.SXBM == "0101"))
    assert std["extracted"] == legacy_0101 > 0
    # Every extracted record is accounted for: passed (live or delete) or quarantined with a reason.
    assert std["valid"] + std["quarantined"] == std["extracted"]
    assert std["quarantined"] > 0 and sum(std["quarantined_by_issue"].values()) >= std["quarantined"]
    assert cur["inserted"] > 0

    live = _count(curated_url, "SELECT COUNT(*) FROM cur_permit_0101 WHERE sdx_deleted = false")
    assert _count(exchange_url, "SELECT COUNT(*) FROM ex_xk_0101 WHERE hj_czlx <> 'D'") == live
    assert sent["inserted"] == live
    assert (
        _count(exchange_url, "SELECT COUNT(*) FROM ex_xk_0101 WHERE hj_zt <> '0' OR hj_qssj IS NOT NULL") == 0
    )
    assert _count(exchange_url, "SELECT COUNT(DISTINCT hj_xh) FROM ex_xk_0101") == _count(
        exchange_url, "SELECT COUNT(*) FROM ex_xk_0101"
    )
    assert _count(exchange_url, "SELECT COUNT(*) FROM ex_xk_0101 WHERE hj_xzqhdm NOT IN "
                  "('320400','320402','320404','320411','320412','320413','320481')") == 0  # fmt: skip
    assert _count(exchange_url, "SELECT SUM(zs) FROM ex_tsrz") == live
    assert _count(curated_url, "SELECT COUNT(*) FROM sdx_quarantine WHERE resource = 'permit_0101'") > 0

    # The digest the exchange holds is the curated one.
    assert (
        _count(
            curated_url,
            "SELECT COUNT(*) FROM cur_permit_0101 WHERE sdx_deleted = false AND length(sdx_digest) = 64",
        )
        == live
    )

    log_rows = _count(exchange_url, "SELECT COUNT(*) FROM ex_tsrz")
    second = run_pipeline(RunContext(run_id="run-2", logical_date=LOGICAL, mode="full"), ["permit_0101"])[
        "permit_0101"
    ]
    assert second["curate"]["inserted"] == second["curate"]["updated"] == second["curate"]["deleted"] == 0
    assert second["deliver:bigdata_centre"]["sent"] == 0
    assert _count(exchange_url, "SELECT COUNT(*) FROM ex_tsrz") == log_rows, "a rerun writes no new versions"


def legacy_hook_after(url: str, use_connections, *ddl: str):
    """A legacy hook on `url` (connection `legacy_supervision`) once the `ddl` statements have run there."""
    from connectors.legacy.hook import LegacySupervisionHook

    use_connections(legacy_supervision=url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in ddl:
            conn.execute(sa.text(statement))
    engine.dispose()
    return LegacySupervisionHook()
