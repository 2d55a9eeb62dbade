"""The result every standardizer returns, and the per-distinct-value engine most of them run on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

#: What standardizing one value gives: the standardized value and an issue code (or None).
Outcome = tuple[Any, str | None]

NO_ISSUE: Outcome = (None, None)


@dataclass(frozen=True)
class Standardized:
    """Standardized values and one issue code (or None) per row, both on the input's index.

    Attributes:
        values: dtype object; the standardized value per row (str, datetime.date, int, float, bool, list
            or None).
        issues: dtype object; None where the value is fine or legitimately empty, else an issue code from
            ``quality/issues.yaml``.
    """

    values: pd.Series
    issues: pd.Series


def is_null(value: object) -> bool:
    """Tell whether a scalar is one of the many spellings of "missing" (None, NaN, NA, NaT)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(value != value)
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    if isinstance(value, Decimal):
        return value.is_nan()
    return False


def as_series(data: Any) -> pd.Series:
    """Return ``data`` as a Series, wrapping scalars and sequences: no input may make a standardizer raise."""
    if isinstance(data, pd.Series):
        return data
    if isinstance(data, pd.Index | np.ndarray | list | tuple):
        items = list(np.asarray(data, dtype=object).ravel()) if isinstance(data, np.ndarray) else list(data)
        return pd.Series(items, dtype=object)
    return pd.Series([data], dtype=object)


def aligned(other: Any, like: pd.Series) -> pd.Series:
    """Return ``other`` row for row with ``like``: by position when the lengths agree, else by index label."""
    if other is None:
        return pd.Series([None] * len(like), index=like.index, dtype=object)
    series = as_series(other)
    if len(series) == len(like):
        return pd.Series(series.to_numpy(dtype=object), index=like.index, dtype=object)
    try:
        return series.reindex(like.index).astype(object)
    except ValueError:  # duplicate labels: nothing to pair rows by
        return pd.Series([None] * len(like), index=like.index, dtype=object)


def from_arrays(
    values: np.ndarray, issues: np.ndarray, positions: np.ndarray, index: pd.Index
) -> Standardized:
    """Build a Standardized whose row i takes entry ``positions[i]`` of the per-distinct-value arrays."""
    return Standardized(
        values=pd.Series(values[positions], index=index, dtype=object),
        issues=pd.Series(issues[positions], index=index, dtype=object),
    )


def outcome_arrays(outcomes: Sequence[Outcome]) -> tuple[np.ndarray, np.ndarray]:
    """Split outcomes into an object array of values and one of issues."""
    values = np.empty(len(outcomes), dtype=object)
    issues = np.empty(len(outcomes), dtype=object)
    # Item by item: numpy would try to broadcast list values (chemical lists) if assigned as a whole.
    for i, (value, issue) in enumerate(outcomes):
        values[i] = value
        issues[i] = issue
    return values, issues


def from_outcomes(outcomes: Sequence[Outcome], index: pd.Index) -> Standardized:
    """Build a Standardized from one Outcome per row."""
    values, issues = outcome_arrays(outcomes)
    return from_arrays(values, issues, np.arange(len(outcomes)), index)


def distinct(series: pd.Series) -> tuple[np.ndarray, pd.Index] | None:
    """Factorize ``series`` into (codes, distinct non-null values); None when its values are unhashable.

    Null rows get code -1.
    """
    try:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except (TypeError, ValueError):  # lists or dicts in an object column
        return None
    return np.asarray(codes), pd.Index(uniques)


def with_null_entry(
    values: np.ndarray, issues: np.ndarray, on_null: Outcome
) -> tuple[np.ndarray, np.ndarray]:
    """Append the null outcome: null rows have code -1 after factorize, and a take with -1 picks the last."""
    out_values = np.empty(len(values) + 1, dtype=object)
    out_issues = np.empty(len(issues) + 1, dtype=object)
    out_values[:-1], out_issues[:-1] = values, issues
    out_values[-1], out_issues[-1] = on_null
    return out_values, out_issues


def standardize_distinct(
    data: Any, standardize_one: Callable[[Any], Outcome], *, on_null: Outcome = NO_ISSUE
) -> Standardized:
    """Apply ``standardize_one`` once per distinct value and spread the outcomes over the rows.

    Legacy columns repeat a few thousand distinct values over hundreds of thousands of rows, so the
    per-value Python work runs once per distinct value and the rows are filled by a numpy take.

    Args:
        data: the column (a Series; anything else is wrapped).
        standardize_one: turns one non-null value into an Outcome; must not raise.
        on_null: the Outcome for None, NaN, NA and NaT.

    Returns:
        The Standardized column, on the input's index.
    """
    series = as_series(data)
    found = distinct(series)
    if found is None:
        return from_outcomes([on_null if is_null(v) else standardize_one(v) for v in series], series.index)
    codes, uniques = found
    values, issues = outcome_arrays([standardize_one(v) for v in uniques.to_numpy(dtype=object)])
    return from_arrays(*with_null_entry(values, issues, on_null), codes, series.index)
