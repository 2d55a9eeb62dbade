"""Enterprise codes: the GB 32100 / GB 11714 / GS 15 vectors and every TYSHXYDM quirk of the legacy README."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quality.standardize import (
    Standardized,
    is_valid_organisation_code,
    is_valid_registration_number,
    organisation_code_check_char,
    resolve_enterprise_codes,
    standardize_uscc,
)
from quality.standardize.enterprise_codes import enterprise_name_key


def one(value):
    result = standardize_uscc(pd.Series([value], dtype=object))
    return result.values.iloc[0], result.issues.iloc[0]


# standards/README.md: valid unified social credit codes.
@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # example in GB 32100
        "91110000600037341L",  # python-stdnum tests
        "91310115591693856A",  # hutool tests
        "91310110666007217T",
        "913205056082348768",  # python-stdnum tests
        "91320214745555318W",
        # contracts/README.md section 3: the issuing authorities
        "11320400014110243T",
        "11320402MB0000019U",
        "11320404MB0000027K",
        "11320411MB0000035J",
        "11320412MB0000043U",
        "11320413MB00000515",
        "11320481MB000006XC",
    ],
)
def test_valid_codes(code):
    assert one(code) == (code, None)


def test_valid_after_removing_spaces():
    assert one("91 110000 600037341L") == ("91110000600037341L", None)


@pytest.mark.parametrize(
    "raw",
    [
        "91110000600037341l",  # lower case
        " 91110000600037341L ",
        "91-110000-600037341L",  # hyphens
        "9111.0000.6000.37341L",
        "９１１１００００６０００３７３４１Ｌ",  # full-width
        "９１１１００００６０００３７３４１ｌ",
        "91110000\u3000600037341L",
        "91110000600037341L\u200b",
    ],
)
def test_spelling_quirks_of_a_valid_code(raw):
    assert one(raw) == ("91110000600037341L", None)


def test_bad_check_character():
    # python-stdnum tests: the correct check character is L; the inner code is fine, so this is a typo.
    assert one("91110000600037341N") == (None, "uscc.bad_check")


def test_bad_format_letters():
    assert one("9111000060003IOZSV") == (None, "uscc.invalid_format")


def test_spreadsheet_truncated():
    # python-stdnum issue #207
    assert one("916201055811843000") == (None, "uscc.truncated")


def test_pilot_code_is_kept_with_a_warning():
    # hutool tests: outer check fails, inner organisation code valid: a real early pilot code.
    assert one("91350211M00013FA1N") == ("91350211M00013FA1N", "uscc.pilot_check")


@pytest.mark.parametrize("code", ["91350100M0001TGQXM", "91350211M0000XUF46", "91350203M0001FUE2P"])
def test_other_published_pilot_codes(code):
    assert one(code) == (code, "uscc.pilot_check")


def test_both_checks_failing_is_bad_check():
    assert one("91320214745555319W") == (None, "uscc.bad_check")


@pytest.mark.parametrize("raw", ["N1110000600037341L", "A1320400014110243T"])
def test_authority_codes_stdnum_refuses(raw):
    # stdnum's cn.uscc wants the first eight characters to be digits; the receivers check with it.
    assert one(raw) == (None, "uscc.invalid_format")


def test_registration_number():
    assert one("110108000000016") == ("110108000000016", "uscc.registration_number")
    assert one(110108000000016) == ("110108000000016", "uscc.registration_number")
    assert one("110108000000017") == (None, "uscc.invalid_format")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("D2143569-X", "D2143569X"),  # GB 11714 example, printed with its hyphen
        ("D2143569X", "D2143569X"),
        ("d2143569-x", "D2143569X"),
        ("Ｄ２１４３５６９－Ｘ", "D2143569X"),
        ("MA1K3BTP2", "MA1K3BTP2"),
    ],
)
def test_organisation_code(raw, expected):
    assert one(raw) == (expected, "uscc.organisation_code")


def test_bad_organisation_code():
    assert one("D21435691") == (None, "uscc.invalid_format")


@pytest.mark.parametrize("raw", [None, np.nan, "", " ", "无", "/", "-", "--", "暂无", "NULL", "null", "0"])
def test_missing(raw):
    assert one(raw) == (None, "uscc.missing")


@pytest.mark.parametrize(
    "raw", ["abc", "12345", "9111000060003734", "91110000600037341LL", "统一社会信用代码", 3.5]
)
def test_invalid_format(raw):
    assert one(raw) == (None, "uscc.invalid_format")


def test_organisation_code_check_char():
    assert organisation_code_check_char("D2143569") == "X"  # GB 11714 example
    # Letters count A=10 … Z=35; the USCC's 31-character mapping would give 9 here.
    assert organisation_code_check_char("MA1K3BTP") == "2"
    with pytest.raises(ValueError, match="8 characters"):
        organisation_code_check_char("D214356")


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("D2143569-X", True),
        ("D2143569X", True),
        ("D21435691", False),
        ("MA1K3BTP2", True),
        ("", False),
        (None, False),
    ],
)
def test_is_valid_organisation_code(code, valid):
    assert is_valid_organisation_code(code) is valid


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("110108000000016", True),
        ("110108000000017", False),
        ("11010800000001", False),
        ("abc", False),
        (None, False),
    ],
)
def test_is_valid_registration_number(code, valid):
    assert is_valid_registration_number(code) is valid


def test_index_preserved():
    s = pd.Series(["91110000600037341L", None], index=["q1", "q1"])
    result = standardize_uscc(s)
    assert result.values.index.equals(s.index) and result.issues.index.equals(s.index)


def resolve(codes, keys, index=None):
    standardized = standardize_uscc(pd.Series(codes, index=index, dtype=object))
    return resolve_enterprise_codes(standardized, pd.Series(keys, dtype=object))


def test_organisation_code_takes_the_group_uscc_with_the_same_inner_code():
    result = resolve(["745555318", "91320214745555318W", "91110000600037341L"], ["华达", "华达", "华达"])
    assert result.values.tolist()[0] == "91320214745555318W"
    assert result.issues.tolist() == [None, None, None]


def test_organisation_code_without_a_matching_uscc_stays():
    result = resolve(["D2143569X", "91320214745555318W"], ["华达", "华达"])
    assert result.values.tolist() == ["D2143569X", "91320214745555318W"]
    assert result.issues.tolist() == ["uscc.organisation_code", None]


def test_registration_number_takes_the_groups_only_uscc():
    result = resolve(["110108000000016", "91320214745555318W", "91320214745555318W"], ["华达"] * 3)
    assert result.values.tolist() == ["91320214745555318W"] * 3
    assert result.issues.tolist() == [None] * 3


def test_registration_number_with_two_uscc_in_the_group_stays():
    result = resolve(["110108000000016", "91320214745555318W", "91110000600037341L"], ["华达"] * 3)
    assert result.values.tolist()[0] == "110108000000016"
    assert result.issues.tolist()[0] == "uscc.registration_number"


def test_groups_do_not_mix_and_missing_keys_never_group():
    result = resolve(
        ["110108000000016", "91320214745555318W", "110108000000016", "110108000000016"],
        ["华达", "永安", None, "永安"],
    )
    assert result.values.tolist() == [
        "110108000000016",
        "91320214745555318W",
        "110108000000016",
        "91320214745555318W",
    ]
    assert result.issues.tolist() == ["uscc.registration_number", None, "uscc.registration_number", None]


def test_pilot_and_invalid_codes_are_not_used_to_resolve():
    result = resolve(["110108000000016", "91350211M00013FA1N", "91110000600037341N"], ["华达"] * 3)
    assert result.issues.tolist() == ["uscc.registration_number", "uscc.pilot_check", "uscc.bad_check"]


def test_resolve_keeps_the_index():
    result = resolve(["110108000000016", "91320214745555318W"], ["华达", "华达"], index=[7, 3])
    assert result.values.index.tolist() == [7, 3]
    assert result.values.tolist() == ["91320214745555318W", "91320214745555318W"]


def test_resolve_with_nothing_to_resolve_returns_the_input():
    codes = Standardized(pd.Series([], dtype=object), pd.Series([], dtype=object))
    result = resolve_enterprise_codes(codes, pd.Series([], dtype=object))
    assert result.values.empty and result.issues.empty


@pytest.mark.parametrize(
    "name",
    [
        "常州市华达化工有限公司",
        "华达化工有限公司",
        "华达化工有限公司 ",
        "江苏省常州市华达化工有限公司",
        "常州市武进区华达化工有限公司",
        "武进华达化工有限公司",
        "华达化工有限公司\u3000",
    ],
)
def test_twin_name_variants_share_one_key(name):
    assert enterprise_name_key(name) == "华达化工有限公司"


def test_names_of_different_enterprises_keep_different_keys():
    assert enterprise_name_key("华达化工有限公司") != enterprise_name_key("华达化工科技有限公司")
    assert enterprise_name_key("常州市") == "常州市"  # a name that is only a prefix keeps it
    assert enterprise_name_key("无") is None and enterprise_name_key(None) is None
