"""clean_text and parse_flag: the legacy README's text quirks, each with its expected output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quality.standardize import NULL_STANDINS, clean_text, parse_flag


def one(value, **kwargs):
    result = clean_text(pd.Series([value], dtype=object), **kwargs)
    return result.values.iloc[0], result.issues.iloc[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  常州市华达化工有限公司 ", "常州市华达化工有限公司"),  # leading/trailing spaces
        ("华达化工有限公司\u3000", "华达化工有限公司"),  # ideographic space at the end
        ("常州市\u3000\u3000华达", "常州市 华达"),  # ideographic spaces inside: one space
        ("华达\u200b化工\ufeff", "华达化工"),  # zero-width space and BOM
        ("华\u200c达\u200d化\u2060工", "华达化工"),
        ("ＡＢＣ１２３（）", "ABC123()"),  # full-width letters, digits and brackets
        ("常州市华达化工（集团）有限公司", "常州市华达化工(集团)有限公司"),
        ("常州市华达\n化工有限公司", "常州市华达化工有限公司"),  # line break inside a name: joined
        ("常州市华达 \r\n 化工有限公司", "常州市华达化工有限公司"),
        ("武进区湖塘镇\n\n人民路1号", "武进区湖塘镇人民路1号"),
        ("a \t  b", "a b"),  # runs of white space
        ("caf\u0065\u0301", "café"),  # NFKC composes
    ],
)
def test_text_quirks_are_cleaned_without_issue(raw, expected):
    assert one(raw) == (expected, None)


@pytest.mark.parametrize("raw", ["华\x07达", "华达\x00", "\x1b[31m华达", "华\x85达", "华\x9f达"])
def test_control_characters_are_removed_with_a_warning(raw):
    value, issue = one(raw)
    assert issue == "text.control_chars"
    assert value.replace("[31m", "") == "华达"


def test_tab_cr_lf_are_not_control_issues():
    assert one("华达\t化工\r\n有限公司") == ("华达 化工有限公司", None)


@pytest.mark.parametrize(
    "raw", ["", "无", "/", "-", "--", "暂无", "NULL", "null", "0", " 无 ", "\u3000", "－－", "０"]
)
def test_null_standins_become_none_without_issue(raw):
    assert one(raw) == (None, None)


def test_null_standins_kept_when_asked():
    assert one("无", null_standins=False) == ("无", None)
    assert one("0", null_standins=False) == ("0", None)
    assert one("  ", null_standins=False) == (None, None)


def test_the_standin_list_is_the_legacy_one():
    assert {"", "无", "/", "-", "--", "暂无", "NULL", "null", "0"} == NULL_STANDINS


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(120, "120"), (120.0, "120"), (2.5, "2.5"), (np.int64(7), "7"), (None, None), (np.nan, None)],
)
def test_numbers_and_missing(raw, expected):
    assert one(raw) == (expected, None)


def test_index_and_dtype_follow_the_input():
    s = pd.Series([" a ", None, "b"], index=[10, 10, "x"])
    result = clean_text(s)
    assert result.values.index.equals(s.index) and result.issues.index.equals(s.index)
    assert result.values.dtype == object and result.issues.dtype == object
    assert result.values.tolist() == ["a", None, "b"]
    assert result.issues.tolist() == [None, None, None]


def test_pandas_str_dtype_input():
    s = pd.Series(["ＡＢＣ", None, "无"], dtype="str")
    assert clean_text(s).values.tolist() == ["ABC", None, None]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Y", True),
        ("y", True),
        ("1", True),
        (1, True),
        (1.0, True),
        (True, True),
        ("是", True),
        ("Yes", True),
        ("N", False),
        ("n", False),
        ("0", False),
        (0, False),
        (False, False),
        ("否", False),
        ("false", False),
        ("Ｙ", True),
        (" 是 ", True),
    ],
)
def test_parse_flag(raw, expected):
    result = parse_flag(pd.Series([raw], dtype=object))
    assert result.values.iloc[0] is expected
    assert result.issues.iloc[0] is None


@pytest.mark.parametrize("raw", [None, np.nan, "", "/", "NULL", "暂无"])
def test_parse_flag_empty(raw):
    result = parse_flag(pd.Series([raw], dtype=object))
    assert (result.values.iloc[0], result.issues.iloc[0]) == (None, None)


def test_parse_flag_unknown():
    result = parse_flag(pd.Series(["也许"]))
    assert (result.values.iloc[0], result.issues.iloc[0]) == (None, "code.unknown")
