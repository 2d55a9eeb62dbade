"""Extraction from the legacy database: rows per second and peak memory, full and incremental.

Usage: python bench/extraction.py --legacy-url URL --label s1 [--change-share 0.01] [--batch-size N]

Three phases, each in a fresh process so that its peak memory is its own:
  full         every manifest's source read in full mode into staging (the watermarks it justifies kept)
  touch        watermarks set from the full phase, then `--change-share` of each source's primary rows
               stamped with a new GXSJ, as a night of clerks' edits would
  incremental  every source read again in incremental mode
Writes bench/results/extraction-<date>-<label>.json and prints a summary; the work folder is kept, so
`--again WORK` can time the incremental phase again against the same full read and re-stamped rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from machine import machine  # bench/machine.py: the scripts run from this folder
from records import record_path

RESULTS = Path(__file__).parent / "results"


def _environment(work: Path, legacy_url: str) -> None:
    conns = {"legacy_supervision": legacy_url, "curated": f"sqlite:///{work / 'curated.db'}"}
    for conn_id, url in conns.items():
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(
            {"conn_type": "generic", "extra": {"sqlalchemy_url": url}}
        )
    os.environ["SDX_HOME"] = str(work / "home")


def _extract_all(run_id: str, mode: str) -> dict:
    from exchange import state
    from exchange.context import RunContext
    from exchange.steps.extract import extract_source
    from schemas.manifest import manifests

    ctx = RunContext(run_id=run_id, logical_date=dt.date(2026, 11, 29), mode=mode)
    state.create_all(ctx.curated.get_conn(), ctx.catalog.resources.values())
    started, sources = time.perf_counter(), {}
    for name, manifest in manifests().items():
        result = extract_source(ctx, name, manifest.resources())
        sources[name] = {
            "rows_read": result["rows_read"],
            "seconds": result["seconds"],
            "changed_until": result["changed_until"],
        }
    seconds = time.perf_counter() - started
    rows = sum(s["rows_read"] for s in sources.values())
    return {
        "mode": mode, "seconds": round(seconds, 2), "rows": rows, "rows_per_second": round(rows / seconds),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "sources": sources,
    }  # fmt: skip


def _touch(share: float, full: dict) -> dict:
    from exchange import state
    from exchange.context import RunContext, shanghai_now
    from schemas.manifest import manifests

    ctx = RunContext(run_id="bench-touch", logical_date=dt.date(2026, 11, 29))
    stamp = shanghai_now()
    with ctx.curated.get_conn().begin() as conn:
        for name, manifest in manifests().items():
            until = full["sources"][name]["changed_until"]
            for resource_name in manifest.resources():
                state.move_watermark(
                    conn, resource_name, dt.datetime.fromisoformat(str(until)), "bench-full", stamp
                )
    return {"touched": change_rows(ctx.legacy.get_conn(), share, stamp)}


#: The free-text column of each source's primary table that a night's edits change (the permit's scope, the
#: enterprise's business address, …): a text item with no pattern or code list, so an edited value is still a
#: valid one and the record's next version is delivered, as a clerk's edit would be.
EDITED_COLUMNS = {
    "cases": "SLBH",
    "competence_certificates": "HYLB",
    "emergency_plans": "YAMC",
    "enterprises": "JYDZ",
    "industry_enterprises": "SCGY",
    "integrity_declarations": "CNR",
    "major_hazards": "WXYMC",
    "permits": "XKFW",
    "special_operation_certificates": "CZXM",
}
EDIT_MARK = "〔改"


def _edited(value: str | None, stamp: dt.datetime) -> str:
    # The same row edited on several nights keeps one mark, the latest: the value grows by one mark at most.
    base = (value or "").split(EDIT_MARK)[0]
    return f"{base}{EDIT_MARK}{stamp:%H%M%S}〕"


def change_rows(legacy: Any, share: float, stamp: dt.datetime, edit: bool = True) -> dict[str, int]:
    """Change `share` of each source's primary rows, as a night of clerks' edits would: a new GXSJ and,
    with `edit`, a new value in the source's free-text column (`EDITED_COLUMNS`).

    Every n-th key in key order, so the same rows each time; returns source → rows changed. Without `edit`
    only the change column moves: the run reads and judges those rows again, but finds nothing to deliver.
    """
    import sqlalchemy as sa

    from schemas.manifest import manifests

    touched = {}
    for name, manifest in manifests().items():
        table = manifest.primary
        edited = EDITED_COLUMNS[name] if edit else None
        columns = [manifest.key_column, table.change_column] + ([edited] if edited else [])
        clause = sa.table(table.table, *(sa.column(c) for c in columns))
        key = clause.c[manifest.key_column]
        with legacy.connect() as conn:
            keys = [k for (k,) in conn.execute(sa.select(key).order_by(key))]
        chosen = keys[:: max(1, round(1 / share))]
        with legacy.begin() as conn:
            for start in range(0, len(chosen), 1000):
                part = chosen[start : start + 1000]
                if edited is None:
                    conn.execute(clause.update().where(key.in_(part)).values({table.change_column: stamp}))
                    continue
                values = conn.execute(sa.select(key, clause.c[edited]).where(key.in_(part))).all()
                conn.execute(
                    clause.update().where(key == sa.bindparam("_key")),
                    [{"_key": k, table.change_column: stamp, edited: _edited(v, stamp)} for k, v in values],
                )
        touched[name] = len(chosen)
    return touched


def _phase(args: argparse.Namespace) -> None:
    _environment(Path(args.work), args.legacy_url)
    if args.batch_size:
        os.environ["SDX_BATCH_SIZE"] = str(args.batch_size)
    if args.phase == "touch":
        result = _touch(args.change_share, json.loads(Path(args.work, "full.json").read_text()))
    else:
        result = _extract_all(f"bench-{args.phase}", "full" if args.phase == "full" else "incremental")
    Path(args.work, f"{args.phase}.json").write_text(json.dumps(result, default=str))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--legacy-url", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--change-share", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument(
        "--again",
        metavar="WORK",
        help="only the incremental phase again, on the work folder of an earlier run (its full read, "
        "watermarks and re-stamped rows): extraction changed, the legacy database did not",
    )
    parser.add_argument("--phase", choices=["full", "touch", "incremental"], help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        _phase(args)
        return 0
    # Other work on the machine slows every phase: the load before and after goes into the record.
    load_before = [round(x, 1) for x in os.getloadavg()]
    work = Path(args.again or tempfile.mkdtemp(prefix="sdx-bench-extract-"))
    phases = {p: json.loads((work / f"{p}.json").read_text()) for p in ("full", "touch") if args.again}
    # The earlier incremental run's shared scans (the run's staging folder) would spare this one its scans.
    for shared in (work / "home" / "staging").glob("*/changes") if args.again else []:
        shutil.rmtree(shared)
    for phase in ("incremental",) if args.again else ("full", "touch", "incremental"):
        cmd = [sys.executable, __file__, "--legacy-url", args.legacy_url, "--label", args.label, "--phase", phase,
               "--work", str(work), "--change-share", str(args.change_share)]  # fmt: skip
        if args.batch_size:
            cmd += ["--batch-size", str(args.batch_size)]
        subprocess.run(cmd, check=True)
        phases[phase] = json.loads((work / f"{phase}.json").read_text())
    record = {
        "benchmark": "extraction", "label": args.label, "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "legacy": args.legacy_url.split("://", 1)[0], "batch_size": args.batch_size or 20000, **phases,
        "incremental_over_full": round(phases["incremental"]["seconds"] / phases["full"]["seconds"], 3),
        "load_average_before": load_before, "load_average_after": [round(x, 1) for x in os.getloadavg()],
        "work": str(work), "machine": machine(),
    }  # fmt: skip
    out = record_path(RESULTS, f"extraction-{dt.date.today().isoformat()}-{args.label}")
    out.write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    for phase in ("full", "incremental"):
        p = phases[phase]
        print(
            f"{args.label} {phase:<12} {p['rows']:>10,} rows {p['seconds']:>8.1f} s {p['rows_per_second']:>9,} rows/s  peak {p['peak_rss_mib']:,.0f} MiB"
        )
    print(f"incremental / full = {record['incremental_over_full']}; written to {out}; work folder {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
