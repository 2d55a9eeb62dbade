"""Standardizing extracted rows into records: record-level findings and the rules items of each kind follow."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from catalog import default_catalog
from quality.records import UNUSABLE_MATCH, standardize_records
from quality.validation import judge
from schemas.manifest import manifests

AS_OF = dt.date(2026, 11, 29)
ENTERPRISE = {
    "qy.QYID": "Q1",
    "qy.QYMC": "常州市华达化工有限公司",
    "qy.TYSHXYDM": "91320411777611855C",
    "qy.XZQH": "320412",
}


def _standardized(resource: str, source: str, rows: list[dict]):
    catalog = default_catalog()
    batch = standardize_records(catalog.resource(resource), manifests()[source], pd.DataFrame(rows), catalog)
    return batch, judge(catalog.resource(resource), batch, catalog, AS_OF)


def _competence(**columns) -> dict:
    row = {
        "khhg.ZMID": "Z1", "khhg.XM": "张三", "khhg.SFZH": "320402199001010017", "khhg.XB": "1",
        "khhg.RYLX": "主要负责人", "khhg.QYMC": "华达化工有限公司", "khhg.ZMBH": "2024320412000001",
        "khhg.KHRQ": "2024-03-05", "khhg.YXQZ": "2027-03-04", "khhg.QYID": None,
    }  # fmt: skip
    return row | columns


def test_a_certificate_without_enterprise_reference_expects_no_enterprise():
    batch, verdict = _standardized("certificate_0701", "competence_certificates", [_competence()])
    assert "enterprise.missing" not in set(batch.findings["issue"])
    assert not verdict.records["quarantined"].any()


def test_a_reference_that_finds_no_enterprise_is_missing():
    batch, verdict = _standardized(
        "certificate_0701", "competence_certificates", [_competence(**{"khhg.QYID": "Q9"})]
    )
    assert list(batch.findings["issue"]) == ["enterprise.missing"]
    assert verdict.records["quarantined"].all()


def test_an_optional_code_left_empty_is_no_finding_a_required_one_is():
    _, verdict = _standardized(
        "certificate_0701", "competence_certificates", [_competence(**{"qy.TYSHXYDM": "无"})]
    )
    assert not verdict.records["quarantined"].any()
    plan = {"ya.BAID": "B1", "ya.BABH": "320412-2024-00001", "ya.YAMC": "应急预案", "ya.BARQ": "2024-03-05"}
    batch, _ = _standardized("filing_0601", "emergency_plans", [plan | ENTERPRISE | {"qy.TYSHXYDM": None}])
    assert "uscc.missing" in set(batch.findings["issue"])


def test_plan_types_are_stored_as_a_json_list_of_codes():
    plan = {"ya.BAID": "B1", "ya.YALX": "现场处置、综合"}
    batch, _ = _standardized("filing_0601", "emergency_plans", [plan | ENTERPRISE])
    assert batch.records.at[0, "yalx"] == '["1","3"]'


def test_an_unusable_value_found_by_name_is_emptied_with_a_warning():
    operator = {
        "czz.CZZID": "C1", "czz.ZH": "T320402199001010017", "czz.XM": "李四", "czz.SFZH": "320402199001010017",
        "czz.ZYLB": "电工作业", "czz.YXQQ": "2024-03-05", "czz.YXQZ": "2030-03-04",
        "czz.QYMC": "常州市华达化工有限公司", "qy.TYSHXYDM": "320400000012345", "qy.XZQH": "320412",
    }  # fmt: skip
    batch, verdict = _standardized("certificate_0702", "special_operation_certificates", [operator])
    assert batch.records.at[0, "tyshxydm"] is None and batch.records.at[0, "xzqhdm"] == "320412"
    assert list(batch.findings["issue"]) == [UNUSABLE_MATCH]
    assert not verdict.records["quarantined"].any()


def test_swapped_coordinates_of_a_hazard_are_put_back_with_a_warning():
    hazard = {
        "wxy.WXYID": "W1", "wxy.BABH": "BA3204122015001", "wxy.WXYMC": "液氨储罐区", "wxy.WXYDJ": "三级",
        "wxy.BARQ": "2015-06-01", "wxy.JD": "31.72", "wxy.WD": "119.95",
    }  # fmt: skip
    batch, verdict = _standardized("filing_0602", "major_hazards", [hazard | ENTERPRISE])
    assert (batch.records.at[0, "jd"], batch.records.at[0, "wd"]) == (119.95, 31.72)
    assert set(batch.findings["issue"]) == {"coord.swapped"}
    assert not verdict.records["quarantined"].any()
