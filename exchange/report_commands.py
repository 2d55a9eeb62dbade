"""The `sdx report` command: write a run's quality report, validation pages and rectification workbook.

`exchange.cli` registers it with `add_report_command(sub)`. Only argparse is imported at module level, so
`sdx --help` stays instant; the report's modules are imported when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_report_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `sdx report [--run RUN_ID] [--history N]` on the `sdx` subcommand parsers."""
    report = subparsers.add_parser(
        "report", help="write a run's quality report (HTML) and rectification workbook (Excel)"
    )
    report.add_argument("--run", help="run id (default: the latest)")
    report.add_argument("--history", type=int, default=30, help="runs the trend charts cover (default 30)")
    report.set_defaults(handler=report_command)


def report_command(args: argparse.Namespace) -> int:
    """Write the report files of the chosen run into <SDX_HOME>/reports/<run>/ and print their paths."""
    from connectors.curated.hook import CuratedDatabaseHook
    from exchange import state
    from exchange.steps.report import report_run

    engine = CuratedDatabaseHook().get_conn()
    run_id = args.run or state.latest_run_id(engine)
    if run_id is None:
        print("no run recorded in the curated database yet", file=sys.stderr)
        return 1
    try:
        written = report_run(engine, run_id, history=args.history)
    except LookupError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(format_written(written))
    return 0


def format_written(written: dict[str, Any]) -> str:
    """The written files, one per line, as `report_run` returned them."""
    lines = [f"Report of run {written['run_id']}:", f"  quality report  {written['quality_report']}"]
    lines += [f"  validation      {path}  ({name})" for name, path in sorted(written["validation"].items())]
    lines.append(f"  rectification   {written['rectification']}")
    return "\n".join(lines)
