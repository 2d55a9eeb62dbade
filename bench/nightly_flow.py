"""The whole nightly run, end to end, as the `sdx run` process: wall time, peak memory, rows/s per stage.

Usage: python bench/nightly_flow.py --scale 1 [--legacy-url URL] [--postgres-url SERVER] [--runs 3]
Each attempt (a warm-up, then --runs timed ones) starts from empty curated and exchange databases
(scratch PostgreSQL databases on --postgres-url, dropped after; SQLite files without it) and times:
  full         `sdx run`: every catalogued resource read, standardized and validated, curated, delivered
               to the big-data centre's exchange database and to the gateway stand-in (its own process,
               the three receivers at the contract's rates) and reconciled (the first night)
  incremental  `--change-share` of each source's rows edited in the legacy database (a new GXSJ and a new
               value of a text column; `--restamp-only`: the GXSJ alone), then `sdx run` again on the
               same databases (the next night)
Without --legacy-url the legacy database is generated (SQLite, in a temporary folder) at --scale.
Writes bench/results/nightly_flow-<date>-scale<S>.json and prints a summary.
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
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from machine import machine  # bench/machine.py: the scripts run from this folder
from processes import ROOT, scratch_postgres, summary, timed
from records import record_path

from exchange.demo import gateway_stand_in

SDX = str(Path(sys.executable).parent / "sdx")
PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
RESULTS = Path(__file__).parent / "results"
EXCHANGE_STEP = "deliver:bigdata_centre"


def _connections(urls: dict[str, str], home: Path) -> dict[str, str]:
    env = dict(os.environ, SDX_HOME=str(home))
    for conn_id, url in urls.items():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(
            {"conn_type": "generic", "extra": {"sqlalchemy_url": url}}
        )
    return env


def stages(stats: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Rows, seconds and rows/s of each stage of one run, from its recorded step statistics.

    A source's extract statistics are recorded under each of its resources: counted once. A derived
    resource records its derivation (curated rows read) as its extract: counted as `derive`. `deliver` is
    the whole delivery step (ledger included); `exchange_write` only its writes to the exchange database.
    """
    derived = {name for name, steps in stats.items() if steps.get("extract", {}).get("source") == name}
    extracts = {
        json.dumps(s["extract"], sort_keys=True): (name in derived, s["extract"])
        for name, s in stats.items()
        if "extract" in s
    }
    names = ("extract", "derive", "standardize_validate", "gx", "curate", "deliver", "exchange_write",
             "gateway_delivery")  # fmt: skip
    sums: dict[str, list[float]] = {n: [0, 0.0] for n in names}

    def add(stage: str, rows: float, seconds: float) -> None:
        sums[stage][0] += rows
        sums[stage][1] += seconds

    for is_derived, extract in extracts.values():
        add("derive" if is_derived else "extract", extract.get("rows_read", 0), extract.get("seconds", 0.0))
    for steps in stats.values():
        std = steps.get("standardize", {})
        gx = float(std.get("gx", {}).get("seconds", 0.0))
        add("standardize_validate", std.get("extracted", 0), std.get("seconds", 0.0) + gx)
        add("gx", std.get("extracted", 0), gx)
        cur = steps.get("curate", {})
        add("curate", sum(cur.get(k, 0) for k in ("inserted", "updated", "deleted", "unchanged")), cur.get("seconds", 0.0))  # fmt: skip
        ex = steps.get(EXCHANGE_STEP, {})
        sent = sum(ex.get(k, 0) for k in ("inserted", "updated", "deleted"))
        add("deliver", sent, ex.get("seconds", 0.0))
        add("exchange_write", sent, ex.get("exchange_seconds", 0.0))
        # The three gateway receivers, each its own step: records pushed, and the time of their pushes.
        for step, gw in steps.items():
            if step.startswith("deliver:") and step != EXCHANGE_STEP:
                add("gateway_delivery", gw.get("sent", 0), gw.get("seconds", 0.0))
    out = {
        stage: {"rows": int(rows), "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds) if seconds else None}
        for stage, (rows, seconds) in sums.items()
    }  # fmt: skip
    std = out["standardize_validate"]["seconds"]
    out["gx"]["share_of_standardize_validate"] = round(out["gx"]["seconds"] / std, 3) if std else None
    return out


def _commit() -> str:
    git = ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]
    return subprocess.run(git, capture_output=True, text=True).stdout.strip()


def _stats(curated_url: str, run_id: str, log: Path) -> dict[str, Any]:
    """The run's step statistics; a run that did not end as success or held (exit 1 both) is no result."""
    from exchange import state

    engine = sa.create_engine(curated_url)
    try:
        with engine.connect() as conn:
            status = conn.execute(
                sa.select(state.runs.c.status).where(state.runs.c.run_id == run_id)
            ).scalar()
        if status not in ("success", "held"):
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"run {run_id} ended {status}:\n{tail}")
        return state.step_stats(engine, run_id)
    finally:
        engine.dispose()


def _change_rows(legacy_url: str, share: float, edit: bool) -> dict[str, int]:
    from extraction import change_rows  # bench/extraction.py

    from exchange.context import shanghai_now

    engine = sa.create_engine(legacy_url)
    try:
        return change_rows(engine, share, shanghai_now().replace(tzinfo=None), edit)
    finally:
        engine.dispose()


def _attempt(legacy_url: str, postgres_url: str | None, work: Path, share: float, resources: list[str],
             profile: Path | None = None, logs: Path | None = None, edit: bool = True) -> dict[str, Any]:  # fmt: skip
    with ExitStack() as stack:
        if postgres_url:
            urls = {
                conn_id: stack.enter_context(scratch_postgres(postgres_url, f"sdx_bench_nightly_{conn_id}"))
                for conn_id in ("curated", "bigdata_centre")
            }
        else:
            urls = {
                conn_id: f"sqlite:///{work / f'{conn_id}.db'}" for conn_id in ("curated", "bigdata_centre")
            }
        env = _connections({"legacy_supervision": legacy_url, **urls}, work / "home")
        # The three gateway receivers: the stand-in, as its own process, granting the contract's rates.
        (work / "gateway").mkdir()
        env |= stack.enter_context(gateway_stand_in(work / "gateway", env))
        out: dict[str, Any] = {}
        for phase in ("full", "incremental"):
            if phase == "incremental":
                out["changed"] = _change_rows(legacy_url, share, edit)
            load = [round(x, 1) for x in os.getloadavg()]
            run_id = f"bench-{phase}"
            cmd = [SDX, "run", "--run-id", run_id] + (["--resources", *resources] if resources else [])
            if profile is not None:
                # Wall-clock samples (idle included: waits on servers and receivers are the point).
                out_file = profile / f"{work.name}-{phase}.txt"
                cmd = [
                    PY_SPY,
                    "record",
                    "--idle",
                    "--subprocesses",
                    "-r",
                    "20",
                    "-f",
                    "raw",
                    "-o",
                    str(out_file),
                    "--",
                    *cmd,
                ]
            # Exit 1: the quality gate held a resource back; the run still completed and is timed.
            run = timed(cmd, env, work / f"{phase}.log", ok=(0, 1))
            if logs is not None:  # the run's own log beside its samples: when each step began and ended
                shutil.copy(work / f"{phase}.log", logs / f"{work.name}-{phase}.log")
            stats = _stats(urls["curated"], run_id, work / f"{phase}.log")
            out[phase] = run | {"load_average": load, "held": run["exit_code"] == 1, "stages": stages(stats)}
            out[phase]["rows_extracted"] = out[phase]["stages"]["extract"]["rows"]
        return out


def nightly(
    scale: float, legacy_url: str | None, postgres_url: str | None, runs: int, warmup: bool, share: float,
    resources: list[str] | None = None, profile: Path | None = None, profile_warm_up_only: bool = False,
    warm_up_resources: list[str] | None = None, edit: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """Warm-up plus `runs` attempts of a full then an incremental nightly run; medians and spreads.

    `resources` limits the runs to those catalogue resources (the smoke test's quick run); default all.
    `profile_warm_up_only` samples the warm-up alone, so the timed runs carry no sampler (at scale 10 a
    run is half an hour: the profile comes from the run that is not counted). `warm_up_resources` makes
    the warm-up a run of those resources alone: what a warm-up warms (compiled imports, the servers'
    caches, the stand-in) does not need every resource, and at scale 10 a whole run takes most of an hour.
    `edit` False re-stamps the changed rows without editing them (the records before 2026-11-30 13:00).
    """
    scratch = Path(tempfile.mkdtemp(prefix="sdx-bench-nightly-"))
    generated = None
    try:
        if legacy_url is None:
            legacy_url = f"sqlite:///{scratch / 'legacy.db'}"
            generated = timed(
                [SDX, "sandbox", "legacy", "--url", legacy_url, "--scale", str(scale), "--seed", "1"],
                dict(os.environ), scratch / "generate.log",
            )  # fmt: skip
        attempts = []
        for attempt in range(runs + (1 if warmup else 0)):
            work = scratch / f"attempt-{attempt}"
            work.mkdir()
            warming = warmup and not attempt
            sampled = profile if not profile_warm_up_only or warming else None
            scope = (warm_up_resources if warming and warm_up_resources else resources) or []
            result = _attempt(legacy_url, postgres_url, work, share, scope, sampled, logs=profile, edit=edit)
            label = "warm-up" if warmup and not attempt else f"run {attempt}"
            print(f"scale {scale:g} {label:<8} full {result['full']['seconds']:>8.1f} s  incremental "
                  f"{result['incremental']['seconds']:>7.1f} s  peak {result['full']['peak_rss_mib']:,.0f} MiB "
                  f"(all processes {result['full']['peak_tree_rss_mib']:,.0f} MiB)  "
                  f"load {result['full']['load_average'][0]}", flush=True)  # fmt: skip
            if attempt or not warmup:
                attempts.append(result)
            shutil.rmtree(work / "home", ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    full = summary([a["full"] for a in attempts])
    incremental = summary([a["incremental"] for a in attempts])
    return {
        "benchmark": "nightly_flow",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "scale": scale,
        "legacy": sa.make_url(legacy_url).render_as_string() if generated is None else "sqlite (generated)",
        "curated_and_exchange": "postgresql" if postgres_url else "sqlite",
        "command": "sdx run --run-id bench-full; re-stamp; sdx run --run-id bench-incremental",
        "commit": _commit(),
        "generate": generated,
        "change_share": share,
        "change": "edited: a new GXSJ and a new value of a text column"
        if edit
        else "re-stamped: a new GXSJ only",
        "resources": resources or "all",
        "runs_per_phase": runs,
        "warm_up": warmup,
        "warm_up_resources": (warm_up_resources or resources or "all") if warmup else None,
        "profiled": None if profile is None else ("warm-up" if profile_warm_up_only else "every run"),
        "full": full,
        "incremental": incremental,
        "incremental_over_full": round(incremental["median_seconds"] / full["median_seconds"], 3),
        "stages": attempts[-1]["full"]["stages"],
        "incremental_stages": attempts[-1]["incremental"]["stages"],
        "attempts": attempts,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--legacy-url", help="a generated legacy database (default: generate one in SQLite)")
    parser.add_argument("--postgres-url", help="server for the scratch curated and exchange databases")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-warm-up", action="store_true")
    parser.add_argument("--change-share", type=float, default=0.01)
    parser.add_argument(
        "--restamp-only",
        action="store_true",
        help="the changed rows get a new GXSJ but keep their values (nothing to deliver; the older records)",
    )
    parser.add_argument("--resources", nargs="*", help="only these catalogue resources (default: all)")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--label", default="", help="appended to the result file's name")
    parser.add_argument(
        "--profile", type=Path, help="folder for py-spy samples of each run (raw format) and its log"
    )
    parser.add_argument(
        "--profile-warm-up",
        action="store_true",
        help="with --profile: sample the warm-up only, not the timed runs (every run's log is still kept)",
    )
    parser.add_argument(
        "--warm-up-resources", nargs="*", help="the warm-up runs only these resources (default: as the runs)"
    )
    args = parser.parse_args()
    if args.warm_up_resources and args.no_warm_up:
        parser.error("--warm-up-resources needs a warm-up")
    if args.profile_warm_up and (not args.profile or args.no_warm_up):
        parser.error("--profile-warm-up needs --profile and a warm-up")
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    record = nightly(
        args.scale,
        args.legacy_url,
        args.postgres_url,
        args.runs,
        not args.no_warm_up,
        args.change_share,
        args.resources,
        args.profile,
        args.profile_warm_up,
        args.warm_up_resources,
        not args.restamp_only,
    )
    label = f"-{args.label}" if args.label else ""
    out = record_path(
        Path(args.out), f"nightly_flow-{dt.date.today().isoformat()}-scale{args.scale:g}{label}"
    )
    out.write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    print(
        json.dumps(
            {k: record[k] for k in ("full", "incremental", "incremental_over_full", "stages")}, indent=2
        )
    )
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
