"""`sdx redeliver` and `sdx resync`: the command-line twins of the redeliver and full_resync DAGs."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from exchange.orchestration import RECEIVERS

if TYPE_CHECKING:
    from exchange.context import RunContext

Handler = Callable[[argparse.Namespace], int]


def _context(
    run_id: str | None,
    prefix: str,
    logical_date: str | None = None,
    mode: str = "incremental",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> RunContext:
    from exchange.context import RunContext, shanghai_now

    logical = dt.date.fromisoformat(logical_date) if logical_date else shanghai_now().date()
    run_id = run_id or f"{prefix}__{shanghai_now():%Y%m%dT%H%M%S}"
    return RunContext(run_id=run_id, logical_date=logical, mode=mode, since=since, until=until)


def _redeliver(args: argparse.Namespace) -> int:
    from exchange.redeliver import redeliver

    done = redeliver(_context(args.run_id, "redeliver"), args.receivers or None, args.resources or None)
    json.dump(done, sys.stdout, ensure_ascii=False, indent=2, default=str)
    print()
    return 0


def _resync(run: Handler) -> Handler:
    def resync(args: argparse.Namespace) -> int:
        from exchange.redeliver import forget_deliveries

        if args.receivers:
            ctx = _context(
                args.run_id, "resync", args.logical_date, mode=args.mode, since=args.since, until=args.until
            )
            args.run_id = ctx.run_id
            forget_deliveries(ctx, args.receivers, args.resources or None)
        return run(args)

    return resync


def _receivers(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument("--receivers", nargs="*", choices=RECEIVERS, metavar="RECEIVER", help=text)


def add_resend_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser], run: Handler) -> None:
    """Register `sdx redeliver` and `sdx resync` (which ends in `run`, the handler of `sdx run`)."""
    again = sub.add_parser(
        "redeliver", help="send again what a receiver refused or its latest reconciliation found missing"
    )
    _receivers(again, f"receivers (default: all: {', '.join(RECEIVERS)})")
    again.add_argument("--resources", nargs="*", help="catalogue resources (default: all shared with each)")
    again.add_argument(
        "--run-id", help="the run its delivery statistics are kept under (default: redeliver__<timestamp>)"
    )
    again.set_defaults(handler=_redeliver)

    resync = sub.add_parser(
        "resync", help="full_resync: a full or backfill run, resending everything to receivers"
    )
    resync.add_argument(
        "--mode", choices=["full", "backfill"], default="full", help="full: every row; backfill: a GXSJ range"
    )
    resync.add_argument("--resources", nargs="*", help="catalogue resources (default: all)")
    _receivers(resync, "send every record of the resources again to these receivers (default: none)")
    resync.add_argument(
        "--since", type=dt.datetime.fromisoformat, help="backfill: from this GXSJ (inclusive)"
    )
    resync.add_argument("--until", type=dt.datetime.fromisoformat, help="backfill: to this GXSJ (exclusive)")
    resync.add_argument("--run-id", help="default: resync__<timestamp>")
    resync.add_argument("--logical-date", help="YYYY-MM-DD (default: today, Asia/Shanghai)")
    resync.set_defaults(handler=_resync(run))
