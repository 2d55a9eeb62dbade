"""Standardizing extracted rows into records: record-level findings and the rules items of each kind follow."""

from __future__ import annotations

import datetime as dt
import json

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


def _case(**columns) -> dict:
    row = {
        "sq.SQID": "SQ1", "sq.SXBM": "0102", "sq.SQRQ": "2024-03-01", "sq.SLBH": "320412XK202400001",
        "sq.SLRQ": "2024-03-02", "sq.BLZT": "4", "sq.BJRQ": "2024-03-20", "sq.BJJG": "准予许可",
        "sq.SPJG": "武进区应急管理局", "qy.JYDZ": None, "qy.ZCDZ": None,
    }  # fmt: skip
    return {**ENTERPRISE, **row, **columns}


def test_case_item_code_and_name_come_from_the_permit_type_code_list():
    batch, verdict = _standardized("cases", "cases", [_case(), _case(**{"sq.SXBM": "0999"})])
    types = default_catalog().codelist("permit_types")
    assert batch.records.at[0, "item_code"] == types.entry("0102").attributes["item_code"]
    assert batch.records.at[0, "item_name"] == types.entry("0102").name
    # An unknown type has no item code: the record is refused for it, not given a made-up one.
    assert batch.records.at[1, "item_code"] is None
    assert {"item_code", "item_name"} <= set(verdict.findings.loc[verdict.findings["row"] == 1, "item"])


def test_an_application_not_yet_accepted_is_numbered_by_its_application_id():
    batch, _ = _standardized(
        "cases", "cases", [_case(), _case(**{"sq.SQID": "SQ2", "sq.SLBH": "无", "sq.BLZT": "0"})]
    )
    assert batch.records["case_no"].tolist() == ["320412XK202400001", "SQ2"]
    assert batch.records["status"].tolist() == ["05", "01"]


def test_a_returned_case_has_no_result_rather_than_an_unknown_one():
    batch, verdict = _standardized(
        "cases", "cases", [_case(**{"sq.BLZT": "5", "sq.BJJG": "退回"}), _case(**{"sq.BJJG": "不知道"})]
    )
    assert batch.records.at[0, "result"] is None and not verdict.records.at[0, "quarantined"]
    assert verdict.records.at[1, "quarantined"]


def _profile(**columns) -> dict:
    row = {
        "jg.JGID": "J1", "jg.HYLX": "SA", "jg.SAL": "1200kg", "jg.ZYRS": "30", "jg.ZJJCRQ": "2025-05-06",
        "qy.FDDBR": "李四", "qy.JYDZ": None, "qy.ZCDZ": "武进区湖塘镇1号", "qy.AQFZRDH": None,
        "qy.FDDBRDH": "13912345678/0519-88881234", "qy.JD": "119.95", "qy.WD": "31.70",
    }  # fmt: skip
    return {**ENTERPRISE, **row, **columns}


def test_industry_contact_is_the_first_phone_and_the_address_falls_back_to_the_registered_one():
    batch, verdict = _standardized(
        "industry_enterprises",
        "industry_enterprises",
        [_profile(), _profile(**{"qy.AQFZRDH": "(0519)86660000;13800001111", "qy.JYDZ": "新北区1号"})],
    )
    assert batch.records["lxdh"].tolist() == ["13912345678", "0519-86660000"]
    assert batch.records["jydz"].tolist() == ["武进区湖塘镇1号", "新北区1号"]
    assert not verdict.records["quarantined"].any(), verdict.findings


def test_boolean_items_are_stored_as_one_and_zero():
    batch, _ = _standardized(
        "industry_enterprises", "industry_enterprises",
        [_profile(**{"jg.HYLX": "YJ", "jg.MQSS": "是", "jg.SAL": None}), _profile(**{"jg.HYLX": "YJ", "jg.MQSS": "N"})],
    )  # fmt: skip
    assert batch.records["mqss"].tolist() == [1, 0]


def test_declared_chemicals_become_a_json_list_and_categories_a_code_list():
    row = {
        **ENTERPRISE, "sb.SBID": "S1", "sb.SBND": "2025", "sb.SBRQ": "2025-02-01", "sb.QYLB": "生产、经营",
        "sb.ZYWHP": "液氨(7664-41-7)；硫酸(7664-93-9);甲苯", "sb.CNR": "王五",
    }  # fmt: skip
    batch, verdict = _standardized("integrity_declarations", "integrity_declarations", [row])
    assert json.loads(batch.records.at[0, "zywhp"]) == [
        {"mc": "液氨", "cas": "7664-41-7"}, {"mc": "硫酸", "cas": "7664-93-9"}, {"mc": "甲苯", "cas": None},
    ]  # fmt: skip
    assert json.loads(batch.records.at[0, "qylb"]) == ["JY", "SC"]
    assert not verdict.records["quarantined"].any(), verdict.findings
