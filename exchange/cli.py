"""The `sdx` command line: every pipeline step and tool, for engineers with or without a scheduler."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from exchange.delivery_commands import add_exchange_agent_command, add_reconcile_command
from exchange.orchestration import RUN_MODES
from exchange.report_commands import add_report_command
from exchange.resend_commands import add_resend_commands
from exchange.step_commands import add_step_commands

Handler = Callable[[argparse.Namespace], int]


def _run(args: argparse.Namespace) -> int:
    from connectors.curated.hook import CuratedDatabaseHook
    from exchange import state
    from exchange.context import RunContext, shanghai_now
    from exchange.pipeline import run_pipeline
    from exchange.reconcile import load_reconciliation
    from exchange.reconcile_gateway import load_gateway_reconciliation
    from exchange.summary import format_summary

    logical = dt.date.fromisoformat(args.logical_date) if args.logical_date else shanghai_now().date()
    run_id = args.run_id or f"cli__{shanghai_now():%Y%m%dT%H%M%S}"
    stats = run_pipeline(
        RunContext(run_id=run_id, logical_date=logical, mode=args.mode, since=args.since, until=args.until),
        args.resources or None,
    )
    engine = CuratedDatabaseHook().get_conn()
    print(
        format_summary(
            run_id,
            stats,
            load_reconciliation(engine, run_id),
            load_gateway_reconciliation(engine, run_id),
        )
    )
    held = state.held_resources(stats)
    if held:
        print(
            f"the quality gate held back {', '.join(sorted(held))}: nothing of them was curated or delivered",
            file=sys.stderr,
        )
        return 1
    return 0


def _summary(args: argparse.Namespace) -> int:
    from connectors.curated.hook import CuratedDatabaseHook
    from exchange import state
    from exchange.reconcile import load_reconciliation
    from exchange.reconcile_gateway import load_gateway_reconciliation
    from exchange.summary import format_summary

    engine = CuratedDatabaseHook().get_conn()
    run_id = args.run or state.latest_run_id(engine)
    if run_id is None:
        print("no run recorded in the curated database yet", file=sys.stderr)
        return 1
    stats = state.step_stats(engine, run_id)
    gateway = load_gateway_reconciliation(engine, run_id)
    print(format_summary(run_id, stats, load_reconciliation(engine, run_id), gateway))
    return 0


def _sandbox_legacy(args: argparse.Namespace) -> int:
    from sandbox.legacy import generate_legacy

    def progress(table: str, done: int, total: int) -> None:
        print(f"\r  {table:<12} {done:>9,}/{total:,}", end="" if done < total else "\n", file=sys.stderr)

    summary = generate_legacy(
        args.url,
        scale=args.scale,
        seed=args.seed,
        truth_path=Path(args.truth) if args.truth else None,
        progress=progress,
    )
    print(summary)
    return 0


def _app_key(text: str) -> tuple[str, str]:
    key, colon, secret = text.partition(":")
    if not (key and colon and secret):
        raise argparse.ArgumentTypeError("expected KEY:SECRET")
    return key, secret


def _sandbox_gateway(args: argparse.Namespace) -> int:
    from sandbox.gateway import build_state, serve
    from sandbox.gateway.app import load_fault_plan

    apps = dict(args.app or [("sdx-demo", "sdx-demo-secret")])
    state = build_state(args.store, apps, faults=load_fault_plan(args.faults), expires_in=args.expires_in)

    def announce(url: str) -> None:
        print(f"gateway stand-in at {url} (app keys: {', '.join(sorted(apps))})", flush=True)

    serve(state, args.host, args.port, announce)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from exchange.demo import run_demo

    return run_demo(Path(args.home), scale=args.scale, seed=args.seed)


def _catalog_check(args: argparse.Namespace) -> int:
    from exchange.catalog_commands import check_command

    return check_command(args)


def _catalog_show(args: argparse.Namespace) -> int:
    from exchange.catalog_commands import show_command

    return show_command(args)


def _catalog_export(args: argparse.Namespace) -> int:
    from exchange.catalog_commands import export_command

    return export_command(args)


def _add_catalog(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `catalog` subcommands: check, show RESOURCE, export."""
    # Every catalog subcommand reads the shipped catalogue unless --root names another folder.
    root = argparse.ArgumentParser(add_help=False)
    root.add_argument("--root", help="catalogue folder (default: the shipped one)")
    catalog = sub.add_parser("catalog", help="check, show and export the resource catalogue").add_subparsers(
        dest="what", required=True
    )
    check = catalog.add_parser("check", parents=[root], help="report every inconsistency (exit 1 when any)")
    check.set_defaults(handler=_catalog_check)
    show = catalog.add_parser("show", parents=[root], help="print one resource's metadata and items")
    show.add_argument("resource", help="resource name, e.g. permit_0101")
    show.set_defaults(handler=_catalog_show)
    export = catalog.add_parser("export", parents=[root], help="write the catalogue as JSON, Excel or HTML")
    export.add_argument("--format", choices=["json", "xlsx", "html"], required=True)
    export.add_argument("--out", help="file to write (default: var/catalog/catalogue.<format>)")
    export.set_defaults(handler=_catalog_export)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; subcommands import their modules only when run, so `--help` is instant."""
    parser = argparse.ArgumentParser(
        prog="sdx", description="Safety-data exchange: extract, standardize, curate, deliver."
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress lines, only results and errors"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every library's details too")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the nightly pipeline in this process")
    run.add_argument("--mode", choices=RUN_MODES, default="incremental", help="see README, Run modes")
    run.add_argument("--since", type=dt.datetime.fromisoformat, help="backfill: from this GXSJ (inclusive)")
    run.add_argument("--until", type=dt.datetime.fromisoformat, help="backfill: to this GXSJ (exclusive)")
    run.add_argument("--resources", nargs="*", help="catalogue resources (default: all)")
    run.add_argument("--run-id", help="default: cli__<timestamp>")
    run.add_argument("--logical-date", help="YYYY-MM-DD (default: today, Asia/Shanghai)")
    run.set_defaults(handler=_run)

    summary = sub.add_parser("summary", help="print a run's summary table")
    summary.add_argument("--run", help="run id (default: the latest)")
    summary.set_defaults(handler=_summary)

    sandbox = sub.add_parser("sandbox", help="stand-ins for the outside world").add_subparsers(
        dest="what", required=True
    )
    legacy = sandbox.add_parser("legacy", help="generate a legacy supervision database with every quirk")
    legacy.add_argument("--url", required=True, help="SQLAlchemy URL of the database to (re)create")
    legacy.add_argument("--scale", type=float, default=1.0, help="1 = production row counts")
    legacy.add_argument("--seed", type=int, default=0)
    legacy.add_argument("--truth", help="write the truth file (Parquet) here")
    legacy.set_defaults(handler=_sandbox_legacy)
    gateway = sandbox.add_parser(
        "gateway", help="serve the government gateway stand-in for its three receivers"
    )
    gateway.add_argument("--host", default="127.0.0.1")
    gateway.add_argument("--port", type=int, default=8600)
    gateway.add_argument(
        "--store", required=True, help="SQLite file of what the receivers hold (kept across runs)"
    )
    gateway.add_argument(
        "--app",
        action="append",
        type=_app_key,
        metavar="KEY:SECRET",
        help="an app key and its secret (repeatable)",
    )
    gateway.add_argument("--faults", help="JSON fault plan (changeable at runtime: POST /_faults)")
    gateway.add_argument("--expires-in", type=int, help="token life in seconds (default 7200)")
    gateway.set_defaults(handler=_sandbox_gateway)
    add_exchange_agent_command(sandbox)

    demo = sub.add_parser("demo", help="generate a demo legacy DB and run nightly_sync through Airflow")
    demo.add_argument("--home", default="var/demo")
    demo.add_argument("--scale", type=float, default=0.1)
    demo.add_argument("--seed", type=int, default=20261129)
    demo.set_defaults(handler=_demo)

    add_step_commands(sub)
    _add_catalog(sub)
    add_report_command(sub)
    add_reconcile_command(sub)
    add_resend_commands(sub, run=_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `sdx`."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "mode", None) == "backfill" and not (
        args.since and args.until and args.since < args.until
    ):
        parser.error("--mode backfill needs a window: --since and --until, since before until")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Progress of long steps (rows read, rate) goes to stderr unless asked to be quiet.
    logging.getLogger("exchange").setLevel(logging.WARNING if args.quiet else logging.INFO)
    handler: Handler = args.handler
    try:
        return handler(args)
    except BrokenPipeError:
        # The reader went away (`sdx catalog show x | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
