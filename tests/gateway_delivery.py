"""Delivery to the gateway stand-in: a curated database of the gateway resources, connections, and checks.

The checks read the stand-in's own store file, not the project's ledger: what a receiver holds is the truth.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pipeline_checks import LOGICAL

from catalog import default_catalog
from connectors.gateway.payloads import CuratedRecord, push_record
from exchange import state
from sandbox.gateway import FaultPlan, GatewayServer, build_state

APP_KEY, APP_SECRET = "sdx-test", "sdx-test-secret"
# The gateway resources the pipeline builds from legacy tables, with their receiver.
BUILT = {
    "cases": "service_network",
    "industry_enterprises": "province_supervision",
    "integrity_declarations": "province_hazchem",
}
RECEIVERS = ("service_network", "province_supervision", "province_hazchem")
# Small batches and short waits: several batches per resource, and faults retried in milliseconds.
BATCH_RECORDS = "100"
FAST = {"rate_limit": 1000, "backoff": 0.01, "retries": 10, "timeout": 1.0, "connect_timeout": 1.0}


def urls(folder: Path) -> dict[str, str]:
    """The SQLite URLs of a work folder's legacy, curated and exchange databases."""
    return {name: f"sqlite:///{folder / name}.db" for name in ("legacy", "curated", "exchange")}


def gateway_connections(url: str, **extra: Any) -> dict[str, str]:
    """AIRFLOW_CONN_* of the three receivers, each on its prefix of the stand-in at `url`."""
    return {
        f"AIRFLOW_CONN_{receiver.upper()}": json.dumps(
            {"conn_type": "http", "host": f"{url}/{receiver}", "login": APP_KEY, "password": APP_SECRET,
             "extra": FAST | extra}
        )
        for receiver in RECEIVERS
    }  # fmt: skip


@contextmanager
def stand_in(store: Path, faults: dict[str, Any] | None = None) -> Iterator[GatewayServer]:
    """The gateway stand-in on `store`, its rate limit well above what a test sends."""
    rates = dict.fromkeys(RECEIVERS, 1000.0)
    state_ = build_state(store, {APP_KEY: APP_SECRET}, faults=FaultPlan.from_json(faults), rates=rates)
    with GatewayServer(state_) as server:
        yield server


def held(store: Path, receiver: str, resource: str) -> dict[str, tuple[int, str, str]]:
    """record id → (seq, op, digest) of what the stand-in's store holds."""
    with sqlite3.connect(store) as conn:
        rows = conn.execute(
            "SELECT record_id, seq, op, digest FROM records WHERE receiver = ? AND resource = ?",
            (receiver, resource),
        ).fetchall()
    return {rid: (seq, op, digest) for rid, seq, op, digest in rows}


def stored_answers(store: Path) -> int:
    """How many push requests (request ids) the stand-in answered and kept."""
    with sqlite3.connect(store) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0])


def expected(curated_url: str, resource_name: str, receiver: str) -> dict[str, tuple[int, str, str]]:
    """record id → (seq, "live", digest) a receiver must hold: every live curated record's latest version.

    Records the receiver refused (E1001: its checks are stricter than curation's, e.g. on 2015 pilot USCCs)
    are left out: they wait in quarantine for a corrected version.
    """
    resource = default_catalog().resource(resource_name)
    engine = sa.create_engine(curated_url)
    led = state.ledger
    try:
        with engine.connect() as conn:
            rows = list(conn.execute(sa.select(state.curated(resource))))
            refused = set(
                conn.execute(
                    sa.select(led.c.record_id).where(
                        led.c.receiver == receiver,
                        led.c.resource == resource.name,
                        led.c.outcome == state.REFUSED,
                    )
                ).scalars()
            )
    finally:
        engine.dispose()
    out = {}
    for row in rows:
        record = push_record(resource, receiver, CuratedRecord.from_row(resource, row))
        if not row.sdx_deleted and row.record_id not in refused:
            out[row.record_id] = (record["seq"], "live", record["digest"])
    return out


def live_view(holdings: dict[str, tuple[int, str, str]]) -> dict[str, tuple[int, str, str]]:
    """Holdings with ops I and U as "live" and deletes left out, to compare with `expected`."""
    return {rid: (seq, "live", digest) for rid, (seq, op, digest) in holdings.items() if op != "D"}


def assert_held_exactly(store: Path, curated_url: str, resources: dict[str, str] = BUILT) -> None:
    """Each receiver holds every curated record once, at its latest seq and digest; nothing else live."""
    for resource, receiver in resources.items():
        want = expected(curated_url, resource, receiver)
        assert want, f"no curated {resource}: the test means nothing"
        got = live_view(held(store, receiver, resource))
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        stale = sorted(rid for rid in set(want) & set(got) if want[rid] != got[rid])
        assert not (missing or extra or stale), (
            f"{receiver}/{resource}: missing {missing[:5]}, extra {extra[:5]}, stale {stale[:5]}"
        )


def curated_template(folder: Path, resources: list[str] | None = None) -> Path:
    """A work folder whose curated database holds the gateway resources, delivered to no gateway yet."""
    from exchange.context import RunContext
    from exchange.pipeline import run_pipeline
    from sandbox.legacy import generate_legacy

    generate_legacy(urls(folder)["legacy"], scale=0.01, seed=11)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SDX_HOME", str(folder / "home"))
        for conn_id, url in urls(folder).items():
            name = {"legacy": "legacy_supervision", "curated": "curated", "exchange": "bigdata_centre"}[
                conn_id
            ]
            extra = {"conn_type": "generic", "extra": {"sqlalchemy_url": url}}
            patch.setenv(f"AIRFLOW_CONN_{name.upper()}", json.dumps(extra))
        for receiver in RECEIVERS:
            patch.delenv(f"AIRFLOW_CONN_{receiver.upper()}", raising=False)
        run_pipeline(RunContext(run_id="run-0", logical_date=LOGICAL), resources or list(BUILT))
    return folder
