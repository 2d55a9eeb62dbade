"""parse_count and parse_decimal: numbers stored as text."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from quality.standardize import parse_count, parse_decimal


def count(value):
    result = parse_count(pd.Series([value], dtype=object))
    return result.values.iloc[0], result.issues.iloc[0]


def decimal(value, **kwargs):
    result = parse_decimal(pd.Series([value], dtype=object), **kwargs)
    return result.values.iloc[0], result.issues.iloc[0]


@pytest.mark.parametrize(
    "raw", ["120", "１２０", "120.0", " 120 ", 120, 120.0, np.int64(120), Decimal("120"), "+120", "0120"]
)
def test_clean_counts(raw):
    value, issue = count(raw)
    assert (value, issue) == (120, None)
    assert type(value) is int


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("约120人", 120),  # CYRS quirk of the legacy README
        ("120人", 120),
        ("120余人", 120),
        ("120人左右", 120),
        ("约１２０人", 120),
        ("1.2万", 12000),
        ("1,200人", 1200),
    ],
)
def test_approximate_counts(raw, expected):
    assert count(raw) == (expected, "number.approximate")


def test_thousands_separator_is_not_approximate():
    assert count("1,200") == (1200, None)


def test_zero_is_a_count_not_a_standin():
    assert count("0") == (0, None)
    assert count(0) == (0, None)


@pytest.mark.parametrize(
    "raw", ["-5", -5, "约-5人", "abc", "100-120人", "12.5", 12.5, "1e999999999", np.inf, "若干"]
)
def test_unparseable_counts(raw):
    assert count(raw) == (None, "number.unparseable")


@pytest.mark.parametrize("raw", [None, np.nan, pd.NA, "", "无", "/", "-", "暂无", "NULL"])
def test_empty_counts(raw):
    assert count(raw) == (None, None)


@pytest.mark.parametrize(
    ("raw", "expected", "issue"),
    [
        ("1,200kg", 1200.0, "number.approximate"),  # 涉氨量
        ("1200", 1200.0, None),
        ("12.5", 12.5, None),
        ("１２．５", 12.5, None),
        ("约12.5吨", 12.5, "number.approximate"),
        (".5", 0.5, None),
        ("1e3", 1000.0, None),
        (12.5, 12.5, None),
        (3, 3.0, None),
        ("0", 0.0, None),
    ],
)
def test_decimals(raw, expected, issue):
    value, found_issue = decimal(raw)
    assert (value, found_issue) == (expected, issue)
    assert type(value) is float


def test_negative_decimals_only_when_allowed():
    assert decimal("-3.5") == (None, "number.unparseable")
    assert decimal("-3.5", allow_negative=True) == (-3.5, None)


@pytest.mark.parametrize("raw", ["abc", "1-2", np.inf, "1e20"])
def test_unparseable_decimals(raw):
    assert decimal(raw) == (None, "number.unparseable")
