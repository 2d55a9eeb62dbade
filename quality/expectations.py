"""The Great Expectations suite of a resource, compiled from the same row rules as the quarantine."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from catalog import Resource
from quality.rules import RuleCheck, legal_bound

# GX logs its own start-up at INFO (each decorated function it registers, its temporary folders): some 200
# lines per process, burying a run's progress. Its warnings and errors still show.
logging.getLogger("great_expectations").setLevel(logging.WARNING)


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


def build_row_suite(resource: Resource, checks: list[RuleCheck]) -> Any:
    """The row-level part of the suite: one expectation per check (each record judged on its own)."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=f"sdx.{resource.name}")
    for check in checks:
        suite.add_expectation(_expectation(check))
    return suite


def build_gate_suite(resource: Resource, gate: QualityGate | None = None) -> Any:
    """The batch-level part: unique record ids and, with a gate, the quarantined share (whole resource)."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=f"sdx.{resource.name}.gate")
    for expectation in _gate_expectations(gate):
        suite.add_expectation(expectation)
    return suite


def _gate_expectations(gate: QualityGate | None) -> list[Any]:
    import great_expectations.expectations as gxe

    out: list[Any] = [
        gxe.ExpectColumnValuesToBeUnique(column="record_id", meta={"check": "unique:record_id", "gate": True})
    ]
    if gate is not None:
        # `mostly` is GX's own "share of rows that must pass": the quarantined share, as a gate. Records
        # already in quarantine before the run are judged again every run, but are no new refusals.
        out.append(
            gxe.ExpectColumnValuesToBeInSet(
                column="quarantined",
                value_set=[False],
                mostly=1 - gate.max_quarantined_share,
                meta={"check": "share:quarantined", "gate": True},
                row_condition=f"{RECHECKED} == False",
                condition_parser="pandas",
            )
        )
    return out


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
    definition = _whole_frame(context.data_sources.add_pandas(name="sdx"), name)
    return _summary(_validate_frame(definition, suite, frame))


def _whole_frame(data_source: Any, name: str) -> Any:
    return data_source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe(name="run")


def _validate_frame(definition: Any, suite: Any, frame: pd.DataFrame) -> dict[str, Any]:
    batch = definition.get_batch(batch_parameters={"dataframe": frame})
    return dict(batch.validate(suite, result_format="SUMMARY").to_json_dict())


def _summary(result: dict[str, Any]) -> SuiteResult:
    unexpected: dict[str, int] = {}
    gate_failures = []
    for res in result["results"]:
        config = res["expectation_config"]
        meta = config.get("meta") or {}
        check = meta.get("check", config.get("type"))
        unexpected[check] = unexpected.get(check, 0) + int(
            (res.get("result") or {}).get("unexpected_count") or 0
        )
        if meta.get("gate") and not res["success"]:
            gate_failures.append(f"{check}: {_observed(res.get('result') or {})}")
    return SuiteResult(bool(result["success"]), unexpected, result, tuple(gate_failures))


def _observed(result: dict[str, Any]) -> str:
    if "observed_value" in result:
        return f"observed {result['observed_value']}"
    return f"{result.get('unexpected_count', 0)} of {result.get('element_count', 0)} rows ({result.get('unexpected_percent', 0):.1f} %)"


#: How many unexpected values (and counts of values) a merged result keeps, as GX's SUMMARY format does.
_PARTIAL = 20


def _merge_result(held: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """One expectation's result over two batches, as GX would report it over both at once.

    GX has no merge of validation results; this adds the counts and recomputes the shares the way its
    column-map expectations compute them (unexpected of non-missing values).
    """
    a, b = held.get("result") or {}, more.get("result") or {}
    result = dict(a)
    for key in ("element_count", "missing_count", "unexpected_count"):
        if key in a or key in b:
            result[key] = int(a.get(key) or 0) + int(b.get(key) or 0)
    elements, missing = result.get("element_count", 0), result.get("missing_count", 0)
    unexpected = result.get("unexpected_count", 0)
    shares = {
        "missing_percent": (missing, elements),
        "unexpected_percent": (unexpected, elements - missing),
        "unexpected_percent_nonmissing": (unexpected, elements - missing),
        "unexpected_percent_total": (unexpected, elements),
    }
    for key, (part, whole) in shares.items():
        if key in result:
            result[key] = 100 * part / whole if whole else None
    for key in ("partial_unexpected_list", "partial_unexpected_index_list"):
        if key in a or key in b:
            result[key] = [*(a.get(key) or []), *(b.get(key) or [])][:_PARTIAL]
    if "partial_unexpected_counts" in a or "partial_unexpected_counts" in b:
        counts: dict[str, dict[str, Any]] = {}
        for entry in [
            *(a.get("partial_unexpected_counts") or []),
            *(b.get("partial_unexpected_counts") or []),
        ]:
            key = json.dumps(entry["value"], sort_keys=True, default=str)
            counts.setdefault(key, {"value": entry["value"], "count": 0})["count"] += int(entry["count"])
        result["partial_unexpected_counts"] = sorted(counts.values(), key=lambda e: -e["count"])[:_PARTIAL]
    merged = {**held, "success": bool(held["success"] and more["success"]), "result": result}
    if (more.get("exception_info") or {}).get("raised_exception"):
        merged["exception_info"] = more["exception_info"]
    return merged


class ResourceValidation:
    """The GX validation of one resource, fed batch by batch as the records are standardized.

    The row expectations run on each batch as it comes, so a resource of millions of records is never one
    frame in GX (2.1 M licences at once held 4.8 GiB); their results add up to one result per expectation.
    The batch-level gates (unique record ids, the quarantined share) need the whole resource: they run once
    at the end, on the two or three columns they read.
    """

    def __init__(self, resource: Resource, checks: list[RuleCheck], gate: QualityGate | None = None) -> None:
        self.resource, self.checks, self.gate = resource, checks, gate
        self.columns = validation_columns(checks)
        self.batches = 0
        self._keys: list[pd.DataFrame] = []
        self._rows: dict[str, dict[str, Any]] = {}  # each expectation's result so far
        self._head: dict[str, Any] | None = None  # the first batch's suite name, meta and statistics
        self._gx: tuple[Any, Any, Any] | None = None

    def _started(self) -> tuple[Any, Any, Any]:
        # One context, suite and batch definition for every batch: GX builds suites inside a context.
        if self._gx is None:
            data_source = ephemeral_context().data_sources.add_pandas(name="sdx")
            suite = build_row_suite(self.resource, self.checks)
            self._gx = (data_source, suite, _whole_frame(data_source, self.resource.name))
        return self._gx

    def add(self, records: pd.DataFrame) -> None:
        """Validate one batch's live records with the row expectations; keep what the gates read."""
        self.batches += 1
        frame = validation_frame(records[[c for c in self.columns if c in records.columns]], self.checks)
        if frame.empty:
            return
        self._keys.append(frame[[c for c in ("record_id", "quarantined", RECHECKED) if c in frame.columns]])
        if not self.checks:
            return
        _, suite, definition = self._started()
        part = _validate_frame(definition, suite, frame)
        if self._head is None:
            self._head = {k: v for k, v in part.items() if k != "results"}
        for res in part["results"]:
            # A suite not saved in a context gives its expectations no ids: what they check is the key.
            config = res["expectation_config"]
            key = json.dumps([config.get(k) for k in ("type", "kwargs", "meta")], sort_keys=True, default=str)
            self._rows[key] = _merge_result(self._rows[key], res) if key in self._rows else res

    def finish(self, rechecked: set[str] | None = None) -> SuiteResult:
        """The whole resource's result: the row expectations summed, then the gates on every record.

        `rechecked`: record ids in quarantine before the run (judged again, not counted as new refusals).
        """
        keys = (
            pd.concat(self._keys, ignore_index=True)
            if self._keys
            else pd.DataFrame({"record_id": pd.Series(dtype=object), "quarantined": pd.Series(dtype=bool)})
        )
        self._keys = []
        if rechecked is not None:
            keys[RECHECKED] = keys["record_id"].isin(rechecked)
        else:
            keys[RECHECKED] = keys[RECHECKED].fillna(False).astype(bool) if RECHECKED in keys else False
        gate = self.gate
        if gate is not None and int((~keys[RECHECKED]).sum()) < gate.min_rows:
            gate = None  # too few records for a share to mean anything
        data_source = self._started()[0]
        gates = build_gate_suite(self.resource, gate)
        definition = _whole_frame(data_source, f"{self.resource.name}_gate")
        gated = _validate_frame(definition, gates, keys)
        results = [*self._rows.values(), *gated["results"]]
        passed = sum(bool(r["success"]) for r in results)
        merged = {
            **(self._head or gated),
            "results": results,
            "success": passed == len(results),
            "statistics": {
                "evaluated_expectations": len(results),
                "successful_expectations": passed,
                "unsuccessful_expectations": len(results) - passed,
                "success_percent": 100 * passed / len(results) if results else None,
            },
        }
        return _summary(merged)


def validate_with_gx(
    resource: Resource, checks: list[RuleCheck], records: pd.DataFrame, gate: QualityGate | None = None
) -> SuiteResult:
    """Validate one frame with the resource's suite on an ephemeral GX context (no files, no network)."""
    validation = ResourceValidation(resource, checks, gate)
    validation.add(records)
    return validation.finish()


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
