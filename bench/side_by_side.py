"""One large legacy table, MariaDB → PostgreSQL, four ways, each timed as a whole process.

  floor  the MariaDB client's tab-separated dump piped into psql's COPY: what the hardware allows
  dlt    dlt's sql_table source, backend="pyarrow", into its postgres destination (own venv)
  sling  the Sling binary, full refresh (own venv: the sling-linux-amd64 wheel ships the binary)
  ours   extract + standardize and validate (Great Expectations included) + curate of the resource(s) the
         table feeds, legacy on MariaDB, curated database on PostgreSQL, mode full

Each tool: a warm-up, then --runs timed runs, each into a fresh scratch PostgreSQL database (dropped after).
Usage: python bench/side_by_side.py --mariadb-url mysql+pymysql://root@127.0.0.1:3306/sdx_bench_s10 \\
           --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432 [--runs 3] [--tools floor ours]
Writes bench/results/side-by-side-<date>[-label].json and prints a summary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from machine import machine  # bench/machine.py: the scripts run from this folder
from processes import ROOT, scratch_postgres, summary, timed, tool_venv
from records import record_path

TABLE = "T_PX_KHHG"
TOOLS = ("floor", "dlt", "sling", "ours")
RESULTS = Path(__file__).parent / "results"

DLT_SCRIPT = """
import sys
import dlt
from dlt.sources.sql_database import sql_table

source_url, target_url, table = sys.argv[1:4]
pipeline = dlt.pipeline(
    pipeline_name="side_by_side", destination=dlt.destinations.postgres(target_url), dataset_name="bench"
)
print(pipeline.run(sql_table(credentials=source_url, table=table, backend="pyarrow"), write_disposition="replace"))
"""


def _columns(mariadb: sa.URL) -> list[str]:
    engine = sa.create_engine(mariadb)
    try:
        return [c["name"] for c in sa.inspect(engine).get_columns(TABLE)]
    finally:
        engine.dispose()


def _client_args(mariadb: sa.URL) -> list[str]:
    args = [
        "-h",
        mariadb.host or "127.0.0.1",
        "-P",
        str(mariadb.port or 3306),
        "-u",
        mariadb.username or "root",
    ]
    return args + ([f"-p{mariadb.password}"] if mariadb.password else []) + [str(mariadb.database)]


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as libpq and Go drivers take it (no +driver)."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _floor(mariadb: sa.URL, target: str, work: Path) -> tuple[list[str], dict[str, str]]:
    columns = _columns(mariadb)
    create = ", ".join(f'"{c.lower()}" text' for c in columns)
    subprocess.run(
        ["psql", "-q", _libpq(target), "-c", f'CREATE TABLE "{TABLE.lower()}" ({create})'], check=True
    )
    select = f"SELECT {', '.join(columns)} FROM {TABLE}"  # noqa: S608 (reflected names, constant table)
    # --batch escapes tab, newline and backslash as COPY's text format does, but writes SQL NULL as NULL
    # and leaves a carriage return (the generator puts some in names) raw, which COPY refuses: sed escapes it.
    copy = f"COPY {TABLE.lower()} FROM STDIN WITH (FORMAT text, NULL 'NULL')"
    dump = " ".join(
        [
            "mariadb",
            "--batch",
            "--quick",
            "--skip-column-names",
            "--default-character-set=utf8mb4",
            *_client_args(mariadb),
        ]
    )
    line = f'{dump} -e "{select}" | sed \'s/\\r/\\\\r/g\' | psql -q "{_libpq(target)}" -c "{copy}"'
    return ["bash", "-o", "pipefail", "-c", line], dict(os.environ)


def _dlt(mariadb: sa.URL, target: str, work: Path) -> tuple[list[str], dict[str, str]]:
    venv = tool_venv("dlt")
    script = work / "dlt_load.py"
    script.write_text(DLT_SCRIPT)
    env = dict(os.environ, DLT_DATA_DIR=str(work / "dlt"), RUNTIME__DLTHUB_TELEMETRY="false")
    source = mariadb.render_as_string(hide_password=False)
    # dlt insists on a password; the server's trust authentication ignores it.
    url = sa.make_url(_libpq(target))
    target = url.set(password=url.password or "unused").render_as_string(hide_password=False)
    return [str(venv / "bin" / "python"), str(script), source, target, TABLE], env


def _sling(mariadb: sa.URL, target: str, work: Path) -> tuple[list[str], dict[str, str]]:
    venv = tool_venv("sling")
    binary = next((venv / "lib").glob("python*/site-packages/sling_linux_amd64/bin/sling*"))
    source = mariadb.set(drivername="mysql", query={}).render_as_string(hide_password=False)
    env = dict(
        os.environ, SLING_HOME_DIR=str(work / "sling"), SLING_DISABLE_TELEMETRY="true",
        LEGACY=source, TARGET=_libpq(target) + "?sslmode=disable",
    )  # fmt: skip
    cmd = [str(binary), "run", "--src-conn", "LEGACY", "--src-stream", f"{mariadb.database}.{TABLE}", "--tgt-conn", "TARGET",
           "--tgt-object", f"public.{TABLE.lower()}", "--mode", "full-refresh"]  # fmt: skip
    return cmd, env


def _ours(mariadb: sa.URL, target: str, work: Path) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ, SDX_HOME=str(work / "home"))
    for conn_id, url in (
        ("legacy_supervision", mariadb.render_as_string(hide_password=False)),
        ("curated", target),
    ):
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(
            {"conn_type": "generic", "extra": {"sqlalchemy_url": url}}
        )
    cmd = [sys.executable, __file__, "--ours-phase", str(work / "ours.json")]
    return cmd, env


def ours_phase(out: Path) -> None:
    """Our steps for the table's source, in this process: extract, standardize + validate, curate."""
    from exchange.context import RunContext
    from exchange.pipeline import prepare
    from exchange.steps.curate import curate_resource
    from exchange.steps.extract import extract_source
    from exchange.steps.standardize import standardize_resource
    from schemas.manifest import manifests

    source, manifest = next((n, m) for n, m in manifests().items() if m.primary.table == TABLE)
    ctx = RunContext(run_id="side-by-side", logical_date=dt.date.today(), mode="full")
    prepare(ctx)
    steps: dict[str, Any] = {"extract": extract_source(ctx, source, manifest.resources())}
    for name in manifest.resources():
        steps[f"standardize:{name}"] = standardize_resource(ctx, name)
        steps[f"curate:{name}"] = curate_resource(ctx, name)
    out.write_text(json.dumps({"source": source, "steps": steps}, default=str))


def _rows(tool: str, target: str, work: Path) -> int:
    if tool == "ours":
        steps = json.loads((work / "ours.json").read_text())["steps"]
        return int(steps["extract"]["rows_read"])
    schema = "bench" if tool == "dlt" else "public"
    engine = sa.create_engine(target)
    try:
        with engine.connect() as conn:
            count = f'SELECT count(*) FROM {schema}."{TABLE.lower()}"'  # noqa: S608 (constants)
            return int(conn.execute(sa.text(count)).scalar_one())
    finally:
        engine.dispose()


def _versions(tools: list[str]) -> dict[str, str]:
    def out(cmd: list[str]) -> str:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()

    versions = {"python": sys.version.split()[0]}
    if "floor" in tools:
        versions |= {"mariadb client": out(["mariadb", "--version"]), "psql": out(["psql", "--version"])}
    if "dlt" in tools:
        py = str(tool_venv("dlt") / "bin" / "python")
        versions["dlt"] = out(
            [py, "-c", "import dlt, pyarrow; print(dlt.__version__, 'pyarrow', pyarrow.__version__)"]
        )
    if "sling" in tools:
        versions["sling"] = out([str(next((tool_venv("sling") / "lib").glob("python*/site-packages/sling_linux_amd64/bin/sling*"))), "--version"])  # fmt: skip
    if "ours" in tools:
        commit = out(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
        versions["ours"] = f"commit {commit}"
    return versions


def _redact(cmd: list[str]) -> list[str]:
    return [sa.make_url(a).render_as_string() if "://" in a and " " not in a else a for a in cmd]


def side_by_side(
    mariadb_url: str,
    postgres_url: str,
    runs: int,
    tools: list[str],
    warmup: bool = True,
    ours_runs: int | None = None,
) -> dict[str, Any]:
    """Warm-up plus `runs` timed runs of each tool; their medians, spreads, rows, and our ratios to each.

    `ours_runs`, when given, is how many runs of ours, without a warm-up: at scale 10 one run of ours takes
    many minutes (each run starts a cold process anyway, as each of the others does).
    """
    mariadb = sa.make_url(mariadb_url)
    builders = {"floor": _floor, "dlt": _dlt, "sling": _sling, "ours": _ours}
    results: dict[str, Any] = {}
    versions = _versions(tools)  # installs the tools' venvs first: not timed
    for tool in tools:
        timings, rows, command = [], None, None
        repeats, warm = (ours_runs, False) if tool == "ours" and ours_runs else (runs, warmup)
        for attempt in range(repeats + (1 if warm else 0)):
            work = Path(tempfile.mkdtemp(prefix=f"sdx-bench-{tool}-"))
            try:
                with scratch_postgres(postgres_url, f"sdx_bench_side_by_side_{tool}") as target:
                    cmd, env = builders[tool](mariadb, target, work)
                    load = [round(x, 1) for x in os.getloadavg()]
                    run = timed(cmd, env, work / "output.log") | {"load_average": load}
                    rows = _rows(tool, target, work)
                    run["rows"] = rows
                    if tool == "ours":
                        run["steps"] = json.loads((work / "ours.json").read_text())["steps"]
                    command = command or _redact(cmd)
                    if attempt or not warm:
                        timings.append(run)
                    print(f"{tool:<6} {'warm-up' if warm and not attempt else f'run {attempt}':<8} "
                          f"{run['seconds']:>8.1f} s {rows:>10,} rows  peak {run['peak_rss_mib']:,.0f} MiB  load {load[0]}",
                          flush=True)  # fmt: skip
            finally:
                shutil.rmtree(work, ignore_errors=True)
        results[tool] = {
            "command": command, "rows": rows, "warm_up": warm, "runs": timings, **summary(timings)
        }  # fmt: skip
    ratios = {}
    if "ours" in results:
        for tool in ("floor", "dlt", "sling"):
            if tool in results:
                ratios[f"ours/{tool}"] = round(
                    results["ours"]["median_seconds"] / results[tool]["median_seconds"], 2
                )
    return {
        "benchmark": "side_by_side",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "table": TABLE,
        "legacy": mariadb.render_as_string(),
        "runs_per_tool": runs,
        "warm_up": warmup,
        "versions": versions,
        "tools": results,
        "ratios": ratios,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mariadb-url")
    parser.add_argument("--postgres-url")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--ours-runs", type=int, help="runs of ours, without a warm-up (default: as the others)"
    )
    parser.add_argument("--no-warm-up", action="store_true")
    parser.add_argument("--tools", nargs="*", choices=TOOLS, default=list(TOOLS))
    parser.add_argument("--label", help="appended to the record's file name")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--ours-phase", metavar="OUT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ours_phase:
        ours_phase(Path(args.ours_phase))
        return 0
    if not (args.mariadb_url and args.postgres_url):
        parser.error("--mariadb-url and --postgres-url are required")
    record = side_by_side(
        args.mariadb_url, args.postgres_url, args.runs, args.tools, not args.no_warm_up, args.ours_runs
    )
    out = record_path(
        Path(args.out), f"side-by-side-{dt.date.today().isoformat()}{'-' + args.label if args.label else ''}"
    )
    out.write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    for tool, result in record["tools"].items():
        print(
            f"{tool:<6} median {result['median_seconds']:>8.1f} s  spread {result['spread']}  rows {result['rows']:,}"
        )
    print(f"ratios {record['ratios']}; written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
