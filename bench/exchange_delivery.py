"""Rows per second written to a PostgreSQL exchange database: the 18 types delivered at a given scale.

Usage: python bench/exchange_delivery.py --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432 --scale 1
       [--legacy-url URL] [--agent]

The legacy database is generated as a SQLite file in a temporary folder unless `--legacy-url` names one (read
only). The exchange database (and with `--curated-on-postgres` the curated one; else a SQLite file) is a
scratch database created on the PostgreSQL server and dropped afterwards. The pipeline runs once for every resource shared with the big-data centre; delivery's
own statistics give the time spent writing the exchange database (`exchange_seconds`) and the whole delivery
step with its ledger writes (`seconds`). With `--agent` the centre's exchange-agent stand-in takes rows in a
thread while the pipeline writes. Prints and writes a JSON record to bench/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from machine import machine  # bench/machine.py: the scripts run from this folder
from records import record_path

RECEIVER = "bigdata_centre"


def _scratch(server: sa.URL, label: str) -> str:
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE \"{label}\" ENCODING 'UTF8'"))
    admin.dispose()
    return server.set(database=label).render_as_string(hide_password=False)


def _drop(server: sa.URL, label: str) -> None:
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{label}" WITH (FORCE)'))
    admin.dispose()


def _delivery(stats: dict) -> dict:
    steps = {name: s[f"deliver:{RECEIVER}"] for name, s in stats.items() if f"deliver:{RECEIVER}" in s}
    rows = sum(s.get("inserted", 0) + s.get("updated", 0) + s.get("deleted", 0) for s in steps.values())
    exchange_seconds = sum(s.get("exchange_seconds", 0.0) for s in steps.values())
    seconds = sum(s.get("seconds", 0.0) for s in steps.values())
    return {
        "resources": len(steps),
        "rows_written": rows,
        "batches": sum(s.get("batches", 0) for s in steps.values()),
        "exchange_seconds": round(exchange_seconds, 2),
        "deliver_seconds": round(seconds, 2),
        "rows_per_second_exchange": round(rows / exchange_seconds) if exchange_seconds else None,
        "rows_per_second_deliver": round(rows / seconds) if seconds else None,
        "per_resource": {
            n: {k: s.get(k) for k in ("inserted", "exchange_seconds", "seconds")}
            for n, s in sorted(steps.items())
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres-url", required=True, help="PostgreSQL server URL, without a database")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--legacy-url", help="an existing legacy database, read only (default: generate one)")
    parser.add_argument("--agent", action="store_true", help="run the centre's agent concurrently")
    parser.add_argument(
        "--curated-on-postgres",
        action="store_true",
        help="curated database on the server too (default SQLite)",
    )
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sdx-bench-exchange-"))
    server = sa.make_url(args.postgres_url)
    tag = uuid.uuid4().hex[:8]
    labels = {"bigdata_centre": f"sdx_bench_ex_{tag}"}
    if args.curated_on_postgres:
        labels["curated"] = f"sdx_bench_cur_{tag}"
    urls = {conn_id: _scratch(server, label) for conn_id, label in labels.items()}
    urls.setdefault("curated", f"sqlite:///{work / 'curated.db'}")
    urls["legacy_supervision"] = args.legacy_url or f"sqlite:///{work / 'legacy.db'}"
    for conn_id, url in urls.items():
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(
            {"conn_type": "generic", "extra": {"sqlalchemy_url": url}}
        )
    os.environ["SDX_HOME"] = str(work / "home")

    from catalog import default_catalog
    from connectors.sql.engine import create_engine
    from exchange.context import RunContext
    from exchange.pipeline import run_pipeline
    from exchange.reconcile import reconcile
    from sandbox.exchange_agent import ExchangeAgent
    from sandbox.legacy import generate_legacy

    try:
        generated = None
        if not args.legacy_url:
            started = time.perf_counter()
            generate_legacy(urls["legacy_supervision"], scale=args.scale, seed=args.seed)
            generated = round(time.perf_counter() - started, 1)
        shared = sorted(n for n, r in default_catalog().resources.items() if RECEIVER in r.receivers)
        stop, passes = threading.Event(), []
        agent = ExchangeAgent(create_engine(urls["bigdata_centre"]), default_catalog())
        worker = threading.Thread(target=lambda: passes.append(agent.run_loop(stop, 0.1)), daemon=True)
        if args.agent:
            worker.start()
        runs = {}
        for name in ("first", "repeat"):
            ctx = RunContext(run_id=f"bench-{name}", logical_date=dt.date(2026, 11, 29))
            started = time.perf_counter()
            stats = run_pipeline(ctx, shared)
            runs[name] = {"run_seconds": round(time.perf_counter() - started, 1), **_delivery(stats)}
        started = time.perf_counter()
        results = reconcile(ctx, shared)
        reconcile_seconds = round(time.perf_counter() - started, 2)
        stop.set()
        if args.agent:
            worker.join()
    finally:
        for label in labels.values():
            _drop(server, label)
    record = {
        "benchmark": "exchange_delivery",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "scale": args.scale,
        "legacy": urls["legacy_supervision"].split(":", 1)[0],
        "curated": urls["curated"].split(":", 1)[0],
        "exchange": "postgresql",
        "agent_concurrent": args.agent,
        "generate_seconds": generated,
        "reconcile": {
            "seconds": reconcile_seconds,
            "tables": len(results),
            "live_rows": sum(r.receiver_live for r in results),
            "differences": sum(r.differences for r in results),
        },
        "agent": {
            "taken": passes[0].taken,
            "refused": passes[0].refused,
            "stale": passes[0].stale,
            "tables": passes[0].by_table,
        }
        if passes
        else None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "runs": runs,
    }
    suffix = "-agent" if args.agent else ""
    out = record_path(
        Path(args.out), f"exchange_delivery-{dt.date.today().isoformat()}-s{args.scale:g}{suffix}"
    )
    out.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    shown = {k: v for k, v in record.items() if k != "runs"} | {
        "runs": {k: {f: v[f] for f in v if f != "per_resource"} for k, v in runs.items()}
    }
    json.dump(shown, sys.stdout, indent=2, ensure_ascii=False)
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
