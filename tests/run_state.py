"""What a run leaves behind, in a form two runs can be compared by: every table, without run ids and clocks."""

from __future__ import annotations

import collections
from typing import Any

import sqlalchemy as sa

# Bookkeeping about runs themselves (which run, when, its step statistics): differs by design between a run
# that crashed and was run again and one that did not.
RUN_BOOKKEEPING = frozenset({"sdx_run", "sdx_run_step", "sdx_reconciliation", "sdx_reconciliation_diff"})
# Columns naming a run, a batch or a moment; everything else must be identical.
VOLATILE_COLUMNS = frozenset(
    {
        "run_id", "first_run_id", "last_run_id", "resolved_run_id", "sdx_run_id",
        "sdx_updated_at", "updated_at", "first_seen", "last_seen", "resolved_at", "sent_at",
        "batch_id", "hj_pch", "hj_tssj", "hj_xh",
    }
)  # fmt: skip
# The exchange's push log: one row per batch, so batch ids, clocks and batch digests depend on where a run
# was cut. What must agree is how many versions were pushed, of which kind.
PUSH_LOG = "ex_tsrz"


def _rows(conn: sa.Connection, table: sa.Table) -> list[tuple[Any, ...]]:
    columns = [c for c in table.columns if c.name.lower() not in VOLATILE_COLUMNS]
    rows = conn.execute(sa.select(*columns))
    return sorted((tuple("" if v is None else str(v).strip() for v in row) for row in rows), key=repr)


def database_state(url: str) -> dict[str, Any]:
    """Every table of the database at `url`, rows sorted, run ids, batch ids and timestamps left out."""
    engine = sa.create_engine(url)
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        out: dict[str, Any] = {}
        with engine.connect() as conn:
            for name, table in sorted(metadata.tables.items()):
                if name in RUN_BOOKKEEPING:
                    continue
                if name == PUSH_LOG:
                    totals = sa.select(
                        *(sa.func.coalesce(sa.func.sum(table.c[c]), 0) for c in ("zs", "xzs", "gxs", "scs"))
                    )
                    out[name] = tuple(int(v) for v in conn.execute(totals).one())
                else:
                    out[name] = _rows(conn, table)
        return out
    finally:
        engine.dispose()


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per table, how many rows `actual` lacks (lost) and holds beyond `expected` (extra, duplicated)."""
    out: dict[str, dict[str, int]] = {}
    for name in sorted(set(expected) | set(actual)):
        want, have = expected.get(name, []), actual.get(name, [])
        if name == PUSH_LOG:  # versions pushed: (total, inserted, updated, deleted)
            pushed, wanted = (have or (0,))[0], (want or (0,))[0]
            lost, extra = max(wanted - pushed, 0), max(pushed - wanted, 0)
        else:
            missing = collections.Counter(want) - collections.Counter(have)
            surplus = collections.Counter(have) - collections.Counter(want)
            lost, extra = sum(missing.values()), sum(surplus.values())
        if lost or extra:
            out[name] = {"lost": lost, "extra": extra}
    return out
