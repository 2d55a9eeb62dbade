"""standardize_cas and parse_chemical_list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quality.standardize import parse_chemical_list, standardize_cas


def cas(value):
    result = standardize_cas(pd.Series([value], dtype=object))
    return result.values.iloc[0], result.issues.iloc[0]


@pytest.mark.parametrize(
    "raw", ["7664-41-7", "７６６４－４１－７", " 7664-41-7 ", "7664417", "7664–41–7", 7664417]
)
def test_ammonia(raw):
    assert cas(raw) == ("7664-41-7", None)  # standards/README.md: 7664-41-7 valid


def test_bad_check():
    assert cas("7664-41-8") == (None, "cas.bad_check")  # standards/README.md: invalid


@pytest.mark.parametrize("raw", ["abc", "7664-41", "012770-26-2", "氨"])
def test_invalid_format(raw):
    assert cas(raw) == (None, "cas.invalid_format")


@pytest.mark.parametrize("raw", [None, np.nan, "", "无", "/"])
def test_empty(raw):
    assert cas(raw) == (None, None)


def chemicals(value):
    result = parse_chemical_list(pd.Series([value], dtype=object))
    return result.values.iloc[0], result.issues.iloc[0]


def test_list_with_half_and_full_width_brackets_and_separators():
    value, issue = chemicals("液氨(7664-41-7);硫酸（7664-93-9）；甲醇（６７－５６－１）")
    assert value == [
        {"mc": "液氨", "cas": "7664-41-7"},
        {"mc": "硫酸", "cas": "7664-93-9"},
        {"mc": "甲醇", "cas": "67-56-1"},
    ]
    assert issue is None


def test_item_without_cas_and_names_with_brackets():
    value, issue = chemicals("氢氧化钠(固体)(1310-73-2); 甲醇 ;氢氧化钠(固体)")
    assert value == [
        {"mc": "氢氧化钠(固体)", "cas": "1310-73-2"},
        {"mc": "甲醇", "cas": None},
        {"mc": "氢氧化钠(固体)", "cas": None},
    ]
    assert issue is None


def test_bad_cas_in_a_list():
    value, issue = chemicals("液氨(7664-41-8);硫酸(7664-93-9)")
    assert value == [{"mc": "液氨", "cas": None}, {"mc": "硫酸", "cas": "7664-93-9"}]
    assert issue == "cas.bad_check"


@pytest.mark.parametrize("raw", [None, "", "无", ";", " ；； "])
def test_empty_lists(raw):
    assert chemicals(raw) == (None, None)


def test_rows_do_not_share_lists():
    result = parse_chemical_list(pd.Series(["液氨(7664-41-7)", "液氨(7664-41-7)"]))
    first, second = result.values
    first[0]["mc"] = "changed"
    assert second[0]["mc"] == "液氨"
