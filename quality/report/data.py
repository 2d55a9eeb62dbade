"""What a run's quality report shows, read from the curated database: counts, trends, rules and open quarantine.

Only the curated database is read (run state and the quarantine): its values are already masked where
personal, so nothing here can leak a raw staging value into a report.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from catalog import Catalog
from quality.issues import issue_kinds
from quality.quarantine import quarantine_table
from quality.standardize.divisions import DivisionTable

# The run tables are defined in exchange.state; quality may not import exchange (DESIGN "Layout"), so the
# columns the report reads are named here as lightweight clauses.
RUNS = sa.table(
    "sdx_run",
    sa.column("run_id", sa.String),
    sa.column("mode", sa.String),
    sa.column("logical_date", sa.Date),
    sa.column("started_at", sa.DateTime),
    sa.column("finished_at", sa.DateTime),
    sa.column("status", sa.String),
)
RUN_STEPS = sa.table(
    "sdx_run_step",
    sa.column("run_id", sa.String),
    sa.column("resource", sa.String),
    sa.column("step", sa.String),
    sa.column("stats", sa.Text),
)
QUARANTINE = quarantine_table(sa.MetaData())
RECONCILIATION = sa.table(
    "sdx_reconciliation",
    *(
        sa.column(name)
        for name in (
            "run_id", "receiver", "resource", "table_name", "receiver_live", "receiver_deleted",
            "receiver_digest", "ledger_live", "ledger_digest", "curated_live", "curated_digest", "waiting",
            "taken", "refused", "differences",
        )
    ),
)  # fmt: skip

DELIVER_PREFIX = "deliver:"
CURATED_KEYS = ("inserted", "updated", "deleted", "unchanged")
UNKNOWN_DISTRICT = "区县未识别"
# What the report calls records of the city bureau itself (the prefecture's own code).
CITY_LEVEL = "市本级"
# Run times are Asia/Shanghai wall-clock times without zone (exchange.context.shanghai_now); so is the report's.
SHANGHAI = ZoneInfo("Asia/Shanghai")
RECORD_LEVEL_ITEM = "（整条记录）"


@functools.cache
def districts() -> dict[str, str]:
    """Current county-level divisions of Changzhou by code, in code order, then the city's own code.

    Read from the catalogue's division history (catalog/codelists/divisions_3204.csv): the sheets of the
    rectification workbook and the district table follow this order.
    """
    current = [d for d in DivisionTable.load().divisions.values() if d.valid_to is None]
    counties = {d.code: d.name for d in sorted(current, key=lambda d: d.code) if d.level != "prefecture"}
    return counties | {d.code: CITY_LEVEL for d in current if d.level == "prefecture"}


def district_name(code: str | None) -> str:
    """The district a division code belongs to, or `区县未识别` (no code, or not a current district)."""
    return districts().get(code or "", UNKNOWN_DISTRICT)


def district_order(name: str) -> int:
    """Sort key of a district name: the bureau's order, unidentified last."""
    names = list(districts().values())
    return names.index(name) if name in names else len(names)


@dataclass(frozen=True)
class RunInfo:
    """One row of sdx_run."""

    run_id: str
    mode: str
    logical_date: dt.date
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str


@dataclass(frozen=True)
class ResourceSummary:
    """What one run did with one resource, from its step statistics."""

    name: str
    title: str
    extracted: int = 0
    deleted: int = 0
    valid: int = 0
    quarantined: int = 0
    quarantined_by_issue: dict[str, int] = field(default_factory=dict)
    rule_failures: dict[str, int] = field(default_factory=dict)
    gx_success: bool | None = None
    gx_unexpected: dict[str, int] = field(default_factory=dict)
    curated: dict[str, int] = field(default_factory=dict)
    delivered: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def pass_rate(self) -> float | None:
        """Share of live extracted records that passed (deletes are never judged), or None without any."""
        return pass_rate(self.extracted, self.deleted, self.valid)


@dataclass(frozen=True)
class TrendPoint:
    """One resource in one earlier (or this) run: its pass rate and how many records it quarantined."""

    run_id: str
    started_at: dt.datetime
    pass_rate: float | None
    quarantined: int


@dataclass(frozen=True)
class IssueCount:
    """One issue over the run: quarantined records, the resources it hit (most first), and the clerk's words."""

    code: str
    message: str
    fix: str
    records: int
    resources: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class OpenQuarantine:
    """One open quarantine row (record × issue × item), with the titles a clerk reads."""

    resource: str
    resource_title: str
    record_id: str
    source_table: str
    source_key: str
    division: str | None
    item: str
    item_title: str
    issue: str
    value_masked: str | None
    message: str
    fix: str
    first_seen: dt.datetime
    last_seen: dt.datetime

    @property
    def district(self) -> str:
        """The district whose clerks fix this row."""
        return district_name(self.division)


@dataclass(frozen=True)
class Reconciled:
    """One resource's reconciliation with a receiver in the run: counts on each side, digests, statuses."""

    receiver: str
    resource: str
    title: str
    table_name: str
    receiver_live: int
    receiver_deleted: int
    ledger_live: int
    curated_live: int
    digests_agree: bool
    waiting: int
    taken: int
    refused: int
    differences: int


@dataclass(frozen=True)
class ReportData:
    """Everything one run's report shows; `validation_pages` maps resources to their validation page."""

    run: RunInfo
    resources: tuple[ResourceSummary, ...]
    trends: dict[str, tuple[TrendPoint, ...]]
    history: tuple[RunInfo, ...]
    top_issues: tuple[IssueCount, ...]
    open_quarantine: tuple[OpenQuarantine, ...]
    generated_at: dt.datetime
    validation_pages: dict[str, str] = field(default_factory=dict)
    workbook_name: str | None = None
    reconciliation: tuple[Reconciled, ...] = ()

    @property
    def receivers(self) -> list[str]:
        """Every receiver a resource of this run was delivered to, in name order."""
        return sorted({r for res in self.resources for r in res.delivered})


def pass_rate(extracted: int, deleted: int, valid: int) -> float | None:
    """The share of live extracted records that passed; deletes pass by construction and would flatter it."""
    live = extracted - deleted
    return (valid - deleted) / live if live > 0 else None


def load_report_data(engine: sa.Engine, run_id: str, catalog: Catalog, *, history: int = 30) -> ReportData:
    """The report of `run_id`: its resources' step statistics, trends over `history` runs, open quarantine."""
    with engine.connect() as conn:
        run = _run(conn, run_id)
        steps = _step_stats(conn, [run_id]).get(run_id, {})
        earlier = _history(conn, run, history)
        trend_stats = _step_stats(conn, [r.run_id for r in earlier])
        open_rows = _open_quarantine(conn, catalog)
        reconciled = _reconciliation(conn, run_id, catalog)
    titles = {name: res.title for name, res in catalog.resources.items()}
    resources = tuple(_summary(name, titles.get(name, name), steps[name]) for name in sorted(steps))
    return ReportData(
        run=run,
        resources=resources,
        trends=_trends(earlier, trend_stats, [r.name for r in resources]),
        history=tuple(earlier),
        top_issues=top_issues(resources),
        open_quarantine=open_rows,
        generated_at=dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0),
        reconciliation=reconciled,
    )


def _reconciliation(conn: sa.Connection, run_id: str, catalog: Catalog) -> tuple[Reconciled, ...]:
    # A curated database from before reconciliation existed has no such table: the report shows none.
    if not sa.inspect(conn).has_table(RECONCILIATION.name):
        return ()
    r = RECONCILIATION
    stmt = sa.select(r).where(r.c.run_id == run_id).order_by(r.c.receiver, r.c.resource)
    return tuple(
        Reconciled(
            receiver=row.receiver,
            resource=row.resource,
            title=catalog.resources[row.resource].title
            if row.resource in catalog.resources
            else row.resource,
            table_name=row.table_name,
            receiver_live=int(row.receiver_live),
            receiver_deleted=int(row.receiver_deleted),
            ledger_live=int(row.ledger_live),
            curated_live=int(row.curated_live),
            digests_agree=row.receiver_digest == row.ledger_digest == row.curated_digest,
            waiting=int(row.waiting),
            taken=int(row.taken),
            refused=int(row.refused),
            differences=int(row.differences),
        )
        for row in conn.execute(stmt)
    )


def _run(conn: sa.Connection, run_id: str) -> RunInfo:
    row = conn.execute(sa.select(RUNS).where(RUNS.c.run_id == run_id)).first()
    if row is None:
        raise LookupError(f"run {run_id!r} is not recorded in the curated database (table sdx_run)")
    return _run_info(row)


def _run_info(row: sa.Row) -> RunInfo:
    return RunInfo(
        run_id=row.run_id,
        mode=row.mode,
        logical_date=row.logical_date,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=row.status,
    )


def _history(conn: sa.Connection, run: RunInfo, limit: int) -> list[RunInfo]:
    # The runs up to this one: a report of an older run shows the trend as it stood then.
    stmt = (
        sa.select(RUNS)
        .where(RUNS.c.started_at <= run.started_at)
        .order_by(RUNS.c.started_at.desc(), RUNS.c.run_id.desc())
        .limit(max(limit, 1))
    )
    found = [_run_info(row) for row in conn.execute(stmt)]
    if run.run_id not in {r.run_id for r in found}:
        found = [run, *found[: max(limit, 1) - 1]]
    return sorted(found, key=lambda r: (r.started_at, r.run_id))


def _step_stats(conn: sa.Connection, run_ids: list[str]) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """Run → resource → step → statistics."""
    out: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    if not run_ids:
        return out
    stmt = sa.select(RUN_STEPS).where(RUN_STEPS.c.run_id.in_(run_ids))
    for row in conn.execute(stmt):
        out.setdefault(row.run_id, {}).setdefault(row.resource, {})[row.step] = json.loads(row.stats)
    return out


def _summary(name: str, title: str, steps: Mapping[str, dict[str, Any]]) -> ResourceSummary:
    std, cur = steps.get("standardize", {}), steps.get("curate", {})
    gx = std.get("gx") or {}
    return ResourceSummary(
        name=name,
        title=title,
        extracted=int(std.get("extracted", 0)),
        deleted=int(std.get("deleted", 0)),
        valid=int(std.get("valid", 0)),
        quarantined=int(std.get("quarantined", 0)),
        quarantined_by_issue={k: int(v) for k, v in (std.get("quarantined_by_issue") or {}).items()},
        rule_failures={k: int(v) for k, v in (std.get("rule_failures") or {}).items()},
        gx_success=gx.get("success") if gx else None,
        gx_unexpected={k: int(v) for k, v in (gx.get("unexpected") or {}).items()},
        curated={k: int(cur.get(k, 0)) for k in CURATED_KEYS},
        delivered={
            step.removeprefix(DELIVER_PREFIX): {k: int(stats.get(k, 0)) for k in (*CURATED_KEYS, "sent")}
            for step, stats in steps.items()
            if step.startswith(DELIVER_PREFIX)
        },
    )


def _trends(
    runs: list[RunInfo], stats: Mapping[str, dict[str, dict[str, dict[str, Any]]]], resources: list[str]
) -> dict[str, tuple[TrendPoint, ...]]:
    """Per resource, one point per run that standardized it (runs that skipped it leave no point)."""
    out: dict[str, tuple[TrendPoint, ...]] = {}
    for name in resources:
        points = []
        for run in runs:
            std = stats.get(run.run_id, {}).get(name, {}).get("standardize")
            if std is None:
                continue
            rate = pass_rate(
                int(std.get("extracted", 0)), int(std.get("deleted", 0)), int(std.get("valid", 0))
            )
            points.append(TrendPoint(run.run_id, run.started_at, rate, int(std.get("quarantined", 0))))
        out[name] = tuple(points)
    return out


def top_issues(resources: Iterable[ResourceSummary], limit: int = 10) -> tuple[IssueCount, ...]:
    """The issues that quarantined the most records in the run, with the clerk's message and fix."""
    counts: collections.Counter[str] = collections.Counter()
    hit: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for res in resources:
        for code, n in res.quarantined_by_issue.items():
            counts[code] += n
            hit[code][res.title] += n
    kinds = issue_kinds()
    out = []
    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]:
        kind = kinds.get(code)
        # A code retired from issues.yaml still shows in an old run's report, by its code.
        message, fix = (kind.message, kind.fix) if kind else (code, "")
        out.append(IssueCount(code, message, fix, n, tuple(hit[code].most_common())))
    return tuple(out)


def _open_quarantine(conn: sa.Connection, catalog: Catalog) -> tuple[OpenQuarantine, ...]:
    q = QUARANTINE
    stmt = (
        sa.select(q)
        .where(q.c.resolved_at.is_(None))
        .order_by(q.c.division, q.c.resource, q.c.record_id, q.c.issue, q.c.item)
    )
    return tuple(_open_row(row, catalog) for row in conn.execute(stmt))


def _open_row(row: sa.Row, catalog: Catalog) -> OpenQuarantine:
    resource = catalog.resources.get(row.resource)
    return OpenQuarantine(
        resource=row.resource,
        resource_title=resource.title if resource else row.resource,
        record_id=row.record_id,
        source_table=row.source_table,
        source_key=row.source_key,
        division=row.division,
        item=row.item,
        item_title=_item_title(catalog, row.resource, row.item),
        issue=row.issue,
        value_masked=row.value_masked,
        message=row.message,
        fix=row.fix,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )


def _item_title(catalog: Catalog, resource_name: str, item: str) -> str:
    if not item:
        return RECORD_LEVEL_ITEM
    resource = catalog.resources.get(resource_name)
    found = [it.title for it in resource.items if it.name == item] if resource else []
    return found[0] if found else item
