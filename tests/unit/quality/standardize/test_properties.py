"""Properties every standardizer keeps on any input: no exception, the index, idempotence, known codes."""

from __future__ import annotations

import datetime
from decimal import Decimal
from importlib import resources

import numpy as np
import pandas as pd
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import default_catalog
from quality.standardize import (
    Standardized,
    clean_text,
    derive_certificate_status,
    map_codes,
    mask_name,
    mask_phone,
    mask_resident_id,
    parse_chemical_list,
    parse_count,
    parse_date,
    parse_decimal,
    parse_flag,
    resolve_enterprise_codes,
    standardize_cas,
    standardize_coordinates,
    standardize_division,
    standardize_phone,
    standardize_resident_id,
    standardize_uscc,
)
from quality.standardize.codes import DatedStatus

SETTINGS = settings(max_examples=200, deadline=None)
ISSUE_CODES = set(yaml.safe_load((resources.files("quality") / "issues.yaml").read_text(encoding="utf-8")))
STATUSES = DatedStatus.from_codelist(default_catalog().codelist("certificate_status"))
STATUS = {"有效": "01", "正常": "01", "1": "01", "注销": "04", "吊销": "07", "过期": "05", "失效": "05"}

# Shapes the legacy data really has, so that the deep paths get exercised, not only the "unreadable" one.
# fmt: off
QUIRKS = [
    "2019-03-05", "2019/3/5", "20190305", "2019.03.05", "2019年3月5日", "2019-03-05 00:00:00", "43529",
    "2019-02-30", "0000-00-00", "1900-01-01", "９１１１００００６０００３７３４１ｌ", "91110000600037341N",
    "916201055811843000", "91350211M00013FA1N", "110108000000016", "D2143569-X", "320402900101001",
    "44011320141005001x", "320482198001010014", "320483", "320421", "武进", "常州市武进区", "JKQ", "经开区",
    "(0519)88881234", "+86 139 1234 5678", "13912345678/0519-88881234", "约120人", "1,200kg", "1.2万",
    "液氨(7664-41-7);硫酸（7664-93-9）", "7664-41-8", "有效", "过期", "Y", "否", "无", "/", "--", "0", "NULL",
    "ＡＢＣ１２３（）", "常州市华达\n化工", "\u3000华达\u200b", "a\x00b", "e\u0301", "\ud800",
]
# fmt: on

SCALARS = st.one_of(
    st.none(),
    st.just(np.nan),
    st.just(pd.NA),
    st.text(),
    st.text(alphabet=st.characters(exclude_categories=())),  # every Unicode category, surrogates included
    st.from_regex(r"[0-9０-９xX \-]{8,19}", fullmatch=True),
    st.from_regex(r"[0-9A-Z]{8}-?[0-9X]", fullmatch=True),
    st.from_regex(r"(19|20)[0-9]{2}[-/.年]?[01]?[0-9][-/.月]?[0-3]?[0-9]日?", fullmatch=True),
    st.integers(),
    st.integers(min_value=0, max_value=10**18),
    st.floats(),
    st.booleans(),
    st.decimals(),
    st.dates(),
    st.sampled_from(QUIRKS),
)


@st.composite
def columns(draw, elements=SCALARS):
    values = draw(st.lists(elements, max_size=12))
    index = draw(st.lists(st.integers(0, 4), min_size=len(values), max_size=len(values)))  # duplicates too
    return pd.Series(values, index=pd.Index(index), dtype=object)


def _utf8(value) -> bool:
    try:
        return isinstance(value, str) and bool(value.encode("utf-8") or True)
    except UnicodeEncodeError:  # lone surrogates: an Arrow-backed str column cannot hold them
        return False


def text_columns():
    # The same columns as pandas 3 reads them from a database: dtype str, Arrow-backed.
    return columns(st.one_of(st.none(), st.text(), st.sampled_from(QUIRKS).filter(_utf8))).map(
        lambda s: s.astype("str")
    )


def reinput(values: pd.Series) -> pd.Series:
    # Dates go back in as text, the form they arrive in.
    return values.map(lambda v: v.isoformat() if isinstance(v, datetime.date) else v).astype(object)


def check_shape(result: Standardized, s: pd.Series) -> None:
    assert isinstance(result, Standardized)
    assert result.values.index.equals(s.index)
    assert result.issues.index.equals(s.index)
    assert result.values.dtype == object and result.issues.dtype == object
    assert set(result.issues.dropna()) <= ISSUE_CODES
    assert not any(isinstance(v, float) and v != v for v in result.values)  # None, never NaN


STANDARDIZERS = {
    "clean_text": clean_text,
    "clean_text_keep_standins": lambda s: clean_text(s, null_standins=False),
    "parse_flag": parse_flag,
    "parse_date": parse_date,
    "standardize_uscc": standardize_uscc,
    "standardize_resident_id": standardize_resident_id,
    "standardize_division": standardize_division,
    "standardize_phone": standardize_phone,
    "parse_count": parse_count,
    "parse_decimal": parse_decimal,
    "parse_decimal_negative": lambda s: parse_decimal(s, allow_negative=True),
    "standardize_cas": standardize_cas,
    "map_codes": lambda s: map_codes(s, STATUS),
}


def _property(name):
    standardize = STANDARDIZERS[name]

    @SETTINGS
    @given(s=st.one_of(columns(), text_columns()))
    def test(s):
        first = standardize(s)
        check_shape(first, s)
        again = standardize(reinput(first.values))
        assert again.values.tolist() == first.values.tolist()

    test.__name__ = f"test_{name}_never_raises_keeps_index_and_is_idempotent"
    return test


for _name in STANDARDIZERS:
    globals()[f"test_{_name}_never_raises_keeps_index_and_is_idempotent"] = _property(_name)


@SETTINGS
@given(s=columns(), address=columns())
def test_division_with_addresses(s, address):
    first = standardize_division(s, address=address)
    check_shape(first, s)
    assert standardize_division(first.values, address=address).values.tolist() == first.values.tolist()


@SETTINGS
@given(s=columns())
def test_parse_chemical_list_never_raises(s):
    result = parse_chemical_list(s)
    check_shape(result, s)
    assert all(v is None or (isinstance(v, list) and v) for v in result.values)


@SETTINGS
@given(lon=columns(), lat=columns())
def test_coordinates(lon, lat):
    x, y = standardize_coordinates(lon, lat)
    check_shape(x, lon)
    if len(lat) == len(lon):
        check_shape(y, lat)
    x2, y2 = standardize_coordinates(x.values, y.values)
    assert x2.values.tolist() == x.values.tolist() and y2.values.tolist() == y.values.tolist()
    for value in x.values.dropna():
        assert 119.1 <= value <= 120.2
    for value in y.values.dropna():
        assert 31.1 <= value <= 32.1


@SETTINGS
@given(status=columns(st.one_of(SCALARS, st.sampled_from(["01", "02", "04", "05", "07"]))), data=st.data())
def test_derive_certificate_status(status, data):
    valid_to = data.draw(st.lists(st.one_of(SCALARS, st.dates()), min_size=len(status), max_size=len(status)))
    valid_to = pd.Series(valid_to, dtype=object)
    as_of = datetime.date(2026, 11, 29)
    first = derive_certificate_status(status, valid_to, as_of, STATUSES)
    check_shape(first, status)
    assert (
        derive_certificate_status(first.values, valid_to, as_of, STATUSES).values.tolist()
        == first.values.tolist()
    )


@SETTINGS
@given(codes=columns(), keys=columns(st.one_of(SCALARS, st.sampled_from(["华达", "永安"]))))
def test_resolve_enterprise_codes_never_raises(codes, keys):
    standardized = standardize_uscc(codes)
    result = resolve_enterprise_codes(standardized, keys)
    check_shape(result, codes)
    # Resolving only ever clears issues, and only of old-style codes.
    changed = result.issues.to_numpy(dtype=object) != standardized.issues.to_numpy(dtype=object)
    assert all(result.issues[changed].isna())


@SETTINGS
@given(s=columns(), value=SCALARS)
def test_masks_never_raise(s, value):
    for mask in (mask_resident_id, mask_phone, mask_name):
        masked = mask(s)
        assert masked.index.equals(s.index)
        assert mask(value) is None or isinstance(mask(value), str)


def test_decimal_and_numpy_scalars_are_read():
    s = pd.Series([Decimal("120"), np.int64(120), np.float32(120.0)], dtype=object)
    assert parse_count(s).values.tolist() == [120, 120, 120]
