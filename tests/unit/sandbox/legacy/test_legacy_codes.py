"""National identifiers built by the generator, checked against the standards' test vectors."""

from __future__ import annotations

import datetime
import random

import pytest
from stdnum.cn import ric, uscc
from stdnum.iso7064 import mod_11_10

from sandbox.legacy import codes, distortions


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("D2143569-X", True),
        ("D21435691", False),
        ("MA1K3BTP2", True),
        ("600037341", True),
        ("60003734-2", False),
    ],
)
def test_organisation_code_check_follows_gb_11714(code: str, valid: bool) -> None:
    assert codes.is_valid_org_code(code) is valid


def test_id_check_and_first_generation_follow_gb_11643() -> None:
    assert codes.make_id("320402", datetime.date(1990, 1, 1), 1) == "320402199001010017"
    assert codes.make_id("320482", datetime.date(1980, 1, 1), 1) == "320482198001010014"
    assert codes.id_check("11010519491231002") == "X"
    assert codes.first_generation("320402199001010017") == "320402900101001"


def test_built_codes_are_valid_and_broken_ones_break_the_right_check() -> None:
    rng = random.Random(0)
    for _ in range(200):
        code = codes.make_uscc("320412", rng.choice((codes.old_org_code, codes.new_org_code))(rng))
        assert uscc.is_valid(code) and codes.is_valid_org_code(code[8:17])
        typo = codes.mistype_org_part(rng, code)
        assert not uscc.is_valid(typo) and not codes.is_valid_org_code(typo[8:17])
        pilot = codes.pilot_uscc(rng, "320404")
        assert not uscc.is_valid(pilot) and codes.is_valid_org_code(pilot[8:17]) and pilot[8:12] == "M000"
        assert mod_11_10.is_valid(codes.registration_number("320400", rng))
        person = codes.make_id("320411", datetime.date(1985, 6, 30), rng.randrange(1000))
        assert ric.is_valid(person) and not ric.is_valid(codes.wrong_id_check(person, rng))


def test_distortions_keep_fixable_values_recoverable() -> None:
    rng = random.Random(3)
    assert distortions.widen("人民路88号(东)") == "人民路８８号（东）"
    assert distortions.reshape_date("date.excel_serial", rng, datetime.date(2019, 3, 5)) == "43529"
    assert distortions.reshape_date("date.chinese", rng, datetime.date(2019, 3, 5)) == "2019年3月5日"
    assert distortions.impossible_date(rng, datetime.date(2019, 4, 5)) == "2019-04-31"
    assert distortions.parenthesize_area_code("0519-88881234") == "(0519)88881234"
    broken = distortions.break_line(rng, "常州市武进区湖塘镇人民路1088号")
    assert "1088" in broken.replace("\r", "").replace("\n", "") and ("\n" in broken)
    assert "".join(distortions.space_uscc(rng, "91320412MA1K3BTP2X").replace("-", " ").split()) == (
        "91320412MA1K3BTP2X"
    )
