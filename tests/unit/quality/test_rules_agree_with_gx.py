"""The row rules and the Great Expectations suite compiled from them count the same failures, rule by rule."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from catalog import Item, Resource, Rule, default_catalog
from quality.expectations import QualityGate, ResourceValidation, validate_with_gx
from quality.rules import compile_rules, evaluate

D = dt.date

RESOURCE = Resource(
    name="rule_probe",
    title="规则探针",
    summary="",
    source="none",
    permit_type="0101",  # 3 years of legal validity
    items=(
        Item("zsbh", "证书编号", "text", required=True, pattern=r"[A-Z]{2}\d{3}"),
        Item("yxqq", "有效期起", "date", required=True),
        Item("yxqz", "有效期止", "date"),
        Item("status", "状态", "code", codelist="case_status"),
        Item("finish", "办结日期", "date"),
        Item("hylx", "行业", "code", codelist="industry_types"),
        Item("kslx", "矿山类型", "text"),
        Item("jd", "经度", "decimal", min=119.1, max=120.2),
    ),
    rules=(
        Rule("date_order", {"earlier": "yxqq", "later": "yxqz"}),
        Rule("within_legal_validity", {"valid_from": "yxqq", "valid_to": "yxqz"}),
        Rule("required_when_expiring", {"item": "yxqz"}),
        Rule("required_when", {"item": "finish", "when": {"status": ["05", "07"]}}),
        Rule("null_unless", {"item": "kslx", "when": {"hylx": ["FM"]}}),
    ),
    receivers={},
    asset_uri="sdx://curated/rule_probe",
)

RECORDS = pd.DataFrame(
    {
        "record_id": [f"R{i}" for i in range(8)],
        "deleted": [False, False, False, False, False, False, False, True],
        "zsbh": ["AB123", None, "ab123", "CD456", "EF789", "GH012", "IJ345", None],
        "yxqq": [
            D(2020, 1, 1),
            D(2020, 1, 1),
            None,
            D(2021, 5, 1),
            D(2019, 1, 1),
            D(2020, 2, 29),
            D(2020, 1, 1),
            None,
        ],
        "yxqz": [
            D(2022, 12, 31),
            D(2019, 1, 1),
            D(2024, 1, 1),
            None,
            D(2025, 1, 1),
            D(2023, 2, 28),
            D(2023, 1, 1),
            None,
        ],
        "status": ["05", "01", "07", None, "05", "02", "01", "05"],
        "finish": [D(2022, 1, 1), None, None, None, None, None, None, None],
        "hylx": ["FM", "YJ", None, "FM", "SA", "FC", "YJ", "YJ"],
        "kslx": ["露天", "地下", None, None, "尾矿库", None, None, "地下"],
        "jd": [119.9, 121.0, None, 119.5, 0.5, 120.2, None, 500.0],
    }
).astype(object)


def test_every_rule_kind_counts_the_same_in_gx_and_in_the_row_rules():
    checks = compile_rules(RESOURCE, default_catalog())
    kinds = {check.kind for check in checks}
    assert kinds == {"not_null", "null", "between", "pattern", "pair_order", "within_years"}

    rule_counts = {o.check.name: int(o.fails.sum()) for o in evaluate(checks, RECORDS)}
    gx = validate_with_gx(RESOURCE, checks, RECORDS)

    assert {k: v for k, v in gx.unexpected.items() if k != "unique:record_id"} == rule_counts
    # The probe is built so that every rule fails somewhere: agreement on zeros would prove nothing.
    assert all(count > 0 for count in rule_counts.values()), rule_counts
    assert not gx.success


def test_expected_failures_row_by_row():
    outcomes = {
        o.check.name: set(RECORDS.index[o.fails])
        for o in evaluate(compile_rules(RESOURCE, default_catalog()), RECORDS)
    }
    assert outcomes["required:zsbh"] == {1}  # row 7 is a delete: no rule applies to it
    assert outcomes["pattern:zsbh"] == {2}
    assert outcomes["date_order:yxqz"] == {1}
    assert outcomes["legal_validity:yxqz"] == {
        4
    }  # 2019-01-01 + 3 years < 2025-01-01; 29 Feb → 28 Feb is fine
    assert outcomes["required:yxqz"] == {3}
    assert outcomes["required_when:finish"] == {2, 4}
    assert outcomes["null_unless:kslx"] == {1, 4}
    assert outcomes["range:jd"] == {1, 4}


def test_a_resource_validated_batch_by_batch_counts_what_one_validation_counts():
    checks = compile_rules(RESOURCE, default_catalog())
    whole = validate_with_gx(RESOURCE, checks, RECORDS)
    validation = ResourceValidation(RESOURCE, checks)
    for part in (RECORDS.iloc[:3], RECORDS.iloc[3:5], RECORDS.iloc[5:]):
        validation.add(part)
    batched = validation.finish()

    assert validation.batches == 3
    assert batched.unexpected == whole.unexpected
    assert batched.success == whole.success
    stats = batched.result["statistics"]
    assert stats["evaluated_expectations"] == len(whole.result["results"])
    assert stats["unsuccessful_expectations"] == sum(not r["success"] for r in whole.result["results"])
    by_check = {r["expectation_config"]["meta"]["check"]: r["result"] for r in batched.result["results"]}
    once = {r["expectation_config"]["meta"]["check"]: r["result"] for r in whole.result["results"]}
    for check, result in once.items():
        for key in ("element_count", "unexpected_count", "partial_unexpected_list"):
            assert by_check[check].get(key) == result.get(key), (check, key)
        assert by_check[check].get("unexpected_percent") == pytest.approx(result.get("unexpected_percent"))


def test_the_gates_see_the_whole_resource_not_one_batch():
    checks = compile_rules(RESOURCE, default_catalog())
    live = RECORDS[~RECORDS["deleted"].astype(bool)]
    # Each batch's record ids are unique on their own; together they repeat one.
    twice = pd.concat([live.iloc[:4], live.iloc[3:]], ignore_index=True)
    validation = ResourceValidation(RESOURCE, checks, QualityGate(0.3, 0.1, min_rows=1))
    validation.add(twice.iloc[:4])
    validation.add(twice.iloc[4:])
    result = validation.finish(rechecked=set())

    assert result.unexpected["unique:record_id"] == 2
    assert any(f.startswith("unique:record_id") for f in result.gate_failures)
    # 4 of the 8 live rows quarantined is over the 30 % the gate allows.
    marked = twice.assign(quarantined=[i % 2 == 0 for i in range(len(twice))])
    validation = ResourceValidation(RESOURCE, checks, QualityGate(0.3, 0.1, min_rows=1))
    validation.add(marked.iloc[:4])
    validation.add(marked.iloc[4:])
    assert any(f.startswith("share:quarantined") for f in validation.finish(rechecked=set()).gate_failures)
    # The same records already in quarantine before the run are no new refusals.
    validation = ResourceValidation(RESOURCE, checks, QualityGate(0.3, 0.1, min_rows=1))
    validation.add(marked)
    rechecked = set(marked.loc[marked["quarantined"], "record_id"])
    assert not any(f.startswith("share:") for f in validation.finish(rechecked=rechecked).gate_failures)
