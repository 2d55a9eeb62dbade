"""The computed fields of derived resources, and how the shipped licence mapping fills each item."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from catalog import default_catalog
from exchange.derived_fields import (
    BUILDERS,
    BuildInputs,
    associated_licence_id,
    count_rows,
    enterprise_categories,
    hazchem_enterprise,
    licence_serial,
    operate_type,
    status_from_dates,
)
from exchange.steps.derive import build_values
from quality.standardize.identifiers import is_valid_licence_id
from schemas.derived import derivations

CATALOG = default_catalog()
AS_OF = dt.date(2026, 11, 29)
CITY = CATALOG.settings["provider"]


def _inputs(values=None, previous=None, rows=None) -> BuildInputs:
    return BuildInputs(rows=rows or {}, catalog=CATALOG, as_of=AS_OF, values=values or {}, previous=previous)


def _permit_row(**changes):
    row = {
        "record_id": "XKZ-9F3A", "sdx_source_key": "9f3a-00b1", "sdx_seq": 2, "sdx_deleted": False,
        "zsbh": "苏(常)危化经字(武进)00123", "sxbm": "0101", "qymc": "常州市测试化工有限公司",
        "tyshxydm": "91320214745555318W", "xzqhdm": "320412", "jydz": "武进区测试路1号", "fddbr": "王某",
        "fzrq": dt.date(2024, 3, 1), "yxqq": dt.date(2024, 3, 1), "yxqz": dt.date(2027, 2, 28),
        "fzjg": "常州市应急管理局", "fzjgdm": "11320400014110243T", "xkfw": "经营：甲醇（储存）",
        "jyfs": "批发", "zszt": "01", "slbh": "SL2024001", "zyfzr": "李某", "ccnl": "500吨", "ccpz": "甲醇",
        "aqglry": "张某", "jycsdz": "武进区测试路1号", "lxdh": "13812345678", "ccdz": "武进区测试路2号",
    }  # fmt: skip
    return row | changes


def _licence(input_name: str, row: dict, previous=None) -> dict:
    inputs = BuildInputs(
        rows={input_name: [row]}, catalog=CATALOG, as_of=AS_OF, previous=previous,
        input_resource=CATALOG.resource(input_name),
    )  # fmt: skip
    return build_values(inputs, derivations()["licences"].inputs[input_name], per_key=False)


def test_every_builder_a_derived_source_names_exists():
    named = [
        spec.argument
        for d in derivations().values()
        for specs in [*d.inputs.values(), d.items, {"include": d.include} if d.include else {}]
        for spec in specs.values()
        if spec.kind == "builder"
    ]
    assert named and set(named) <= set(BUILDERS)


def test_serial_keeps_the_legacy_key_in_the_identifier_alphabet():
    assert licence_serial("9f3a-00b1") == "9F3A00B1"
    assert licence_serial("0123456789ABCDEF0123456789ABCDEF") == "0123456789ABCDEF0123456789ABCDEF"


@pytest.mark.parametrize(
    ("valid_to", "status"),
    [(dt.date(2026, 11, 28), "05"), (AS_OF, "01"), (dt.date(2029, 1, 1), "01"), (None, "01")],
)
def test_status_of_a_type_without_one_follows_its_dates(valid_to, status):
    params = derivations()["licences"].inputs["filing_0601"]["status"].params
    assert status_from_dates(_inputs({"valid_to": valid_to}), params) == status


def test_operate_type_says_what_happened_to_the_licence():
    params = derivations()["licences"].inputs["permit_0101"]["operate_type"].params
    new = {"licence_id": "B", "status": "01", "valid_to": dt.date(2029, 1, 1)}
    before = {"licence_id": "A", "operate_type": "01", "valid_to": dt.date(2026, 1, 1), "sdx_deleted": False}
    assert operate_type(_inputs(new), params) == "01"
    assert operate_type(_inputs(new, before), params) == "02"  # validity reaches further: 延续
    assert operate_type(_inputs(new | {"valid_to": dt.date(2026, 1, 1)}, before), params) == "09"
    assert operate_type(_inputs(new | {"status": "04"}, before), params) == "05"
    assert operate_type(_inputs(new | {"status": "05"}, before), params) == "04"
    assert operate_type(_inputs(new, before | {"sdx_deleted": True}), params) == "01"
    # Rebuilt without a new version (a re-read): what was built before stays.
    assert operate_type(_inputs(new | {"licence_id": "A"}, before | {"operate_type": "09"}), params) == "09"


def test_operate_type_codes_are_the_catalogues_for_every_input():
    statuses, operations = (set(CATALOG.codelist(n).codes()) for n in ("certificate_status", "operate_types"))
    for specs in derivations()["licences"].inputs.values():
        params = specs["operate_type"].params
        assert set(params["by_status"]) <= statuses
        assert {
            *params["by_status"].values(),
            params["new"],
            params["renewed"],
            params["changed"],
        } <= operations


def test_associated_licence_is_the_same_holders_previous_version_of_the_same_number():
    new = {"licence_id": "B", "holder_id": "X", "cert_no": "N1"}
    before = {"licence_id": "A", "holder_id": "X", "cert_no": "N1", "associated_licence_id": None}
    assert associated_licence_id(_inputs(new, before), {}) == "A"
    assert associated_licence_id(_inputs(new | {"cert_no": "N2"}, before), {}) is None
    assert associated_licence_id(_inputs(new | {"holder_id": "Y"}, before), {}) is None
    assert associated_licence_id(_inputs(new), {}) is None
    assert (
        associated_licence_id(_inputs(new | {"licence_id": "A"}, before | {"associated_licence_id": "Z"}), {})
        == "Z"
    )


def test_a_0101_certificate_maps_onto_a_licence():
    row = _permit_row()
    licence = _licence("permit_0101", row)
    entry = CATALOG.codelist("permit_types").entry("0101")
    assert licence["licence_type_code"] == entry.attributes["licence_type_code"]
    assert licence["licence_name"] == entry.name
    assert (licence["cert_no"], licence["holder_name"], licence["holder_id"]) == (
        row["zsbh"], row["qymc"], row["tyshxydm"])  # fmt: skip
    assert licence["holder_id_type"] == "01"
    assert (licence["issuer_code"], licence["status"], licence["operate_type"]) == (row["fzjgdm"], "01", "01")
    assert licence["licence_id"].split(".")[5:9] == [
        entry.attributes["licence_type_code"], row["fzjgdm"], "9F3A00B1", "002"]  # fmt: skip
    assert is_valid_licence_id(licence["licence_id"])
    surface = licence["surface"]
    assert surface["储存设施地址"] == row["ccdz"] and surface["主要负责人"] == row["zyfzr"]
    # Not printed: contact phones, items mapped onto the licence's own fields, items left out.
    assert row["lxdh"] not in surface.values()
    assert not {"证书编号", "统一社会信用代码", "发证日期", "受理编号", "行政区划代码"} & set(surface)
    assert set(licence) == set(CATALOG.resource("licences").item_names)


def test_a_changed_certificate_is_the_next_version_of_its_licence():
    first = _licence("permit_0101", _permit_row(sdx_seq=1))
    second = _licence("permit_0101", _permit_row(sdx_seq=2, yxqz=dt.date(2029, 2, 28)), previous=first)
    assert first["licence_id"].split(".")[8] == "001" and second["licence_id"].split(".")[8] == "002"
    assert second["associated_licence_id"] == first["licence_id"]
    assert second["operate_type"] == "02"


def test_a_filing_without_its_department_is_the_city_bureaus():
    row = {
        "record_id": "YABA-1", "sdx_source_key": "1", "sdx_seq": 1, "babh": "320412-2025-001",
        "yamc": "综合应急预案", "yalx": '["1", "3"]', "qymc": "常州市测试化工有限公司",
        "tyshxydm": "91320214745555318W", "xzqhdm": "320412", "psrq": dt.date(2025, 1, 2),
        "barq": dt.date(2025, 1, 9), "slbm": None, "slbmdm": None, "hzwj": "a.pdf",
    }  # fmt: skip
    licence = _licence("filing_0601", row)
    assert (licence["issuer_name"], licence["issuer_code"]) == (CITY["name"], CITY["code"])
    assert licence["sxbm"] == "0601" and licence["valid_to"] is None and licence["status"] == "01"
    assert is_valid_licence_id(licence["licence_id"])
    # Codes are printed by their names.
    assert licence["surface"]["预案类型"] == "综合应急预案、现场处置方案"


def test_a_person_holds_a_special_operation_certificate_by_resident_id():
    row = {
        "record_id": "CZZ-7", "sdx_source_key": "7", "sdx_seq": 1, "zh": "T320402199001010017",
        "xm": "赵某", "sfzh": "320402199001010017", "xb": "1", "zylb": "电工作业", "czxm": "低压电工作业",
        "clrq": dt.date(2015, 5, 1), "yxqq": dt.date(2021, 5, 1), "yxqz": dt.date(2027, 4, 30),
        "fsrq": None, "qymc": "常州市测试化工有限公司", "tyshxydm": None, "xzqhdm": None,
    }  # fmt: skip
    licence = _licence("certificate_0702", row)
    assert (licence["holder_id_type"], licence["holder_id"], licence["cert_no"]) == (
        "02",
        row["sfzh"],
        row["zh"],
    )
    assert licence["issuer_code"] == CITY["code"]
    surface = licence["surface"]
    assert surface["作业类别"] == "电工作业" and surface["初领日期"] == "2015-05-01"
    # The person's name, ID number and gender are no printed extra of the licence.
    assert not {row["xm"], row["sfzh"], row["zh"]} & set(surface.values()) and "性别" not in surface


def test_hazchem_enterprises_are_flagged_or_hold_a_valid_01xx_permit():
    params = derivations()["hazchem_enterprises"].include.params
    flagged = {"enterprises": [{"sfwhqy": 1}]}
    holding = {"enterprises": [{"sfwhqy": 0}], "permit_0103": [{"zszt": "01"}]}
    lapsed = {"enterprises": [{"sfwhqy": 0}], "permit_0103": [{"zszt": "05"}]}
    assert hazchem_enterprise(_inputs(rows=flagged), params)
    assert hazchem_enterprise(_inputs(rows=holding), params)
    assert not hazchem_enterprise(_inputs(rows=lapsed), params)
    assert not hazchem_enterprise(_inputs(rows={"filing_0602": [{}]}), params)


def test_enterprise_categories_join_permits_held_and_the_latest_declaration():
    params = derivations()["hazchem_enterprises"].items["qylb"].params
    rows = {
        "permit_0101": [{"zszt": "01"}], "permit_0104": [{"zszt": "04"}],
        "integrity_declarations": [
            {"sbnd": 2024, "sbrq": dt.date(2024, 3, 1), "qylb": json.dumps(["SC", "SY"])},
            {"sbnd": 2025, "sbrq": dt.date(2025, 3, 1), "qylb": json.dumps(["YBHG"])},
        ],
    }  # fmt: skip
    assert enterprise_categories(_inputs(rows=rows), params) == ["JY", "YBHG"]
    assert enterprise_categories(_inputs(rows={"permit_0103": [{"zszt": "01"}]}), params) == ["SY"]
    assert enterprise_categories(_inputs(rows={}), params) is None


def test_major_hazards_are_counted():
    assert count_rows(_inputs(rows={"filing_0602": [{}, {}, {}]}), {"input": "filing_0602"}) == 3
    assert count_rows(_inputs(rows={}), {"input": "filing_0602"}) == 0
