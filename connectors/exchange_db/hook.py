"""The exchange database hook: table creation and batch writes under the exchange contract."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import sqlalchemy as sa

from catalog import Resource
from connectors.sql import bulk
from connectors.sql.hook import SqlAlchemyHook
from schemas.canonical import sorted_lines_digest
from schemas.tables import exchange_table, push_log_table

# Contract: control timestamps are Asia/Shanghai local time without zone; SQLite text 'YYYY-MM-DD HH:MM:SS'.
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


@dataclass(frozen=True)
class ExchangeRow:
    """One record version to write: `deleted` rows carry no data."""

    record_id: str
    digest: str
    deleted: bool
    division: str
    provider: str
    data: dict[str, Any]


@dataclass(frozen=True)
class BatchOutcome:
    """What one batch wrote: counts by operation; `written` is empty when every version was unchanged."""

    batch_id: str
    table: str
    inserted: int
    updated: int
    deleted: int
    unchanged: int
    written: tuple[str, ...]


@dataclass(frozen=True)
class Refusal:
    """A row the centre refused: which version (HJ_XH, digest) and the centre's reason (HJ_FKXX)."""

    record_id: str
    xh: int
    digest: str
    reason: str
    division: str


@dataclass(frozen=True)
class Holdings:
    """What one exchange table holds, for reconciliation."""

    live: dict[str, str]
    deleted: int
    by_status: dict[str, int]
    unlogged: tuple[str, ...]


def shanghai_now() -> dt.datetime:
    """Asia/Shanghai wall-clock time, naive, to the second, as the contract stores control timestamps."""
    return dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)


class ExchangeDatabaseHook(SqlAlchemyHook):
    """The big-data centre's exchange database on connection `bigdata_centre`."""

    default_conn_name: ClassVar[str] = "bigdata_centre"
    hook_name: ClassVar[str] = "Big-data centre exchange database"

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)
        self.metadata = sa.MetaData()

    def table(self, resource: Resource) -> sa.Table:
        """The resource's exchange table object."""
        return exchange_table(resource, self.metadata)

    def create_tables(self, resources: Iterable[Resource]) -> None:
        """Create the exchange tables of `resources` and the push log, where missing."""
        tables = [self.table(r) for r in resources] + [push_log_table(self.metadata)]
        self.metadata.create_all(self.get_conn(), tables=tables)

    def _lock(self, conn: sa.Connection, table: sa.Table) -> None:
        # HJ_XH must follow commit order, so batches of one table are written one at a time. SQLite's
        # BEGIN IMMEDIATE (see connectors.sql.engine) already serializes writers.
        if conn.dialect.name == "postgresql":
            # LOCK TABLE takes no bound parameter: the catalogue's table name, quoted by the dialect.
            name = conn.dialect.identifier_preparer.format_table(table)
            conn.execute(sa.text(f"LOCK TABLE {name} IN SHARE ROW EXCLUSIVE MODE"))
        elif conn.dialect.name == "mysql":
            conn.execute(sa.select(sa.func.max(table.c.hj_xh)).with_for_update())

    def write_batch(
        self,
        resource: Resource,
        batch_id: str,
        rows: Sequence[ExchangeRow],
        before_commit: Callable[[], None] | None = None,
    ) -> BatchOutcome:
        """Write one batch in one transaction: unchanged digests skipped, new versions upserted, logged.

        `before_commit` runs inside the transaction once the rows are written, before the push log: the
        reliability tests kill the process there to prove a half-written batch leaves nothing behind.
        """
        table = self.table(resource)
        log = push_log_table(self.metadata)
        started = shanghai_now()
        with self.get_conn().begin() as conn:
            self._lock(conn, table)
            current = self._current_digests(conn, table, [r.record_id for r in rows])
            next_xh = (
                int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.hj_xh), 0))).scalar_one()) + 1
            )
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            written: list[str] = []
            counts = {"I": 0, "U": 0, "D": 0}
            pushed = shanghai_now()
            for row in rows:
                if current.get(row.record_id) == row.digest:
                    continue
                op = "D" if row.deleted else ("U" if row.record_id in current else "I")
                values = self._row_values(resource, row, op, batch_id, next_xh, pushed)
                next_xh += 1
                counts[op] += 1
                written.append(row.record_id)
                (updates if row.record_id in current else inserts).append(values)
                current[row.record_id] = row.digest
            if inserts:
                bulk.insert_rows(conn, table, inserts)
            if updates:
                key: sa.BindParameter[str] = sa.bindparam("b_hj_jlid")
                conn.execute(
                    table.update().where(table.c.hj_jlid == key),
                    [{("b_hj_jlid" if k == "hj_jlid" else k): v for k, v in u.items()} for u in updates],
                )
            if before_commit is not None:
                before_commit()
            if written:
                conn.execute(
                    log.insert().values(
                        pch=batch_id,
                        bm=table.name,
                        zs=len(written),
                        xzs=counts["I"],
                        gxs=counts["U"],
                        scs=counts["D"],
                        zwhz=sorted_lines_digest((rid, current[rid]) for rid in written),
                        kssj=started,
                        jssj=shanghai_now(),
                    )
                )
        return BatchOutcome(
            batch_id=batch_id,
            table=table.name,
            inserted=counts["I"],
            updated=counts["U"],
            deleted=counts["D"],
            unchanged=len(rows) - len(written),
            written=tuple(written),
        )

    @staticmethod
    def _current_digests(conn: sa.Connection, table: sa.Table, ids: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            stmt = sa.select(table.c.hj_jlid, table.c.hj_sjzw).where(
                bulk.key_in(conn, table.c.hj_jlid, chunk)
            )
            found.update({rid: str(d).strip() for rid, d in conn.execute(stmt)})
        return found

    @staticmethod
    def _row_values(
        resource: Resource, row: ExchangeRow, op: str, batch_id: str, xh: int, pushed: dt.datetime
    ) -> dict[str, Any]:
        data = {name: (None if row.deleted else row.data.get(name)) for name in resource.item_names}
        return {
            "hj_jlid": row.record_id,
            "hj_czlx": op,
            "hj_pch": batch_id,
            "hj_xh": xh,
            "hj_sjzw": row.digest,
            "hj_xzqhdm": row.division,
            "hj_xydw": row.provider,
            "hj_tssj": pushed,
            # A new version is waiting again: the centre's earlier take or refusal no longer applies.
            "hj_zt": "0",
            "hj_fkxx": None,
            "hj_qssj": None,
            **data,
        }

    def live_digests(self, resource: Resource) -> dict[str, str]:
        """Record id → digest of every row that is not a delete."""
        table = self.table(resource)
        with self.get_conn().connect() as conn:
            rows = conn.execute(sa.select(table.c.hj_jlid, table.c.hj_sjzw).where(table.c.hj_czlx != "D"))
            return {rid: str(d).strip() for rid, d in rows}

    def refusals(self, resource: Resource) -> list[Refusal]:
        """Every row the centre refused (HJ_ZT = '2'), with its reason, in HJ_XH order."""
        table = self.table(resource)
        cols = [table.c.hj_jlid, table.c.hj_xh, table.c.hj_sjzw, table.c.hj_fkxx, table.c.hj_xzqhdm]
        stmt = sa.select(*cols).where(table.c.hj_zt == "2").order_by(table.c.hj_xh)
        with self.get_conn().connect() as conn:
            return [
                Refusal(rid, int(xh), str(digest).strip(), reason or "", division)
                for rid, xh, digest, reason, division in conn.execute(stmt)
            ]

    def holdings(self, resource: Resource) -> Holdings:
        """What the table holds: live digests, deletes, rows by HJ_ZT, rows whose batch is not logged."""
        table = self.table(resource)
        log = push_log_table(self.metadata)
        logged = sa.select(log.c.pch).where(log.c.bm == table.name)
        with self.get_conn().connect() as conn:
            by_status: dict[Any, Any] = dict(
                conn.execute(sa.select(table.c.hj_zt, sa.func.count()).group_by(table.c.hj_zt)).all()
            )
            deleted = conn.execute(
                sa.select(sa.func.count()).select_from(table).where(table.c.hj_czlx == "D")
            ).scalar_one()
            unlogged = [
                rid
                for (rid,) in conn.execute(sa.select(table.c.hj_jlid).where(table.c.hj_pch.not_in(logged)))
            ]
        return Holdings(
            live=self.live_digests(resource),
            deleted=int(deleted),
            by_status={str(k).strip(): int(v) for k, v in by_status.items()},
            unlogged=tuple(sorted(unlogged)),
        )
