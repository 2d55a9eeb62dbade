"""standardize_coordinates: zeros, swapped pairs, points outside Changzhou."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quality.standardize import standardize_coordinates


def pair(lon, lat):
    x, y = standardize_coordinates(pd.Series([lon], dtype=object), pd.Series([lat], dtype=object))
    return (x.values.iloc[0], x.issues.iloc[0]), (y.values.iloc[0], y.issues.iloc[0])


def test_inside_changzhou():
    assert pair("119.95", "31.78") == ((119.95, None), (31.78, None))
    assert pair(119.95, 31.78) == ((119.95, None), (31.78, None))
    assert pair("１１９．９５", "３１．７８") == ((119.95, None), (31.78, None))


def test_swapped_back():
    assert pair("31.78", "119.95") == ((119.95, "coord.swapped"), (31.78, "coord.swapped"))


def test_zero():
    assert pair(0, 0) == ((None, "coord.zero"), (None, "coord.zero"))
    assert pair("0.0", "0") == ((None, "coord.zero"), (None, "coord.zero"))


@pytest.mark.parametrize("empty", [None, np.nan, "", "无"])
def test_empty(empty):
    assert pair(empty, empty) == ((None, None), (None, None))


@pytest.mark.parametrize(
    ("lon", "lat"), [("121.47", "31.23"), ("119.95", "30.5"), ("-119.95", "31.78"), ("200", "95")]
)
def test_outside_changzhou(lon, lat):
    assert pair(lon, lat) == ((None, "coord.outside"), (None, "coord.outside"))


def test_one_side_missing_is_checked_alone():
    assert pair("119.95", None) == ((119.95, None), (None, None))
    assert pair(None, "35.0") == ((None, None), (None, "coord.outside"))


def test_unparseable():
    assert pair("不详", "31.78") == ((None, "number.unparseable"), (31.78, None))


def test_units_around_the_number():
    assert pair("东经119.95度", "31.78") == ((119.95, "number.approximate"), (31.78, None))


def test_indexes_are_kept():
    lon = pd.Series(["119.95", "31.78"], index=["a", "b"])
    lat = pd.Series(["31.78", "119.95"], index=[5, 6])
    x, y = standardize_coordinates(lon, lat)
    assert x.values.index.equals(lon.index) and y.values.index.equals(lat.index)
    assert x.values.tolist() == [119.95, 119.95] and y.values.tolist() == [31.78, 31.78]
