"""standardize_phone: every phone shape of the legacy README."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from quality.standardize import standardize_phone

NUMBER = re.compile(r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-[0-9]{7,8})$")


def one(value):
    result = standardize_phone(pd.Series([value], dtype=object))
    return result.values.iloc[0], result.issues.iloc[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0519-88881234", "0519-88881234"),
        ("(0519)88881234", "0519-88881234"),
        ("（0519）88881234", "0519-88881234"),
        ("（０５１９）８８８８１２３４", "0519-88881234"),
        ("0519 88881234", "0519-88881234"),
        ("051988881234", "0519-88881234"),
        ("0519-8888123", "0519-8888123"),
        ("88881234", "0519-88881234"),  # local number: Changzhou's area code
        ("8888123", "0519-8888123"),
        ("010-62345678", "010-62345678"),  # three-digit area codes
        ("02162345678", "021-62345678"),
        ("0755-26543210", "0755-26543210"),
        ("13912345678", "13912345678"),
        (13912345678, "13912345678"),
        ("139 1234 5678", "13912345678"),
        ("139-1234-5678", "13912345678"),
        ("+86 139 1234 5678", "13912345678"),
        ("+86 13912345678", "13912345678"),
        ("+8613912345678", "13912345678"),
        ("8613912345678", "13912345678"),
        ("86 13912345678", "13912345678"),
        ("008613912345678", "13912345678"),
        ("+86 519 88881234", "0519-88881234"),
        ("+86-0519-88881234", "0519-88881234"),
        ("１３９１２３４５６７８", "13912345678"),
    ],
)
def test_one_number(raw, expected):
    assert one(raw) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13912345678/0519-88881234", "13912345678;0519-88881234"),
        ("13912345678、13812345678", "13912345678;13812345678"),
        ("13912345678;88881234", "13912345678;0519-88881234"),
        ("13912345678；13812345678", "13912345678;13812345678"),
        ("13912345678,13812345678", "13912345678;13812345678"),
        ("13912345678，13812345678", "13912345678;13812345678"),
        ("13912345678 13812345678", "13912345678;13812345678"),
        ("0519-88881234 13912345678", "0519-88881234;13912345678"),
        ("139 1234 5678 0519 88881234", "13912345678;0519-88881234"),
        ("13912345678/13912345678", "13912345678"),  # the same number twice
        ("13912345678 / ", "13912345678"),
    ],
)
def test_several_numbers_first_is_primary(raw, expected):
    assert one(raw) == (expected, None)


@pytest.mark.parametrize("raw", ["张经理", "12345", "010-12345678", "400-800-1234", "1391234567", "abc/def"])
def test_nothing_readable(raw):
    assert one(raw) == (None, "phone.invalid")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13912345678(张经理)", "13912345678"),
        ("13912345678/张经理", "13912345678"),
        ("0519-88881234-801", "0519-88881234"),  # the extension is dropped: warn
    ],
)
def test_partly_readable_keeps_the_numbers_and_warns(raw, expected):
    assert one(raw) == (expected, "phone.invalid")


@pytest.mark.parametrize("raw", [None, np.nan, "", "无", "/", "-", "0", "暂无"])
def test_empty(raw):
    assert one(raw) == (None, None)


def test_every_output_number_has_the_contract_format():
    raws = ["0519-88881234", "(0519)88881234", "+86 139 1234 5678", "13912345678/0519-88881234", "8888123"]
    values = standardize_phone(pd.Series(raws)).values
    for joined in values:
        assert all(NUMBER.match(n) for n in joined.split(";"))


def test_index_preserved():
    s = pd.Series(["13912345678", None], index=[3, 1])
    assert standardize_phone(s).issues.index.equals(s.index)
