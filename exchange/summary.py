"""The run summary a person reads at the end of a run: per resource, what came in and where it went."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from quality.issues import issue_kind

if TYPE_CHECKING:
    from exchange.reconcile import TableReconciliation
    from exchange.reconcile_gateway import GatewayReconciliation


def summary_rows(stats: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per resource: extracted, quarantined (with reasons), curated changes, delivered."""
    rows = []
    for resource, steps in sorted(stats.items()):
        std, cur = steps.get("standardize", {}), steps.get("curate", {})
        delivered = {k.split(":", 1)[1]: v for k, v in steps.items() if k.startswith("deliver:")}
        rows.append(
            {
                "resource": resource,
                "extracted": std.get("extracted", 0),
                "quarantined": std.get("quarantined", 0),
                "reasons": std.get("quarantined_by_issue", {}),
                "curated": {k: cur.get(k, 0) for k in ("inserted", "updated", "deleted", "unchanged")},
                "held": cur.get("reasons") if cur.get("held") else None,
                # A receiver without a configured connection is skipped, which is not the same as nothing new.
                "delivered": {
                    r: "skipped"
                    if v.get("skipped")
                    else v.get("inserted", 0) + v.get("updated", 0) + v.get("deleted", 0)
                    for r, v in delivered.items()
                },
            }
        )
    return rows


def format_summary(
    run_id: str,
    stats: dict[str, dict[str, dict[str, Any]]],
    reconciliation: Sequence[TableReconciliation] = (),
    gateway: Sequence[GatewayReconciliation] = (),
) -> str:
    """A plain-text table of `summary_rows`, quarantine reasons spelled out, and the run's reconciliations."""
    lines = [f"Run {run_id}", ""]
    # As wide as the longest resource name (integrity_declarations), so the columns stay aligned.
    width = max([16, *(len(name) + 1 for name in stats)])
    header = f"{'resource':<{width}}{'extracted':>10}{'quarantined':>13}{'new':>8}{'changed':>9}{'deleted':>9}{'unchanged':>11}  delivered"
    lines += [header, "-" * len(header)]
    for row in summary_rows(stats):
        cur = row["curated"]
        delivered = ", ".join(f"{r}: {n}" for r, n in row["delivered"].items() if n or not row["held"]) or "-"
        if row["held"]:
            delivered = "HELD by the quality gate: " + "; ".join(row["held"])
        lines.append(
            f"{row['resource']:<{width}}{row['extracted']:>10}{row['quarantined']:>13}{cur['inserted']:>8}"
            f"{cur['updated']:>9}{cur['deleted']:>9}{cur['unchanged']:>11}  {delivered}"
        )
        for issue, count in row["reasons"].items():
            lines.append(f"{'':<{width}}{count:>10}  × {issue}: {issue_kind(issue).message}")
    if reconciliation:
        from exchange.reconcile import format_reconciliation

        lines += ["", format_reconciliation(list(reconciliation))]
    if gateway:
        from exchange.reconcile_gateway import format_gateway_reconciliation

        lines += ["", format_gateway_reconciliation(list(gateway))]
    return "\n".join(lines)
