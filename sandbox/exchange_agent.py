"""The big-data centre's exchange agent, as contracts/README.md section 1 describes it: a stand-in.

The agent takes waiting rows (HJ_ZT = '0') of every exchange table in HJ_XH order and marks each with the
contract's conditional update, `… WHERE HJ_JLID = ? AND HJ_XH = ?`, so a row the provider rewrote in the
meantime matches nothing and is simply taken again later. It refuses (HJ_ZT = '2', with a reason in HJ_FKXX)
rows whose digest does not match their data, and rows a configurable rule picks, so the demo and the tests
can exercise the provider's feedback handling.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes

from catalog import Catalog, Resource

log = logging.getLogger(__name__)

RECEIVER = "bigdata_centre"
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
DEFAULT_REASON = "数据核验未通过，请核实后重新报送"
DIGEST_REASON = "数据指纹（HJ_SJZW）与数据内容不符"


def _sm3(text: str) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(text.encode("utf-8"))
    return digest.finalize().hex()


def _canonical(value: Any) -> Any:
    # The centre computes digests on its own, as the contract has both sides do; an independent reading of
    # the canonical-JSON rules is what makes its check of the provider's HJ_SJZW worth something.
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def data_digest(data: Mapping[str, Any] | None) -> str:
    """SM3 of the canonical JSON of a row's data columns (of `null` for a delete)."""
    body = None if data is None else {k: _canonical(v) for k, v in data.items()}
    return _sm3(json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")))


@dataclass(frozen=True)
class RefusalRule:
    """Which rows the centre refuses besides those with a wrong digest, and what it answers.

    `equals` refuses a row whose data column equals the value (item name → value as text); `share`
    refuses that fraction of versions, picked by the SM3 of `record id:digest`, so the same version is
    always judged alike and a corrected version gets a fresh chance.
    """

    equals: dict[str, str] = field(default_factory=dict)
    share: float = 0.0
    reason: str = DEFAULT_REASON
    check_digest: bool = True

    @classmethod
    def parse(
        cls,
        when: Iterable[str] = (),
        share: float = 0.0,
        reason: str | None = None,
        check_digest: bool = True,
    ) -> RefusalRule:
        """A rule from `ITEM=VALUE` conditions, a share and a reason (the command line's words)."""
        equals = {}
        for cond in when:
            item, sep, value = cond.partition("=")
            if not sep or not item.strip():
                raise ValueError(f"a refusal condition reads ITEM=VALUE, got {cond!r}")
            equals[item.strip().lower()] = value
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"the refused share must be between 0 and 1, got {share}")
        return cls(equals, share, reason or DEFAULT_REASON, check_digest)

    def judge(self, record_id: str, digest: str, data: Mapping[str, Any] | None) -> str | None:
        """The reason to refuse a row, or None to take it."""
        if self.check_digest and data_digest(data) != digest:
            return DIGEST_REASON
        if data is not None and any(
            name in data and str(_canonical(data[name])) == value for name, value in self.equals.items()
        ):
            return self.reason
        if self.share and int(_sm3(f"{record_id}:{digest}")[:8], 16) < self.share * 0x1_0000_0000:
            return self.reason
        return None


@dataclass
class AgentPass:
    """What the agent did: rows taken, refused, and found rewritten before it could mark them (stale)."""

    taken: int = 0
    refused: int = 0
    stale: int = 0
    by_table: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, table: str, kind: str, n: int = 1) -> None:
        """Count `n` rows of `kind` in `table`."""
        setattr(self, kind, getattr(self, kind) + n)
        counts = self.by_table.setdefault(table, {"taken": 0, "refused": 0, "stale": 0})
        counts[kind] += n


class ExchangeAgent:
    """Takes and refuses rows of the exchange tables the catalogue registers for the centre."""

    def __init__(
        self, engine: sa.Engine, catalog: Catalog, rule: RefusalRule | None = None, batch: int = 500
    ):
        self.engine = engine
        self.rule = rule or RefusalRule()
        self.batch = batch
        self.resources = [r for _, r in sorted(catalog.resources.items()) if RECEIVER in r.receivers]

    def _table(self, resource: Resource) -> sa.TableClause:
        name = str(resource.receivers[RECEIVER]["table"]).lower()
        control = ("hj_jlid", "hj_czlx", "hj_xh", "hj_sjzw", "hj_zt", "hj_fkxx", "hj_qssj")
        return sa.table(name, *(sa.column(c) for c in (*control, *resource.item_names)))

    def _now(self) -> dt.datetime | str:
        # Contract: Asia/Shanghai local time without zone; on SQLite the text 'YYYY-MM-DD HH:MM:SS'.
        now = dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)
        return now.strftime("%Y-%m-%d %H:%M:%S") if self.engine.dialect.name == "sqlite" else now

    def run_once(self) -> AgentPass:
        """Take every row waiting now, table by table, in HJ_XH order."""
        done = AgentPass()
        present = set(sa.inspect(self.engine).get_table_names())
        for resource in self.resources:
            table = self._table(resource)
            if table.name in present:
                self._drain(resource, table, done)
        return done

    def _drain(self, resource: Resource, table: sa.TableClause, done: AgentPass) -> None:
        after = 0
        while True:
            # Past the last HJ_XH seen: a stale row comes back with a higher one, a refused row never.
            stmt = (
                sa.select(table)
                .where(table.c.hj_zt == "0", table.c.hj_xh > after)
                .order_by(table.c.hj_xh)
                .limit(self.batch)
            )
            with self.engine.connect() as conn:
                rows = list(conn.execute(stmt).mappings())
            if not rows:
                return
            after = int(rows[-1]["hj_xh"])
            self._mark(resource, table, rows, done)

    def _mark(
        self, resource: Resource, table: sa.TableClause, rows: Sequence[Mapping], done: AgentPass
    ) -> None:
        # The contract's conditional update, many rows a statement: a rewritten row (new HJ_XH) matches
        # nothing and is counted stale; it waits under its new HJ_XH for a later read.
        takes: list[dict[str, Any]] = []
        refusals: list[dict[str, Any]] = []
        for row in rows:
            data = None if row["hj_czlx"] == "D" else {name: row[name] for name in resource.item_names}
            reason = self.rule.judge(row["hj_jlid"], str(row["hj_sjzw"]).strip(), data)
            key = {"k_jlid": row["hj_jlid"], "k_xh": row["hj_xh"]}
            (refusals if reason else takes).append(key | ({"v_fkxx": reason[:500]} if reason else {}))
        where = sa.and_(table.c.hj_jlid == sa.bindparam("k_jlid"), table.c.hj_xh == sa.bindparam("k_xh"))
        now = self._now()
        with self.engine.begin() as conn:
            for kind, params, values in (
                ("taken", takes, {"hj_zt": "1", "hj_qssj": now}),
                ("refused", refusals, {"hj_zt": "2", "hj_fkxx": sa.bindparam("v_fkxx"), "hj_qssj": now}),
            ):
                if params:
                    matched = conn.execute(table.update().where(where).values(values), params).rowcount
                    done.add(table.name, kind, matched)
                    done.add(table.name, "stale", len(params) - matched)

    def run_loop(self, stop: threading.Event, interval: float = 1.0) -> AgentPass:
        """Take rows again and again, pausing `interval` seconds after an idle pass, until `stop` is set."""
        total = AgentPass()
        while not stop.is_set():
            one = self.run_once()
            for table, counts in one.by_table.items():
                for kind, n in counts.items():
                    total.add(table, kind, n)
            if not (one.taken or one.refused or one.stale):
                stop.wait(interval)
        return total


def run_for(agent: ExchangeAgent, seconds: float, interval: float = 1.0) -> AgentPass:
    """Run the loop for `seconds` (the command line's `--for`) and return what it did."""
    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    timer.start()
    started = time.monotonic()
    try:
        total = agent.run_loop(stop, interval)
    finally:
        timer.cancel()
    log.info("exchange agent ran %.1f s", time.monotonic() - started)
    return total
