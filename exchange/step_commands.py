"""`sdx extract|standardize|curate|deliver`: each step of a run as its own command, as the DAG runs them.

Steps of one run share its `--run-id` (its staging folder and its rows in the curated database), so an
engineer can rerun one step, or resume a run after a crash from the step that failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from exchange.orchestration import RUN_MODES


def _context(args: argparse.Namespace) -> Any:
    from exchange.context import RunContext, shanghai_now

    logical = dt.date.fromisoformat(args.logical_date) if args.logical_date else shanghai_now().date()
    return RunContext(
        run_id=args.run_id, logical_date=logical, mode=args.mode, since=args.since, until=args.until
    )


def _print(result: dict[str, Any]) -> int:
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2, default=str)
    print()
    return 0


def _extract(args: argparse.Namespace) -> int:
    from exchange.pipeline import prepare
    from exchange.steps.extract import extract_source
    from schemas.derived import derivations

    ctx = _context(args)
    prepare(ctx)
    if args.source in derivations():  # built from curated resources: run it after they are curated
        from exchange.steps.derive import derive_resource

        return _print(derive_resource(ctx, args.source))
    return _print(extract_source(ctx, args.source, args.resources or None))


def _standardize(args: argparse.Namespace) -> int:
    from exchange.steps.standardize import standardize_resource

    return _print(standardize_resource(_context(args), args.resource))


def _curate(args: argparse.Namespace) -> int:
    from exchange.steps.curate import curate_resource

    return _print(curate_resource(_context(args), args.resource))


def _deliver(args: argparse.Namespace) -> int:
    from exchange.steps.deliver import deliver, receivers_of

    ctx = _context(args)
    receivers = [args.receiver] if args.receiver else receivers_of(ctx.catalog, args.resource)
    return _print({receiver: deliver(ctx, args.resource, receiver) for receiver in receivers})


def add_step_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the four step commands."""
    run = argparse.ArgumentParser(add_help=False)
    run.add_argument("--run-id", required=True, help="the run these steps belong to (shared staging folder)")
    run.add_argument("--logical-date", help="YYYY-MM-DD (default: today, Asia/Shanghai)")
    run.add_argument("--mode", choices=RUN_MODES, default="incremental", help="see README, Run modes")
    run.add_argument("--since", type=dt.datetime.fromisoformat, help="backfill: from this GXSJ (inclusive)")
    run.add_argument("--until", type=dt.datetime.fromisoformat, help="backfill: to this GXSJ (exclusive)")

    extract = sub.add_parser("extract", parents=[run], help="read one legacy source into the run's staging")
    extract.add_argument(
        "--source", required=True, help="a manifest of schemas/legacy (e.g. permits) or schemas/derived"
    )
    extract.add_argument("--resources", nargs="*", help="only these resources of the source (default: all)")
    extract.set_defaults(handler=_extract)
    for name, handler, text in (
        ("standardize", _standardize, "standardize and validate one resource of the run"),
        ("curate", _curate, "load one resource of the run into the curated database"),
        ("deliver", _deliver, "deliver one resource to its receivers (or the one given)"),
    ):
        step = sub.add_parser(name, parents=[run], help=text)
        step.add_argument("--resource", required=True, help="a catalogue resource, e.g. permit_0101")
        if name == "deliver":
            step.add_argument("--receiver", help="one receiver's connection id (default: every receiver)")
        step.set_defaults(handler=handler)
