"""Generating the legacy supervision database, with its quirks, into any SQLAlchemy database.

``generate_legacy`` drops and recreates the legacy tables at a URL and fills them table by table, in
chunks, each table in one transaction. With a truth path it also writes the truth file: every quirk
it put in, with the value a standardizer must make of it.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import sqlalchemy as sa

from sandbox.legacy import enterprise_rows, filing_rows, permit_rows, person_rows
from sandbox.legacy.enterprise_rows import EnterpriseBook
from sandbox.legacy.permit_rows import PermitPlan
from sandbox.legacy.permit_types import storage_address_share, type_rows
from sandbox.legacy.places import division_rows
from sandbox.legacy.quirks import GXSJ_COLUMNS, resolve_rates
from sandbox.legacy.quotas import QuotaPlan, plan_quotas
from sandbox.legacy.table_run import Row, TableRun
from sandbox.legacy.tables import LEGACY_METADATA, LEGACY_TABLES
from sandbox.legacy.timeline import GXSJ_INTRODUCED, DateSpread
from sandbox.legacy.truth import TruthWriter

#: Rows of each table in production (scale 1). The code tables are not scaled.
PRODUCTION_ROWS: Mapping[str, int] = MappingProxyType(
    {
        "T_QY_JBXX": 40_000,
        "T_XK_SQ": 60_000,
        "T_XK_ZS": 35_000,
        "T_XK_KZ": 150_000,
        "T_BA_YJYA": 32_000,
        "T_ZDWXY": 600,
        "T_PX_KHHG": 126_000,
        "T_TZZY_CZZ": 45_000,
        "T_HY_JGXX": 2_500,
        "T_WH_CXSB": 15_000,
    }
)
CODE_TABLE_ROWS: Mapping[str, int] = MappingProxyType(
    {"T_DM_SXLX": len(type_rows()), "T_DM_XZQH": len(division_rows())}
)
#: Even the smallest database has a few rows in every table.
MIN_ROWS = 5
CHUNK_ROWS = 5_000

# When each table's rows were created, for the share of them older than GXSJ (gxsj.null counts only those).
_CREATION_SPREADS: Mapping[str, DateSpread] = MappingProxyType(
    {
        "T_QY_JBXX": enterprise_rows.CREATED,
        "T_XK_SQ": permit_rows.SUBMITTED,
        "T_XK_ZS": permit_rows.ISSUED,
        "T_BA_YJYA": filing_rows.PLAN_FILED,
        "T_ZDWXY": filing_rows.HAZARD_FILED,
        "T_PX_KHHG": person_rows.EXAMINED,
        "T_TZZY_CZZ": person_rows.LICENSED,
        "T_HY_JGXX": filing_rows.INSPECTED,
        "T_WH_CXSB": filing_rows.DECLARED,
    }
)

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class GenerationSummary:
    """What one generation made.

    Attributes:
        rows: rows written per table.
        quirks: instances per quirk (truth-file rows; coordinate quirks count two, JD and WD).
        seconds: wall time the generation took.
        truth_path: where the truth file was written, if anywhere.

    """

    rows: dict[str, int]
    quirks: dict[str, int]
    seconds: float
    truth_path: Path | None = None

    def __str__(self) -> str:
        """Return a one-line report: rows per table, quirk instances, time, truth file."""
        tables = ", ".join(f"{table} {rows:,}" for table, rows in self.rows.items())
        truth = f"; truth file {self.truth_path}" if self.truth_path else ""
        return (
            f"{sum(self.rows.values()):,} rows in {len(self.rows)} tables ({tables}); "
            f"{sum(self.quirks.values()):,} quirk instances of {len(self.quirks)} kinds; "
            f"{self.seconds:.1f} s{truth}"
        )


def row_counts(scale: float) -> dict[str, int]:
    """Return the rows of every table at ``scale`` (1 = production), code tables unscaled."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, not {scale}")
    counts = dict(CODE_TABLE_ROWS)
    counts.update({table: max(round(rows * scale), MIN_ROWS) for table, rows in PRODUCTION_ROWS.items()})
    return {table: counts[table] for table in LEGACY_TABLES}


def _shares(counts: Mapping[str, int], rates: Mapping[str, float]) -> dict[tuple[str, str], float]:
    """Return the share of each target's rows a rate counts, where that is not all of them."""
    shares = {
        ("gxsj.null", target): _CREATION_SPREADS[target.split(".")[0]].share_before(GXSJ_INTRODUCED)
        for target in GXSJ_COLUMNS
    }
    shares["kz.name_drift", "T_XK_KZ.SXMC"] = storage_address_share(counts["T_XK_KZ"] / counts["T_XK_ZS"])
    # A duplicate adds a row: of n rows, n * rate / (1 + rate) are second rows.
    shares["enterprise.duplicate", "T_QY_JBXX.QYID"] = 1 / (1 + rates["enterprise.duplicate"])
    return shares


def generate_legacy(
    url: str,
    *,
    scale: float = 1.0,
    seed: int = 0,
    truth_path: Path | None = None,
    rates: Mapping[str, float] | None = None,
    progress: Progress | None = None,
) -> GenerationSummary:
    """Drop and recreate the legacy tables at ``url`` and fill them with realistic, quirky data.

    The same arguments always give the same database and truth file: all randomness comes from ``seed``
    and "today" is fixed (2026-11-28).

    Args:
        url: SQLAlchemy URL of the database (SQLite, MariaDB, PostgreSQL, ...).
        scale: rows relative to production (1 ≈ 500,000 rows); every table gets at least 5.
        seed: seed of all randomness.
        truth_path: where to write the truth file (Parquet); None for none.
        rates: quirk rates overriding the defaults of ``quirks.QUIRKS`` (0 switches a quirk off).
        progress: called after each chunk with (table, rows done, rows total).

    Returns:
        Rows per table, quirk counts and the time taken.

    Raises:
        ValueError: for a scale that is not positive, or an unknown quirk or bad rate in ``rates``.

    """
    started = time.perf_counter()
    resolved = resolve_rates(rates)
    counts = row_counts(scale)
    quotas = plan_quotas(counts, resolved, _shares(counts, resolved))
    engine = sa.create_engine(url)
    try:
        LEGACY_METADATA.drop_all(engine)
        LEGACY_METADATA.create_all(engine)
        with TruthWriter(truth_path) as truth:
            written = _fill(engine, _World(seed, counts, quotas, truth), progress)
    finally:
        engine.dispose()
    return GenerationSummary(
        rows=written,
        quirks=dict(sorted(truth.counts.items())),
        seconds=time.perf_counter() - started,
        truth_path=truth_path,
    )


@dataclass
class _World:
    """What the tables of one generation share: seed, sizes, quotas, truth, and what earlier tables made."""

    seed: int
    counts: Mapping[str, int]
    quotas: QuotaPlan
    truth: TruthWriter
    book: EnterpriseBook = field(default_factory=EnterpriseBook)
    permits: PermitPlan | None = None

    def rng(self, name: str) -> random.Random:
        """Return the random stream of one part of the generation (a table, or the permit plan)."""
        # String seeds are hashed with SHA-512, so streams do not depend on PYTHONHASHSEED.
        return random.Random(f"{self.seed}:{name}")

    def run(self, table: str) -> TableRun:
        """Start generating one table."""
        rng = self.rng(table)
        rows = self.counts[table]
        return TableRun(table, rows, rng, self.quotas.pickers(table, rng, rows), self.truth)

    def permit_plan(self) -> PermitPlan:
        """Return the plan of certificates and applications, made on first use."""
        if self.permits is None:
            rng = self.rng("permits")
            orphans = self.quotas.picker("T_XK_ZS", "QYID", rng, self.counts["T_XK_ZS"])
            self.permits = permit_rows.plan_permits(rng, self.book, self.counts, orphans)
        return self.permits


def _enterprise_rows(run: TableRun, world: _World) -> Iterator[Row]:
    twins = world.quotas.quotas.get("T_QY_JBXX.QYID", {}).get("enterprise.duplicate", 0)
    twins = min(twins, run.rows // 2)
    enterprises = run.rows - twins
    duplicates = world.quotas.picker("T_QY_JBXX", "QYID", run.rng, enterprises)
    return enterprise_rows.enterprise_rows(run, world.book, enterprises, duplicates if twins else None)


_BUILDERS: Mapping[str, Callable[[TableRun, _World], Iterable[Row]]] = MappingProxyType(
    {
        "T_DM_SXLX": lambda run, world: type_rows(),
        "T_DM_XZQH": lambda run, world: division_rows(),
        "T_QY_JBXX": _enterprise_rows,
        "T_XK_SQ": lambda run, world: permit_rows.application_rows(run, world.permit_plan(), world.book),
        "T_XK_ZS": lambda run, world: permit_rows.certificate_rows(run, world.permit_plan()),
        "T_XK_KZ": lambda run, world: permit_rows.attribute_rows(run, world.permit_plan()),
        "T_BA_YJYA": lambda run, world: filing_rows.plan_filing_rows(run, world.book),
        "T_ZDWXY": lambda run, world: filing_rows.hazard_rows(run, world.book),
        "T_PX_KHHG": lambda run, world: person_rows.competence_rows(run, world.book),
        "T_TZZY_CZZ": lambda run, world: person_rows.operator_rows(run, world.book),
        "T_HY_JGXX": lambda run, world: filing_rows.supervision_rows(run, world.book),
        "T_WH_CXSB": lambda run, world: filing_rows.declaration_rows(run, world.book),
    }
)


def _fill(engine: sa.Engine, world: _World, progress: Progress | None) -> dict[str, int]:
    written = {}
    for name, table in LEGACY_TABLES.items():
        run = world.run(name)
        written[name] = _insert(engine, table, _BUILDERS[name](run, world), run.rows, progress)
    return written


def _insert(
    engine: sa.Engine, table: sa.Table, rows: Iterable[Row], total: int, progress: Progress | None
) -> int:
    """Insert rows in chunks, the whole table in one transaction; return how many were inserted."""
    done = 0
    iterator = iter(rows)
    with engine.begin() as conn:
        while chunk := list(itertools.islice(iterator, CHUNK_ROWS)):
            conn.execute(table.insert(), chunk)
            done += len(chunk)
            if progress is not None:
                progress(table.name, done, total)
    return done
