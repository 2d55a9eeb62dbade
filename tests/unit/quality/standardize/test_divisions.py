"""Divisions: current and retired codes, splits decided by address, names, old names, zones."""

from __future__ import annotations

import csv
import io
from importlib import resources

import numpy as np
import pandas as pd
import pytest
import yaml

from quality.standardize import DivisionTable, division_name, standardize_division

CURRENT = {"320400", "320402", "320404", "320411", "320412", "320413", "320481"}


def one(value, address=None):
    result = standardize_division(
        pd.Series([value], dtype=object), address=pd.Series([address], dtype=object)
    )
    return result.values.iloc[0], result.issues.iloc[0]


@pytest.mark.parametrize("code", sorted(CURRENT))
def test_current_codes_stay(code):
    assert one(code) == (code, None)


@pytest.mark.parametrize(
    ("code", "successor"),
    [
        ("320405", "320412"),  # 戚墅堰区 → 武进区, 2015
        ("320482", "320413"),  # 金坛市 → 金坛区, 2015
        ("320422", "320413"),  # 金坛县 → 金坛市 → 金坛区
        ("320423", "320481"),  # 溧阳县 → 溧阳市
    ],
)
def test_retired_codes_with_one_successor(code, successor):
    assert one(code) == (successor, None)


@pytest.mark.parametrize(
    ("code", "address", "expected"),
    [
        ("320483", "常州市新北区罗溪镇某村", "320411"),
        ("320483", "罗溪镇", "320411"),
        ("320483", "春江镇", "320411"),
        ("320483", "孟河镇", "320411"),
        ("320483", "薛家镇", "320411"),
        ("320483", "三井街道", "320411"),
        ("320483", "河海街道", "320411"),
        ("320483", "龙虎塘街道", "320411"),
        ("320483", "新桥镇", "320411"),
        ("320483", "西夏墅镇", "320411"),
        ("320483", "常州高新区", "320411"),
        ("320483", "武进区湖塘镇人民路1号", "320412"),
        ("320483", "湖塘镇", "320412"),
        ("320483", "牛塘镇", "320412"),
        ("320483", "南夏墅街道", "320412"),
        ("320483", "西湖街道", "320412"),
        ("320483", "雪堰镇", "320412"),
        ("320483", "前黄镇", "320412"),
        ("320483", "礼嘉镇", "320412"),
        ("320483", "洛阳镇", "320412"),
        ("320483", "遥观镇", "320412"),
        ("320483", "横林镇", "320412"),
        ("320483", "横山桥镇", "320412"),
        ("320483", "嘉泽镇", "320412"),
        ("320483", "湟里镇", "320412"),
        ("320483", "戚墅堰街道", "320412"),
        ("320483", "丁堰街道", "320412"),
        ("320483", "潞城街道", "320412"),
        ("320483", "武进高新区", "320412"),
        ("320403", "天宁区红梅街道", "320402"),
        ("320403", "钟楼区南大街街道", "320404"),
        ("320403", "邹区镇", "320404"),
        ("320421", "新北区薛家镇", "320411"),  # 武进县 → 武进市, split: decided by the address too
        ("320421", "武进区湖塘镇", "320412"),
        ("320483", "常州市河海街道河海路1号", "320411"),
        ("320403", "南大街街道延陵西路", "320404"),
    ],
)
def test_split_codes_decided_by_address(code, address, expected):
    assert one(code, address) == (expected, None)


@pytest.mark.parametrize(
    ("code", "address"),
    [
        ("320483", None),
        ("320483", ""),
        ("320483", "人民路1号"),
        ("320483", "新北区罗溪镇与武进区湖塘镇交界"),  # names both successors
        ("320483", "溧阳市"),  # names neither successor
        ("320403", None),
        ("320403", "延陵西路"),
        ("320421", None),  # 武进县 → 武进市, which split: no guess without an address
        ("320483", "常州市河海路126号"),  # a road named after a town (河海街道) names no district
        ("320403", "常州市兰陵路8号"),
    ],
)
def test_split_codes_without_deciding_address_are_ambiguous(code, address):
    assert one(code, address) == (None, "division.ambiguous")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("武进", "320412"),
        ("武进区", "320412"),
        ("常州市武进区", "320412"),
        ("江苏省常州市武进区", "320412"),
        ("常州武进", "320412"),
        ("天宁", "320402"),
        ("天宁区", "320402"),
        ("常州市天宁区", "320402"),
        ("钟楼", "320404"),
        ("钟楼区", "320404"),
        ("新北", "320411"),
        ("新北区", "320411"),
        ("金坛", "320413"),
        ("金坛区", "320413"),
        ("溧阳", "320481"),
        ("溧阳市", "320481"),
        ("江苏省常州市溧阳市", "320481"),
        ("常州市", "320400"),
        ("常州", "320400"),
        ("江苏省常州市", "320400"),
        (" 武进区 ", "320412"),
        ("武进\u3000区", "320412"),
        ("常州市 武进区", "320412"),
        # old names
        ("戚墅堰区", "320412"),
        ("常州市戚墅堰区", "320412"),
        ("金坛市", "320413"),
        ("金坛县", "320413"),
        ("溧阳县", "320481"),
        ("郊区", "320411"),
        ("常州市郊区", "320411"),
        # zones that are not divisions
        ("经开区", "320412"),
        ("常州经开区", "320412"),
        ("常州经济开发区", "320412"),
        ("高新区", "320411"),
        ("常州高新区", "320411"),
        ("国家高新区", "320411"),
        ("JKQ", "320412"),
        ("jkq", "320412"),
    ],
)
def test_names_and_aliases(name, code):
    assert one(name) == (code, None)


@pytest.mark.parametrize(
    ("name", "address", "expected"),
    [("广化区", "红梅街道", "320402"), ("武进市", "湖塘镇", "320412"), ("武进县", "湖塘镇", "320412")],
)
def test_old_names_of_split_divisions_use_the_address(name, address, expected):
    assert one(name, address) == (expected, None)
    assert one(name) == (None, "division.ambiguous")


@pytest.mark.parametrize(
    ("raw", "code"),
    [(320412, "320412"), (320412.0, "320412"), ("320412000000", "320412"), ("３２０４１２", "320412")],
)
def test_code_spellings(raw, code):
    assert one(raw) == (code, None)


@pytest.mark.parametrize(
    "raw", ["320102", "110105", "南京市", "abc", "3204", "32041", "999999", "常州市某区"]
)
def test_unknown(raw):
    assert one(raw) == (None, "division.unknown")


@pytest.mark.parametrize("raw", [None, np.nan, "", "无", "/", "0", "NULL"])
def test_empty(raw):
    assert one(raw) == (None, None)


def test_address_pairs_by_position_and_index_is_kept():
    s = pd.Series(["320483", "320483", "320405"], index=["a", "b", "c"])
    address = pd.Series(["罗溪镇", "湖塘镇", None])
    result = standardize_division(s, address=address)
    assert result.values.index.equals(s.index)
    assert result.values.tolist() == ["320411", "320412", "320412"]
    assert result.issues.tolist() == [None, None, None]


def test_without_address_argument():
    result = standardize_division(pd.Series(["320483", "320402"]))
    assert result.values.tolist() == [None, "320402"]
    assert result.issues.tolist() == ["division.ambiguous", None]


def test_division_name():
    assert division_name("320412") == "武进区"
    assert division_name(320483) == "武进市"
    assert division_name("320403") == "广化区"
    assert division_name("999999") is None
    assert division_name(None) is None


def test_table_is_built_once():
    assert DivisionTable.load() is DivisionTable.load()


def test_shipped_history_table_is_consistent():
    text = (resources.files("catalog") / "codelists" / "divisions_3204.csv").read_text(encoding="utf-8")
    rows = {row["code"]: row for row in csv.DictReader(io.StringIO(text))}
    assert {code for code, row in rows.items() if not row["valid_to"]} == CURRENT
    for row in rows.values():
        assert all(s in rows for s in filter(None, row["successors"].split(";")))
        assert bool(row["valid_to"]) == bool(row["successors"])


def test_every_code_leads_to_current_codes():
    table = DivisionTable.load()
    for code, resolution in table.resolutions.items():
        assert resolution.candidates and resolution.candidates <= CURRENT, code
        assert resolution.fallback is None or resolution.fallback in resolution.candidates


def test_every_alias_points_at_a_code_of_the_table():
    raw = yaml.safe_load(
        (resources.files("catalog") / "codelists" / "division_aliases.yaml").read_text(encoding="utf-8")
    )
    assert "entries" not in raw  # the catalogue loader would take it for a code list
    table = DivisionTable.load()
    for code in list(raw["aliases"]) + list(raw["towns"]):
        assert str(code) in table.divisions
