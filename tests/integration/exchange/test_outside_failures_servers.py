"""Database connections cut by the server mid-run: the run fails clearly, the next one catches up whole.

The cut comes at a named crash point (exchange/faults.py), from another connection: MariaDB's KILL
CONNECTION of the extractor's connection after its first batch, PostgreSQL's pg_terminate_backend of the
loading connection with the curate transaction or an exchange batch written but not committed. Then a
second run must leave every source record curated or quarantined once, every curated version in the
exchange database once, and the reconciliation at zero differences.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from pipeline_checks import LOGICAL, query_rows, scalar

from exchange import faults
from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from exchange.steps import deliver_exchange_db
from sandbox.legacy import generate_legacy

pytestmark = pytest.mark.integration
RESOURCE = "permit_0101"


def _cut_at(monkeypatch, point: str, cut: Callable[[], int]) -> list[int]:
    """At the first pass through `point`, run `cut` (which returns how many connections it ended)."""
    ended: list[int] = []
    original = faults.crash_point

    def crash_point(name: str) -> None:
        if name == point and not ended:
            ended.append(cut())
        original(name)

    monkeypatch.setattr(faults, "crash_point", crash_point)
    monkeypatch.setattr(deliver_exchange_db, "crash_point", crash_point)
    return ended


def _kill_mariadb_sessions(server_url: str, database: str) -> Callable[[], int]:
    def cut() -> int:
        admin = sa.create_engine(server_url)
        with admin.connect() as conn:
            ids = [row[0] for row in conn.execute(
                sa.text("SELECT id FROM information_schema.processlist WHERE db = :db AND id <> CONNECTION_ID()"),
                {"db": database},
            )]  # fmt: skip
            for session in ids:
                conn.execute(sa.text("KILL CONNECTION :id"), {"id": int(session)})
        admin.dispose()
        return len(ids)

    return cut


def _terminate_postgres_backends(url: str) -> Callable[[], int]:
    def cut() -> int:
        admin = sa.create_engine(sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            ended = conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid()"),
                {"db": sa.make_url(url).database},
            ).fetchall()  # fmt: skip
        admin.dispose()
        return len(ended)

    return cut


def _run(run_id: str) -> None:
    run_pipeline(RunContext(run_id=run_id, logical_date=LOGICAL), [RESOURCE])


def _records(curated_url: str, exchange_url: str) -> dict[str, set[tuple]]:
    """Curated versions, open quarantine entries and exchange rows, in a form any two databases share."""
    return {
        "curated": {(r, d, int(q), bool(x)) for r, d, q, x in query_rows(
            curated_url, f"SELECT record_id, sdx_digest, sdx_seq, sdx_deleted FROM cur_{RESOURCE}")},
        "quarantine": set(query_rows(
            curated_url, "SELECT record_id, issue, item FROM sdx_quarantine WHERE resolved_at IS NULL")),
        "ledger": {(r, int(q), d, o) for r, q, d, o in query_rows(
            curated_url, "SELECT record_id, seq, digest, outcome FROM sdx_ledger")},
        "exchange": {(r, c, d.strip()) for r, c, d in query_rows(
            exchange_url, "SELECT hj_jlid, hj_czlx, hj_sjzw FROM ex_xk_0101")},
    }  # fmt: skip


def _reference(tmp_path: Path, legacy_url: str, use_connections) -> dict[str, set[tuple]]:
    """What an uncut run leaves, on SQLite beside the test's databases."""
    curated, exchange = (
        f"sqlite:///{tmp_path / 'ref_curated.db'}",
        f"sqlite:///{tmp_path / 'ref_exchange.db'}",
    )
    use_connections(legacy_supervision=legacy_url, curated=curated, bigdata_centre=exchange)
    _run("night-1")
    return _records(curated, exchange)


def _assert_caught_up(
    reference: dict[str, set[tuple]], curated_url: str, exchange_url: str, run_id: str
) -> None:
    found = _records(curated_url, exchange_url)
    for part in ("curated", "quarantine", "ledger", "exchange"):
        assert found[part] == reference[part], (
            f"{part}: lost {len(reference[part] - found[part])}, extra {len(found[part] - reference[part])}"
        )
    live = int(scalar(curated_url, f"SELECT COUNT(*) FROM cur_{RESOURCE} WHERE sdx_deleted = false"))
    rows, distinct_xh = query_rows(exchange_url, "SELECT COUNT(*), COUNT(DISTINCT hj_xh) FROM ex_xk_0101")[0]
    assert rows == distinct_xh == live, "each curated version in the exchange database once"
    assert int(scalar(exchange_url, "SELECT COALESCE(SUM(zs), 0) FROM ex_tsrz")) == live, (
        "no version pushed twice"
    )
    differences = query_rows(
        curated_url, "SELECT differences FROM sdx_reconciliation WHERE run_id = :r", r=run_id
    )
    assert differences and all(d == 0 for (d,) in differences)


def test_mariadb_connection_killed_mid_extract(mariadb_url, tmp_path, use_connections, monkeypatch):
    generate_legacy(mariadb_url, scale=0.05, seed=7)
    reference = _reference(tmp_path, mariadb_url, use_connections)
    curated, exchange = f"sqlite:///{tmp_path / 'curated.db'}", f"sqlite:///{tmp_path / 'exchange.db'}"
    use_connections(legacy_supervision=mariadb_url, curated=curated, bigdata_centre=exchange)
    monkeypatch.setenv("SDX_BATCH_SIZE", "20")
    server = sa.make_url(mariadb_url)
    with monkeypatch.context() as cutting:
        ended = _cut_at(
            cutting,
            faults.EXTRACT_MID_SOURCE,
            _kill_mariadb_sessions(
                server.set(database=None).render_as_string(hide_password=False), server.database
            ),
        )
        with pytest.raises(sa.exc.OperationalError, match=r"Lost connection|server has gone away|2013|2006"):
            _run("night-1")
    assert ended and ended[0] >= 1, "the extractor's connection was to be killed"
    assert query_rows(curated, "SELECT status FROM sdx_run WHERE run_id = 'night-1'") == [("failed",)]
    _run("night-2")
    _assert_caught_up(reference, curated, exchange, "night-2")


@pytest.mark.parametrize(
    ("point", "database"),
    [(faults.CURATE_BEFORE_COMMIT, "curated"), (faults.DELIVER_MID_BATCH, "exchange")],
)
def test_postgres_backend_terminated_mid_load(
    postgres_url, second_postgres_url, tmp_path, use_connections, monkeypatch, point, database
):
    legacy = f"sqlite:///{tmp_path / 'legacy.db'}"
    generate_legacy(legacy, scale=0.05, seed=7)
    reference = _reference(tmp_path, legacy, use_connections)
    use_connections(legacy_supervision=legacy, curated=postgres_url, bigdata_centre=second_postgres_url)
    monkeypatch.setenv("SDX_DELIVER_BATCH_ROWS", "40")
    target = postgres_url if database == "curated" else second_postgres_url
    with monkeypatch.context() as cutting:
        ended = _cut_at(cutting, point, _terminate_postgres_backends(target))
        with pytest.raises(sa.exc.OperationalError):
            _run("night-1")
    assert ended and ended[0] >= 1, "the loading backend was to be terminated"
    _run("night-2")
    _assert_caught_up(reference, postgres_url, second_postgres_url, "night-2")
