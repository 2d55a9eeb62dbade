"""Benchmark: standardize + validate throughput (rows/s) and the share of it spent in Great Expectations.

Generates a legacy database (SQLite) at the given scale, extracts the permits (0101–0502) and the 0701
competence certificates once, then times the standardize step of each of their resources: standardizers,
row rules and quarantine decision, then the resource's GX suite over the same batch. Writes
bench/results/standardize-<date>-<label>.json and prints a summary.

    .venv/bin/python bench/standardize.py --scale 1 --label s1
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import tempfile
import time
from pathlib import Path

from machine import machine  # bench/machine.py: the scripts run from this folder
from records import record_path

SOURCES = ("permits", "competence_certificates")
RESULTS = Path(__file__).resolve().parent / "results"


def _connect(work: Path, legacy_url: str) -> None:
    os.environ["SDX_HOME"] = str(work / "sdx_home")
    for conn_id, url in (("legacy_supervision", legacy_url), ("curated", f"sqlite:///{work / 'curated.db'}")):
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(
            {"conn_type": "generic", "extra": {"sqlalchemy_url": url}}
        )


def main() -> None:
    """Generate, extract once, time standardize + validate per resource, write the JSON record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--label", default="s1")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sdx-bench-std-"))
    legacy_url = f"sqlite:///{work / 'legacy.db'}"
    _connect(work, legacy_url)

    from exchange.context import RunContext
    from exchange.pipeline import prepare
    from exchange.steps.extract import extract_source
    from exchange.steps.standardize import standardize_resource
    from sandbox.legacy import generate_legacy
    from schemas.manifest import manifests

    clock = time.perf_counter()
    generate_legacy(legacy_url, scale=args.scale, seed=args.seed)
    generated = time.perf_counter() - clock
    ctx = RunContext(run_id="bench-standardize", logical_date=dt.date(2026, 11, 29))
    prepare(ctx)
    # Import Great Expectations before timing: its import (seconds) is paid once per process, not per batch.
    import great_expectations  # noqa: F401

    import quality.expectations  # noqa: F401

    resources = {}
    for source in SOURCES:
        extract_source(ctx, source)
        for name in manifests()[source].resources():
            clock = time.perf_counter()
            stats = standardize_resource(ctx, name)
            wall = time.perf_counter() - clock
            resources[name] = {
                "rows": stats["extracted"],
                "quarantined": stats["quarantined"],
                "seconds": round(wall, 3),
                "standardize_seconds": stats["seconds"],
                "gx_seconds": stats["gx"]["seconds"],
            }
    rows = sum(r["rows"] for r in resources.values())
    seconds = sum(r["seconds"] for r in resources.values())
    gx_seconds = sum(r["gx_seconds"] for r in resources.values())
    record = {
        "date": dt.date.today().isoformat(),
        "scale": args.scale,
        "seed": args.seed,
        "sources": SOURCES,
        "generate_seconds": round(generated, 1),
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds),
        "rows_per_second_without_gx": round(rows / (seconds - gx_seconds)),
        "gx_seconds": round(gx_seconds, 3),
        "gx_share": round(gx_seconds / seconds, 3),
        "resources": resources,
        "machine": machine(),
    }
    out = record_path(RESULTS, f"standardize-{record['date']}-{args.label}")
    out.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(
        f"{rows:,} rows in {seconds:.1f} s: {record['rows_per_second']:,} rows/s "
        f"({record['rows_per_second_without_gx']:,} rows/s without GX); GX {gx_seconds:.1f} s = "
        f"{record['gx_share']:.0%}; {out}"
    )


if __name__ == "__main__":
    main()
