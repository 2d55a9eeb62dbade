"""The Great Expectations suite of a resource, compiled from the same row rules as the quarantine."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from catalog import Resource
from quality.rules import RuleCheck, legal_bound


@dataclass(frozen=True)
class SuiteResult:
    """A GX validation of one batch: success, unexpected count per check, gate failures, the raw result.

    Row-level expectations fail whenever a record is quarantined, which is what quarantine is for; only
    the batch-level ones (`gate` in their meta) hold a resource back, and `gate_failures` names them.
    """

    success: bool
    unexpected: dict[str, int]
    result: dict[str, Any]
    gate_failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class QualityGate:
    """Batch-level limits of one resource (catalog.yaml `quality_gate`, overridable per resource)."""

    max_quarantined_share: float
    max_drop_share: float
    min_rows: int = 100

    @classmethod
    def of(cls, resource: Resource, settings: dict[str, Any]) -> QualityGate:
        """The limits for `resource`: the catalogue's, overridden by the resource's own."""
        limits = {**settings.get("quality_gate", {}), **resource.metadata.get("quality_gate", {})}
        return cls(
            float(limits.get("max_quarantined_share", 0.3)),
            float(limits.get("max_drop_share", 0.1)),
            int(limits.get("min_rows", 100)),
        )


#: Column of a batch marking the records that were in quarantine before the run (judged again, not new).
RECHECKED = "rechecked"


def _bound_column(check: RuleCheck) -> str:
    return f"_legal_bound_{check.columns[1]}"


def _row_condition(check: RuleCheck, *, negate: bool = False) -> dict[str, Any]:
    # The rows a conditional rule applies to, in the pandas query syntax GX's pandas engine evaluates.
    if not check.when:
        return {}
    clause = " and ".join(f"({column} in {list(values)!r})" for column, values in check.when.items())
    return {"row_condition": f"not ({clause})" if negate else clause, "condition_parser": "pandas"}


def _expectation(check: RuleCheck) -> Any:
    import great_expectations.expectations as gxe

    meta = {"check": check.name, "issue": check.issue}
    column = check.columns[0]
    if check.kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=column, meta=meta, **_row_condition(check))
    if check.kind == "null":
        return gxe.ExpectColumnValuesToBeNull(column=column, meta=meta, **_row_condition(check, negate=True))
    if check.kind == "between":
        return gxe.ExpectColumnValuesToBeBetween(
            column=column, min_value=check.low, max_value=check.high, meta=meta
        )
    if check.kind == "pattern":
        return gxe.ExpectColumnValuesToMatchRegex(column=column, regex=f"^(?:{check.pattern})$", meta=meta)
    # Both order rules compare two columns; "within N years" compares against the bound computed beside it.
    earlier, later = (
        (check.columns[1], _bound_column(check)) if check.kind == "within_years" else check.columns
    )
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=later, column_B=earlier, or_equal=True, ignore_row_if="either_value_is_missing", meta=meta
    )


def build_suite(resource: Resource, checks: list[RuleCheck], gate: QualityGate | None = None) -> Any:
    """An `ExpectationSuite`: one expectation per check, then the batch-level gate expectations."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name=f"sdx.{resource.name}")
    for check in checks:
        suite.add_expectation(_expectation(check))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeUnique(column="record_id", meta={"check": "unique:record_id", "gate": True})
    )
    if gate is not None:
        # `mostly` is GX's own "share of rows that must pass": the quarantined share, as a gate. Records
        # already in quarantine before the run are judged again every run, but are no new refusals.
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeInSet(
                column="quarantined",
                value_set=[False],
                mostly=1 - gate.max_quarantined_share,
                meta={"check": "share:quarantined", "gate": True},
                row_condition=f"{RECHECKED} == False",
                condition_parser="pandas",
            )
        )
    return suite


def validation_columns(checks: list[RuleCheck]) -> list[str]:
    """The columns of a batch the suite reads: a run keeps only these for GX, not whole records."""
    read = {"record_id", "deleted", "quarantined", RECHECKED}
    for check in checks:
        read.update(check.columns)
        read.update(check.when)
    return sorted(read)


def validation_frame(records: pd.DataFrame, checks: list[RuleCheck]) -> pd.DataFrame:
    """The frame GX validates: live records with the derived columns some checks compare against."""
    frame = records[~records["deleted"].astype(bool)].copy()
    for check in checks:
        if check.kind == "within_years" and check.legal_years is not None:
            frame[_bound_column(check)] = legal_bound(frame[check.columns[0]], check.legal_years)
    return frame


def ephemeral_context() -> Any:
    """A GX context held in memory: no project files, no usage statistics (the bureau's network is closed)."""
    # GX reads this when imported; set before the first import of great_expectations.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # Progress bars belong on a terminal, not in every task log.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _validate(name: str, frame: pd.DataFrame, make_suite: Callable[[], Any]) -> SuiteResult:
    # GX builds suites only inside an active context: create the context first, then the suite.
    context = ephemeral_context()
    suite = make_suite()
    definition = (
        context.data_sources.add_pandas(name="sdx")
        .add_dataframe_asset(name=name)
        .add_batch_definition_whole_dataframe(name="run")
    )
    result = definition.get_batch(batch_parameters={"dataframe": frame}).validate(
        suite, result_format="SUMMARY"
    )
    unexpected: dict[str, int] = {}
    gate_failures = []
    for res in result.results:
        meta = res.expectation_config.meta or {}
        check = meta.get("check", res.expectation_config.type)
        unexpected[check] = unexpected.get(check, 0) + int(res.result.get("unexpected_count") or 0)
        if meta.get("gate") and not res.success:
            gate_failures.append(f"{check}: {_observed(res.result)}")
    return SuiteResult(bool(result.success), unexpected, result.to_json_dict(), tuple(gate_failures))


def _observed(result: dict[str, Any]) -> str:
    if "observed_value" in result:
        return f"observed {result['observed_value']}"
    return f"{result.get('unexpected_count', 0)} of {result.get('element_count', 0)} rows ({result.get('unexpected_percent', 0):.1f} %)"


def validate_with_gx(
    resource: Resource, checks: list[RuleCheck], records: pd.DataFrame, gate: QualityGate | None = None
) -> SuiteResult:
    """Validate a batch with the resource's suite on an ephemeral GX context (no files, no network)."""
    frame = validation_frame(records, checks)
    if RECHECKED not in frame:
        frame[RECHECKED] = False
    if gate is not None and int((~frame[RECHECKED].astype(bool)).sum()) < gate.min_rows:
        gate = None  # too few records for a share to mean anything
    return _validate(resource.name, frame, lambda: build_suite(resource, checks, gate))


def validate_read_count(
    resource: Resource, rows_read: int, curated_live: int, gate: QualityGate
) -> SuiteResult:
    """Gate a full read: it must find at least (1 − max_drop_share) of the records curated before.

    A truncated or half-restored legacy table would otherwise turn the missing rows into deletes at every
    receiver.
    """
    minimum = int(curated_live * (1 - gate.max_drop_share))

    def make_suite() -> Any:
        import great_expectations as gx
        import great_expectations.expectations as gxe

        suite = gx.ExpectationSuite(name=f"sdx.{resource.name}.read")
        meta = {"check": "count:rows_read", "gate": True}
        suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=minimum, meta=meta))
        return suite

    return _validate(f"{resource.name}_read", pd.DataFrame({"n": range(rows_read)}), make_suite)
