"""map_codes and derive_certificate_status."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

from catalog import CodeList, default_catalog
from catalog.model import CodeEntry
from quality.standardize import derive_certificate_status, map_codes
from quality.standardize.codes import DatedStatus

# The legacy ZSZT values of catalog/codelists/certificate_status.yaml.
# fmt: off
STATUS = {
    "有效": "01", "正常": "01", "1": "01", "在用": "01",
    "暂扣": "02", "撤销": "03", "注销": "04", "4": "04",
    "过期": "05", "失效": "05", "吊销": "07", "其他": "99",
}
# fmt: on
AS_OF = datetime.date(2026, 11, 29)
STATUSES = DatedStatus.from_codelist(default_catalog().codelist("certificate_status"))


def mapped(value, mapping=STATUS, **kwargs):
    result = map_codes(pd.Series([value], dtype=object), mapping, **kwargs)
    return result.values.iloc[0], result.issues.iloc[0]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("有效", "01"),
        ("正常", "01"),
        ("1", "01"),
        (1, "01"),
        (1.0, "01"),
        (" 注销 ", "04"),
        ("吊销", "07"),
        ("过期", "05"),
    ],
)
def test_free_text_status(raw, code):
    assert mapped(raw) == (code, None)


def test_codes_already_mapped_stay():
    assert mapped("01") == ("01", None)
    assert mapped("05") == ("05", None)


def test_case_insensitive():
    mapping = {"Y": "1", "N": "0", "Active": "01"}
    assert mapped("y", mapping) == ("1", None)
    assert mapped("ACTIVE", mapping) == ("01", None)


def test_standins_that_are_keys_are_looked_up():
    assert mapped("0", {"0": "否", "1": "是"}) == ("否", None)
    assert mapped("无", {"有": "1", "无": "0"}) == ("0", None)


def test_unknown():
    assert mapped("作废") == (None, "code.unknown")
    assert mapped("作废", unknown_issue="status.unknown") == (None, "status.unknown")


@pytest.mark.parametrize("raw", [None, np.nan, "", "/", "暂无", "0"])
def test_empty(raw):
    assert mapped(raw) == (None, None)


def derive(statuses, valid_to):
    result = derive_certificate_status(
        pd.Series(statuses, dtype=object), pd.Series(valid_to, dtype=object), AS_OF, STATUSES
    )
    return list(zip(result.values, result.issues, strict=True))


def test_valid_status_on_an_expired_certificate_becomes_expired():
    assert derive(["01"], [datetime.date(2025, 1, 1)]) == [("05", "status.contradicts_dates")]
    assert derive(["01"], ["2025-01-01"]) == [("05", "status.contradicts_dates")]


def test_expired_status_on_a_valid_certificate_becomes_valid():
    assert derive(["05"], [datetime.date(2028, 1, 1)]) == [("01", "status.contradicts_dates")]
    assert derive(["05"], [None]) == [("01", "status.contradicts_dates")]


def test_consistent_statuses_stay():
    assert derive(["01", "05", "01"], ["2028-01-01", "2025-01-01", AS_OF]) == [
        ("01", None),
        ("05", None),
        ("01", None),
    ]


def test_revoked_and_cancelled_are_kept():
    assert derive(["03", "04", "07"], ["2028-01-01", "2025-01-01", None]) == [
        ("03", None),
        ("04", None),
        ("07", None),
    ]


def test_unreadable_valid_to_changes_nothing():
    assert derive(["05", "01"], ["不详", "2019-02-30"]) == [("05", None), ("01", None)]


def test_empty_status():
    assert derive([None], ["2025-01-01"]) == [(None, None)]


def test_index_follows_status():
    status = pd.Series(["01", "05"], index=["x", "y"])
    result = derive_certificate_status(status, pd.Series(["2025-01-01", "2028-01-01"]), AS_OF, STATUSES)
    assert result.values.index.equals(status.index)
    assert result.values.tolist() == ["05", "01"]


def test_dated_statuses_come_from_the_code_list():
    assert DatedStatus("01", "05") == STATUSES
    renumbered = CodeList(
        "s",
        "状态",
        (CodeEntry("A", "有效", {"dated": "valid"}), CodeEntry("B", "过期", {"dated": "expired"})),
    )
    assert derive(["01"], ["2020-01-01"]) == [("05", "status.contradicts_dates")]
    result = derive_certificate_status(
        pd.Series(["A", "B"]),
        pd.Series(["2020-01-01", "2030-01-01"]),
        AS_OF,
        DatedStatus.from_codelist(renumbered),
    )
    assert result.values.tolist() == ["B", "A"]


def test_a_code_list_without_dated_statuses_is_refused():
    with pytest.raises(ValueError, match="dated: valid"):
        DatedStatus.from_codelist(default_catalog().codelist("genders"))
