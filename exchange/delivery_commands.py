"""`sdx reconcile RECEIVER` and `sdx sandbox exchange-agent`: what the centre holds, and its stand-in."""

from __future__ import annotations

import argparse
import json
import sys


def _reconcile(args: argparse.Namespace) -> int:
    from connectors.curated.hook import CuratedDatabaseHook
    from exchange import state
    from exchange.context import RunContext, shanghai_now
    from exchange.reconcile import format_reconciliation, reconcile

    engine = CuratedDatabaseHook().get_conn()
    run_id = args.run or state.latest_run_id(engine)
    if run_id is None:
        print("no run recorded in the curated database yet: the result is kept per run", file=sys.stderr)
        return 1
    ctx = RunContext(run_id=run_id, logical_date=shanghai_now().date())
    if args.receiver != "bigdata_centre":
        from exchange.reconcile_gateway import format_gateway_reconciliation, reconcile_gateway
        from exchange.steps.deliver_gateway import is_configured

        if not is_configured(args.receiver):
            print(f"connection {args.receiver} is not configured", file=sys.stderr)
            return 1
        found = reconcile_gateway(ctx, args.receiver, args.resources or None)
        print(format_gateway_reconciliation(found))
        return 1 if any(r.differences for r in found) else 0
    results = reconcile(ctx, args.resources or None)
    print(format_reconciliation(results))
    return 1 if any(r.differences for r in results) else 0


def _exchange_agent(args: argparse.Namespace) -> int:
    from catalog import default_catalog
    from connectors.exchange_db.hook import ExchangeDatabaseHook
    from connectors.sql.engine import create_engine
    from sandbox.exchange_agent import ExchangeAgent, RefusalRule, run_for

    try:
        rule = RefusalRule.parse(args.refuse_when, args.refuse_share, args.reason, not args.no_digest_check)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    engine = create_engine(args.url) if args.url else ExchangeDatabaseHook().get_conn()
    agent = ExchangeAgent(engine, default_catalog(), rule, batch=args.batch)
    done = agent.run_once() if args.seconds is None else run_for(agent, args.seconds, args.interval)
    json.dump(
        {"taken": done.taken, "refused": done.refused, "stale": done.stale, "tables": done.by_table},
        sys.stdout,
        ensure_ascii=False,
        indent=2,
    )
    print()
    return 0


def add_reconcile_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `sdx reconcile RECEIVER`."""
    rec = sub.add_parser(
        "reconcile", help="compare what a receiver holds with the ledger and the curated database"
    )
    rec.add_argument(
        "receiver",
        choices=["bigdata_centre", "service_network", "province_supervision", "province_hazchem"],
        help="the receiver's connection id",
    )
    rec.add_argument("--run", help="the run the result is stored under (default: the latest)")
    rec.add_argument("--resources", nargs="*", help="catalogue resources (default: all shared with it)")
    rec.set_defaults(handler=_reconcile)


def add_exchange_agent_command(sandbox: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `sdx sandbox exchange-agent`."""
    agent = sandbox.add_parser(
        "exchange-agent", help="the big-data centre's exchange agent: take and refuse waiting rows"
    )
    agent.add_argument("--url", help="exchange database URL (default: connection bigdata_centre)")
    agent.add_argument(
        "--for", dest="seconds", type=float, help="keep taking rows this many seconds (default: one pass)"
    )
    agent.add_argument("--interval", type=float, default=1.0, help="seconds to wait after an idle pass")
    agent.add_argument(
        "--refuse-when", action="append", default=[], metavar="ITEM=VALUE", help="refuse rows with this value"
    )
    agent.add_argument("--refuse-share", type=float, default=0.0, help="refuse this share of versions (0–1)")
    agent.add_argument("--reason", help="the reason written to HJ_FKXX for rule refusals")
    agent.add_argument(
        "--no-digest-check", action="store_true", help="do not refuse rows with a wrong digest"
    )
    agent.add_argument("--batch", type=int, default=500, help="rows marked per transaction")
    agent.set_defaults(handler=_exchange_agent)
