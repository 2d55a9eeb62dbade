"""Time one nightly run of the catalogued resources, per step, on a generated legacy database.

Usage: python bench/nightly_flow.py --scale 1 [--legacy-url URL --curated-url URL --exchange-url URL]
Without URLs everything is SQLite files in a temporary folder. Prints and writes a JSON record.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from machine import machine  # bench/machine.py: the scripts run from this folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--legacy-url")
    parser.add_argument("--curated-url")
    parser.add_argument("--exchange-url")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sdx-bench-"))
    urls = {
        "legacy_supervision": args.legacy_url or f"sqlite:///{work / 'legacy.db'}",
        "curated": args.curated_url or f"sqlite:///{work / 'curated.db'}",
        "bigdata_centre": args.exchange_url or f"sqlite:///{work / 'exchange.db'}",
    }
    for conn_id, url in urls.items():
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(
            {"conn_type": "generic", "extra": {"sqlalchemy_url": url}}
        )
    os.environ["SDX_HOME"] = str(work / "home")

    from exchange.context import RunContext
    from exchange.pipeline import run_pipeline
    from sandbox.legacy import generate_legacy

    started = time.perf_counter()
    generate_legacy(urls["legacy_supervision"], scale=args.scale, seed=args.seed)
    generated = time.perf_counter() - started

    runs = {}
    for name, mode in (("first", "incremental"), ("repeat", "incremental")):
        started = time.perf_counter()
        stats = run_pipeline(
            RunContext(run_id=f"bench-{name}", logical_date=dt.date(2026, 11, 29), mode=mode)
        )
        runs[name] = {"seconds": round(time.perf_counter() - started, 2), "steps": stats}
    record = {
        "benchmark": "nightly_flow",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "scale": args.scale,
        "backends": {k: v.split(":", 1)[0] for k, v in urls.items()},
        "generate_seconds": round(generated, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "runs": runs,
    }
    out = Path(args.out) / f"nightly_flow-{dt.date.today().isoformat()}-scale{args.scale:g}.json"
    out.write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    json.dump(
        {k: v for k, v in record.items() if k != "runs"}
        | {"run_seconds": {k: v["seconds"] for k, v in runs.items()}},
        sys.stdout,
        indent=2,
    )
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
