"""Resident ID numbers (GB 11643) and the masks for logs and reports."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
from stdnum.cn import ric

from quality.standardize import mask_name, mask_phone, mask_resident_id, standardize_resident_id
from quality.standardize.person_ids import address_code_ever_existed


def one(value):
    result = standardize_resident_id(pd.Series([value], dtype=object))
    return result.values.iloc[0], result.issues.iloc[0]


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",  # example in GB 11643
        "360426199101010071",  # python-stdnum tests
        "320402199001010017",  # 天宁区
        "320482198001010014",  # 金坛市 code, retired 2015, held by a 1980-born person
        "320403198501010015",  # 广化区 code (1983–1986), born while it existed
    ],
)
def test_valid_numbers(number):
    assert one(number) == (number, None)


def test_lower_case_x():
    assert one("44011320141005001x") == ("44011320141005001X", None)


def test_retired_address_code_is_not_refused():
    # python-stdnum alone refuses this real person: 320482 did not exist in 1980, the birth year.
    assert not ric.is_valid("320482198001010014")
    assert one("320482198001010014") == ("320482198001010014", None)


def test_first_generation_number_converts():
    assert one("320402900101001") == ("320402199001010017", None)


@pytest.mark.parametrize(
    "raw",
    [
        " 320402199001010017 ",
        "3204 0219 9001 0100 17",
        "３２０４０２１９９００１０１００１７",
        320402199001010017,
    ],
)
def test_spelling_quirks(raw):
    assert one(raw) == ("320402199001010017", None)


def test_bad_check_digit():
    assert one("36042619910102009X") == (None, "id.bad_check")  # python-stdnum tests
    assert one("320402199001010018") == (None, "id.bad_check")


@pytest.mark.parametrize(
    "number",
    [
        "320402199002300016",  # 1990-02-30, correct check digit
        "320402209901010019",  # born 2099: in the future
        "320402180001010017",  # born 1800
        "320402910230001",  # first generation, 1991-02-30
    ],
)
def test_bad_birth_date(number):
    assert one(number) == (None, "id.bad_birth_date")


def test_unknown_address_code():
    assert one("999999199001010016") == (None, "id.unknown_address")


def test_address_codes_ever_existed():
    assert address_code_ever_existed("320482")  # 金坛市 1993–2015
    assert address_code_ever_existed("320405")  # 戚墅堰区 1983–2015
    assert address_code_ever_existed("320413")
    assert not address_code_ever_existed("999999")


@pytest.mark.parametrize(
    "raw", ["12345", "32040219900101001", "3204021990010100171", "32040219900101001Y", "ABCDEFGHIJKLMNOPQR"]
)
def test_invalid_format(raw):
    assert one(raw) == (None, "id.invalid_format")


@pytest.mark.parametrize("raw", [None, np.nan, "", "无", "/", "0", "NULL"])
def test_empty(raw):
    assert one(raw) == (None, None)


def test_mask_resident_id():
    assert mask_resident_id("320402199001010017") == "320*************17"
    assert mask_resident_id("320402900101001") == "320**********01"
    assert mask_resident_id("12345") == "*****"
    assert mask_resident_id(None) is None
    masked = mask_resident_id(pd.Series(["320402199001010017", None], index=[4, 9]))
    assert masked.tolist() == ["320*************17", None]
    assert masked.index.tolist() == [4, 9]


def test_mask_phone():
    assert mask_phone("13912345678") == "139******78"
    assert mask_phone("0519-88881234") == "051*-******34"
    assert mask_phone("13912345678;0519-88881234") == "139******78;051*-******34"
    assert mask_phone("12345") == "*****"
    assert mask_phone(np.nan) is None
    assert mask_phone(pd.Series(["13912345678"])).tolist() == ["139******78"]


def test_mask_name():
    assert mask_name("张三丰") == "张**"
    assert mask_name("张三") == "张*"
    assert mask_name("张") == "*"
    assert mask_name(" 欧阳娜娜 ") == "欧***"
    assert mask_name(None) is None
    assert mask_name(pd.Series(["李四", None])).tolist() == ["李*", None]


@pytest.mark.parametrize("mask", [mask_resident_id, mask_phone, mask_name])
@pytest.mark.parametrize(
    "value", [None, np.nan, pd.NA, "", 3.5, datetime.date(2019, 1, 1), [1, 2], {"a": 1}, object()]
)
def test_masks_never_raise(mask, value):
    mask(value)
    mask(pd.Series([value], dtype=object))
