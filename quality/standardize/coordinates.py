"""Longitude and latitude pairs: zeros, swapped axes and points outside Changzhou."""

from __future__ import annotations

import numpy as np
import pandas as pd

from quality.standardize.numbers import parse_decimal
from quality.standardize.result import Standardized, aligned, as_series

ZERO = "coord.zero"
SWAPPED = "coord.swapped"
OUTSIDE = "coord.outside"

#: Changzhou's bounding box (WGS-84 / GCJ-02 alike at this precision), in degrees.
LONGITUDE_RANGE = (119.1, 120.2)
LATITUDE_RANGE = (31.1, 32.1)


def _inside(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (values >= bounds[0]) & (values <= bounds[1])


def _floats(parsed: Standardized) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in parsed.values], dtype=float)


def _result(values: np.ndarray, issues: np.ndarray, index: pd.Index) -> Standardized:
    objects = values.astype(object)
    objects[np.isnan(values)] = None
    return Standardized(
        pd.Series(objects, index=index, dtype=object), pd.Series(issues, index=index, dtype=object)
    )


def standardize_coordinates(lon: pd.Series, lat: pd.Series) -> tuple[Standardized, Standardized]:
    """Standardize a longitude column and a latitude column together.

    Rows pair by position (or by index label when the lengths differ). Each value is read as a number
    (``number.unparseable`` when it is not one). A zero becomes None with ``coord.zero``. When both are
    present and each lies in the other's range, they are swapped back with ``coord.swapped``. A pair
    outside Changzhou (longitude 119.1–120.2, latitude 31.1–32.1) becomes None with ``coord.outside``
    on both; a value without its partner is checked against its own range alone.

    Returns:
        (longitudes, latitudes) as floats or None, each on its input's index (both on the longitudes'
        index when the lengths differ).
    """
    lon_series, lat_input = as_series(lon), as_series(lat)
    lat_series = aligned(lat_input, lon_series)
    lon_parsed = parse_decimal(lon_series, allow_negative=True)
    lat_parsed = parse_decimal(lat_series, allow_negative=True)
    x, y = _floats(lon_parsed), _floats(lat_parsed)
    x_issue = lon_parsed.issues.to_numpy(dtype=object).copy()
    y_issue = lat_parsed.issues.to_numpy(dtype=object).copy()

    for values, issues in ((x, x_issue), (y, y_issue)):
        zero = values == 0
        values[zero], issues[zero] = np.nan, ZERO

    swapped = _inside(x, LATITUDE_RANGE) & _inside(y, LONGITUDE_RANGE)
    x[swapped], y[swapped] = y[swapped], x[swapped]
    x_issue[swapped] = y_issue[swapped] = SWAPPED

    x_out = ~np.isnan(x) & ~_inside(x, LONGITUDE_RANGE)
    y_out = ~np.isnan(y) & ~_inside(y, LATITUDE_RANGE)
    both = ~np.isnan(x) & ~np.isnan(y)
    outside = x_out | y_out
    for values, issues, own_out in ((x, x_issue, x_out), (y, y_issue, y_out)):
        drop = np.where(both, outside, own_out)
        values[drop], issues[drop] = np.nan, OUTSIDE

    lat_index = lat_input.index if len(lat_input) == len(lon_series) else lon_series.index
    return _result(x, x_issue, lon_series.index), _result(y, y_issue, lat_index)
