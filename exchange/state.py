"""Run state in the curated database: runs, step results, watermarks and delivery ledgers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from catalog import Resource
from connectors.sql import bulk
from quality.quarantine import quarantine_table
from schemas.tables import curated_table

metadata = sa.MetaData()

runs = sa.Table(
    "sdx_run",
    metadata,
    sa.Column("run_id", sa.String(250), primary_key=True),
    sa.Column("mode", sa.String(20), nullable=False),
    sa.Column("logical_date", sa.Date, nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("status", sa.String(20), nullable=False),
)

run_steps = sa.Table(
    "sdx_run_step",
    metadata,
    sa.Column("run_id", sa.String(250), primary_key=True),
    sa.Column("resource", sa.String(64), primary_key=True),
    sa.Column("step", sa.String(32), primary_key=True),
    sa.Column("stats", sa.Text, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=False),
)

# A resource's watermark moves only in the transaction that loads the curated records it covers.
watermarks = sa.Table(
    "sdx_watermark",
    metadata,
    sa.Column("resource", sa.String(64), primary_key=True),
    sa.Column("changed_until", sa.DateTime, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# What each receiver holds, as far as the bureau knows: the last version sent and how it went. A version
# is recorded as SENDING before it is written and confirmed after (WRITTEN, or UNCHANGED when the receiver
# already held it), so a version the ledger does not know to be delivered is always sent again; REFUSED
# when the receiver sent it back.
SENDING, WRITTEN, UNCHANGED, REFUSED = "sending", "written", "unchanged", "refused"
ledger = sa.Table(
    "sdx_ledger",
    metadata,
    sa.Column("receiver", sa.String(32), primary_key=True),
    sa.Column("resource", sa.String(64), primary_key=True),
    sa.Column("record_id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False),
    sa.Column("batch_id", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("sent_at", sa.DateTime, nullable=False),
)

# The content hash of every source row last loaded: lets a full scan find rows changed without a new
# GXSJ, changed attributes (T_XK_KZ) and rows that vanished. Moves with the curated load, like watermarks.
snapshots = sa.Table(
    "sdx_snapshot",
    metadata,
    sa.Column("resource", sa.String(64), primary_key=True),
    sa.Column("source_key", sa.String(64), primary_key=True),
    sa.Column("row_hash", sa.String(16), nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False),
)

quarantine = quarantine_table(metadata)

# The rows merged into one record (resources whose manifest has `merge`: the enterprise master), one per
# source row: which record (group) it belongs to, its standardized items and what ranks it. Other
# resources map a legacy key to the record through it (QYID → USCC).
merged_rows = sa.Table(
    "sdx_merged_row",
    metadata,
    sa.Column("resource", sa.String(64), primary_key=True),
    sa.Column("source_key", sa.String(64), primary_key=True),
    sa.Column("group_key", sa.String(64), index=True),
    sa.Column("twin_key", sa.String(300), index=True),
    sa.Column("deleted", sa.Boolean, nullable=False),
    sa.Column("newest", sa.DateTime),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("warnings", sa.Text),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# Each run's reconciliation with a receiver: per resource, what the receiver holds against what the ledger
# says was sent and what the curated database holds; the differing records beside it (the first ones).
reconciliation = sa.Table(
    "sdx_reconciliation",
    metadata,
    sa.Column("run_id", sa.String(250), primary_key=True),
    sa.Column("receiver", sa.String(32), primary_key=True),
    sa.Column("resource", sa.String(64), primary_key=True),
    sa.Column("table_name", sa.String(64), nullable=False),
    sa.Column("receiver_live", sa.Integer, nullable=False),
    sa.Column("receiver_deleted", sa.Integer, nullable=False),
    sa.Column("receiver_digest", sa.String(64), nullable=False),
    sa.Column("ledger_live", sa.Integer, nullable=False),
    sa.Column("ledger_digest", sa.String(64), nullable=False),
    sa.Column("curated_live", sa.Integer, nullable=False),
    sa.Column("curated_digest", sa.String(64), nullable=False),
    sa.Column("waiting", sa.Integer, nullable=False),
    sa.Column("taken", sa.Integer, nullable=False),
    sa.Column("refused", sa.Integer, nullable=False),
    sa.Column("differences", sa.Integer, nullable=False),
    sa.Column("checked_at", sa.DateTime, nullable=False),
)

reconciliation_differences = sa.Table(
    "sdx_reconciliation_diff",
    metadata,
    sa.Column("run_id", sa.String(250), primary_key=True),
    sa.Column("receiver", sa.String(32), primary_key=True),
    sa.Column("resource", sa.String(64), primary_key=True),
    sa.Column("record_id", sa.String(64), primary_key=True),
    sa.Column("problem", sa.String(32), nullable=False),
    sa.Column("receiver_digest", sa.String(64)),
    sa.Column("ledger_digest", sa.String(64)),
    sa.Column("curated_digest", sa.String(64)),
)


def curated(resource: Resource) -> sa.Table:
    """The curated table of `resource`, registered in this module's metadata."""
    return curated_table(resource, metadata)


def curated_rows(conn: sa.Connection, resource: Resource, record_ids: list[str]) -> dict[str, sa.Row]:
    """The curated rows of these record ids, by record id (one look-up; callers pass a batch at a time)."""
    cur = curated(resource)
    return {
        r.record_id: r
        for r in conn.execute(sa.select(cur).where(bulk.key_in(conn, cur.c.record_id, record_ids)))
    }


def create_all(engine: sa.Engine, resources: Iterable[Resource]) -> None:
    """Create every state table and the curated tables of `resources`, where missing."""
    for resource in resources:
        curated(resource)
    metadata.create_all(engine)


def start_run(engine: sa.Engine, run_id: str, mode: str, logical_date: dt.date, now: dt.datetime) -> None:
    """Record a run as started; a rerun of the same run id keeps its first start time."""
    with engine.begin() as conn:
        found = conn.execute(sa.select(runs.c.run_id).where(runs.c.run_id == run_id)).first()
        if found:
            conn.execute(
                runs.update().where(runs.c.run_id == run_id).values(status="running", finished_at=None)
            )
        else:
            conn.execute(
                runs.insert().values(
                    run_id=run_id, mode=mode, logical_date=logical_date, started_at=now, status="running"
                )
            )


def finish_run(engine: sa.Engine, run_id: str, status: str, now: dt.datetime) -> None:
    """Record how a run ended."""
    with engine.begin() as conn:
        conn.execute(runs.update().where(runs.c.run_id == run_id).values(status=status, finished_at=now))


def update_ledger(
    conn: sa.Connection,
    receiver: str,
    resource_name: str,
    record_ids: list[str],
    *where: sa.ColumnElement[bool],
    **values: Any,
) -> None:
    """Set `values` on the ledger rows of these records of a receiver's resource (and `where`).

    A thousand ids a statement: some databases bound the parameters one statement may carry.
    """
    for start in range(0, len(record_ids), 1000):
        conn.execute(
            ledger.update()
            .where(
                ledger.c.receiver == receiver,
                ledger.c.resource == resource_name,
                bulk.key_in(conn, ledger.c.record_id, record_ids[start : start + 1000]),
                *where,
            )
            .values(**values)
        )


def record_step(
    conn: sa.Connection, run_id: str, resource: str, step: str, stats: dict[str, Any], now: dt.datetime
) -> None:
    """Store a step's statistics (replacing an earlier attempt of the same step in the same run)."""
    where = sa.and_(run_steps.c.run_id == run_id, run_steps.c.resource == resource, run_steps.c.step == step)
    conn.execute(run_steps.delete().where(where))
    conn.execute(
        run_steps.insert().values(
            run_id=run_id,
            resource=resource,
            step=step,
            stats=json.dumps(stats, ensure_ascii=False, default=str),
            finished_at=now,
        )
    )


def step_stats(engine: sa.Engine, run_id: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Resource → step → statistics of one run."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    with engine.connect() as conn:
        for row in conn.execute(sa.select(run_steps).where(run_steps.c.run_id == run_id)):
            out.setdefault(row.resource, {})[row.step] = json.loads(row.stats)
    return out


def watermark(conn: sa.Connection, resource: str) -> dt.datetime | None:
    """How far a resource's changes have been loaded, or None before its first load."""
    return conn.execute(
        sa.select(watermarks.c.changed_until).where(watermarks.c.resource == resource)
    ).scalar()


def move_watermark(
    conn: sa.Connection, resource: str, value: dt.datetime, run_id: str, now: dt.datetime
) -> None:
    """Set a resource's watermark (never backwards); call inside the curated load's transaction."""
    current = watermark(conn, resource)
    if current is not None and current >= value:
        return
    conn.execute(watermarks.delete().where(watermarks.c.resource == resource))
    conn.execute(
        watermarks.insert().values(resource=resource, changed_until=value, run_id=run_id, updated_at=now)
    )


def latest_run_id(engine: sa.Engine) -> str | None:
    """The most recently started run."""
    with engine.connect() as conn:
        return conn.execute(sa.select(runs.c.run_id).order_by(runs.c.started_at.desc()).limit(1)).scalar()


def held_resources(stats: dict[str, dict[str, dict[str, Any]]]) -> dict[str, list[str]]:
    """Resources the quality gate held back in a run, with the reasons."""
    return {
        r: steps["curate"].get("reasons", [])
        for r, steps in stats.items()
        if steps.get("curate", {}).get("held")
    }
