"""Every benchmark of issue 9 in one go: `make bench`, and at scale 0.01 the smoke run of `make test`.

Usage: python bench/run.py --mariadb-url mysql+pymysql://root@127.0.0.1:3306 \\
           --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432 [--scales 1 10] [--runs 3]
       python bench/run.py --scales 0.01 --runs 1 --no-warm-up          # SQLite only, no side-by-side
For each scale: the legacy database sdx_bench_s<scale> in MariaDB, generated (`sdx sandbox legacy`, seed 1)
when it is missing or empty, then the nightly run end to end, full then incremental after 1 % of rows
changed, with rows/s per stage (bench/nightly_flow.py); then, once, the gateway delivery
(bench/gateway_delivery.py, when present) and, at the largest scale, the side-by-side on T_PX_KHHG
(bench/side_by_side.py). Without --mariadb-url everything is SQLite and the side-by-side is left out.
Writes bench/results/<date>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from machine import machine  # bench/machine.py: the scripts run from this folder
from nightly_flow import SDX, nightly
from processes import ROOT, timed
from records import record_path
from side_by_side import side_by_side

HERE = Path(__file__).parent
PROBE_TABLE = "T_PX_KHHG"  # the last large table the generator fills: present and non-empty ⇒ generated


def legacy_database(server: str, scale: float) -> tuple[str, dict[str, Any] | None]:
    """The URL of sdx_bench_s<scale> on the MariaDB server, generated first if missing or empty."""
    name = "sdx_bench_s" + f"{scale:g}".replace(".", "_")
    url = sa.make_url(server).set(database=name).update_query_dict({"charset": "utf8mb4"})
    admin = sa.create_engine(sa.make_url(server).set(database=None), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.execute(
                sa.text(
                    "SELECT table_rows FROM information_schema.tables WHERE table_schema = :s AND table_name = :t"
                ),
                {"s": name, "t": PROBE_TABLE},
            ).scalar()
            if found:
                return url.render_as_string(hide_password=False), None
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    finally:
        admin.dispose()
    rendered = url.render_as_string(hide_password=False)
    log = ROOT / "var" / "bench" / f"{name}-generate.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    generated = timed(
        [SDX, "sandbox", "legacy", "--url", rendered, "--scale", f"{scale:g}", "--seed", "1"], None, log
    )
    return rendered, generated


def gateway_delivery(runs: int, out: Path) -> dict[str, Any] | None:
    """bench/gateway_delivery.py's record (full batches pushed to the gateway stand-in), when it exists.

    It measures the connector against the stand-in with generated batches, whatever the scale: run once.
    """
    script = HERE / "gateway_delivery.py"
    if not script.exists():
        return None
    before = set(out.glob("gateway_delivery-*.json"))
    subprocess.run([sys.executable, str(script), "--runs", str(runs), "--out", str(out)], check=True)
    written = sorted(set(out.glob("gateway_delivery-*.json")) - before, key=lambda p: p.stat().st_mtime)
    return json.loads(written[-1].read_text()) if written else None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mariadb-url", help="MariaDB server (no database) for the legacy databases")
    parser.add_argument("--postgres-url", help="PostgreSQL server for the scratch curated/exchange databases")
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-warm-up", action="store_true")
    parser.add_argument("--resources", nargs="*", help="nightly runs of only these resources (default: all)")
    parser.add_argument(
        "--warm-up-resources",
        nargs="*",
        help="the nightly warm-up runs only these resources (default: as the runs)",
    )
    parser.add_argument("--skip", nargs="*", default=[], choices=["nightly", "gateway", "side_by_side"])
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    warmup = not args.no_warm_up
    record: dict[str, Any] = {
        "benchmark": "issue 9",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "targets": {
            "nightly_seconds": {"1": 120, "10": 900},
            "peak_rss_mib": 1536,
            "incremental_over_full": 0.1,
            "side_by_side": "ours/dlt <= 1, ours/sling <= 1, ours/floor <= 3",
        },
        "scales": {},
    }
    for scale in args.scales:
        entry: dict[str, Any] = {}
        legacy_url = None
        if args.mariadb_url:
            legacy_url, entry["generate"] = legacy_database(args.mariadb_url, scale)
        if "nightly" not in args.skip:
            entry["nightly"] = nightly(
                scale, legacy_url, args.postgres_url, args.runs, warmup, 0.01, args.resources,
                warm_up_resources=args.warm_up_resources,
            )  # fmt: skip
        record["scales"][f"{scale:g}"] = entry
    if "gateway" not in args.skip:
        record["gateway_delivery"] = gateway_delivery(args.runs, out)
    if "side_by_side" not in args.skip and args.mariadb_url and args.postgres_url:
        largest = max(args.scales)
        legacy_url, _ = legacy_database(args.mariadb_url, largest)
        record["side_by_side"] = side_by_side(legacy_url, args.postgres_url, args.runs, ["floor", "dlt", "sling", "ours"], warmup) | {"scale": largest}  # fmt: skip
    record["machine_after"] = machine()
    path = record_path(out, dt.date.today().isoformat())
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    for scale, entry in record["scales"].items():
        if "nightly" in entry:
            n = entry["nightly"]
            print(f"scale {scale}: full {n['full']['median_seconds']} s, incremental {n['incremental']['median_seconds']} s, "
                  f"peak {n['full']['median_peak_rss_mib']} MiB")  # fmt: skip
    if "side_by_side" in record:
        print(f"side by side: {record['side_by_side']['ratios']}")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
