"""parse_date: every date shape of the legacy README, impossible and placeholder dates, speed."""

from __future__ import annotations

import datetime
import time

import numpy as np
import pandas as pd
import pytest

from quality.standardize import parse_date

MARCH_5 = datetime.date(2019, 3, 5)


def one(value):
    result = parse_date(pd.Series([value], dtype=object))
    return result.values.iloc[0], result.issues.iloc[0]


@pytest.mark.parametrize(
    "raw",
    [
        "2019-03-05",
        "2019/3/5",
        "2019/03/05",
        "20190305",
        "2019.03.05",
        "2019年3月5日",
        "2019年03月05日",
        "2019-03-05 00:00:00",
        "2019-03-05T00:00:00",
        "2019-03-05 14:30",
        "2019-03-05T08:00:00+08:00",
        "43529",  # Excel serial as text
        43529,  # Excel serial as a number
        43529.0,
        "２０１９－０３－０５",  # full-width digits
        "２０１９年３月５日",
        " 2019-03-05 ",
        "2019-3-5",
        pd.Timestamp("2019-03-05 10:00"),
        datetime.datetime(2019, 3, 5, 10, 0),
        MARCH_5,
        20190305,
    ],
)
def test_shapes_of_one_day(raw):
    assert one(raw) == (MARCH_5, None)


def test_excel_serial_follows_the_1900_system():
    # 1900 date system with the Lotus leap-year bug: serial 43529 is 2019-03-05, 25569 is 1970-01-01.
    assert one("25569") == (datetime.date(1970, 1, 1), None)
    assert one(45658) == (datetime.date(2025, 1, 1), None)


@pytest.mark.parametrize(
    "raw", ["2019-02-30", "2019-13-01", "2019/2/29", "20190230", "2019年4月31日", "2019-02-30 00:00:00"]
)
def test_impossible_dates(raw):
    assert one(raw) == (None, "date.impossible")


def test_leap_day_is_real():
    assert one("2020-02-29") == (datetime.date(2020, 2, 29), None)


@pytest.mark.parametrize(
    "raw",
    ["0000-00-00", "0000-00-00 00:00:00", "1900-01-01", "1899-12-30", "9999-12-31", "2019-00-00", "19000101"],
)
def test_placeholders(raw):
    assert one(raw) == (None, "date.placeholder")


@pytest.mark.parametrize("raw", ["1948-12-31", "2101-01-01", "1800-05-05", pd.Timestamp("1901-01-01")])
def test_years_out_of_range(raw):
    assert one(raw) == (None, "date.out_of_range")


@pytest.mark.parametrize(
    "raw", ["abc", "2019-03", "19-03-05", "12345", 19999, 60001, "2019-03-05 abc", "三月五日"]
)
def test_unparseable(raw):
    assert one(raw) == (None, "date.unparseable")


@pytest.mark.parametrize(
    "raw", [None, np.nan, pd.NA, pd.NaT, "", "无", "/", "-", "--", "暂无", "NULL", "null", "0", 0]
)
def test_empty_and_standins(raw):
    assert one(raw) == (None, None)


def test_index_preserved_with_duplicates():
    s = pd.Series(["2019-03-05", "2019-02-30", None, "2019-03-05"], index=["a", "a", "b", "c"])
    result = parse_date(s)
    assert result.values.index.equals(s.index)
    assert result.values.tolist() == [MARCH_5, None, None, MARCH_5]
    assert result.issues.tolist() == [None, "date.impossible", None, None]


def test_datetime64_column():
    s = pd.Series(pd.to_datetime(["2019-03-05", None, "1900-01-01"]))
    result = parse_date(s)
    assert result.values.tolist() == [MARCH_5, None, None]
    assert result.issues.tolist() == [None, None, "date.placeholder"]


def test_values_are_plain_dates():
    value, _ = one("2019-03-05 12:00:00")
    assert type(value) is datetime.date


def test_clean_iso_column_is_fast():
    days = pd.Timestamp("2000-01-01") + pd.to_timedelta(np.arange(200_000) % 9000, unit="D")
    s = pd.Series(days.strftime("%Y-%m-%d"))
    started = time.perf_counter()
    result = parse_date(s)
    elapsed = time.perf_counter() - started
    assert result.issues.isna().all()
    assert elapsed < 2.0, f"200k ISO dates took {elapsed:.2f}s"
