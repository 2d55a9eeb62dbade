"""The Great Expectations suite of a resource, compiled from the same row rules as the quarantine."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pandas as pd

from catalog import Resource
from quality.rules import RuleCheck, legal_bound


@dataclass(frozen=True)
class SuiteResult:
    """A GX validation of one batch: success, unexpected count per check name, and the raw result."""

    success: bool
    unexpected: dict[str, int]
    result: dict[str, Any]


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


def build_suite(resource: Resource, checks: list[RuleCheck]) -> Any:
    """An `ExpectationSuite` with one expectation per check, plus record-id uniqueness."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name=f"sdx.{resource.name}")
    for check in checks:
        suite.add_expectation(_expectation(check))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeUnique(column="record_id", meta={"check": "unique:record_id"})
    )
    return suite


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


def validate_with_gx(resource: Resource, checks: list[RuleCheck], records: pd.DataFrame) -> SuiteResult:
    """Validate a batch with the resource's suite on an ephemeral GX context (no files, no network)."""
    context = ephemeral_context()
    source = context.data_sources.add_pandas(name="sdx")
    asset = source.add_dataframe_asset(name=resource.name)
    definition = asset.add_batch_definition_whole_dataframe(name="run")
    batch = definition.get_batch(batch_parameters={"dataframe": validation_frame(records, checks)})
    result = batch.validate(build_suite(resource, checks), result_format="SUMMARY")
    unexpected: dict[str, int] = {}
    for res in result.results:
        name = res.expectation_config.meta.get("check", res.expectation_config.type)
        unexpected[name] = unexpected.get(name, 0) + int(res.result.get("unexpected_count") or 0)
    return SuiteResult(success=bool(result.success), unexpected=unexpected, result=result.to_json_dict())
