"""Push records of each gateway resource from hand-built curated records, checked against gateway.yaml."""

import datetime as dt
import decimal
import json

import pytest
from stdnum.iso7064 import mod_37_36

from catalog import default_catalog
from connectors.gateway.payloads import (
    MAX_BYTES,
    ContractSchemas,
    CuratedRecord,
    PayloadError,
    batches,
    push_record,
    receiver_mapping,
)
from connectors.gateway.signing import encode_body
from schemas.canonical import record_digest, sm3_hex

CATALOG = default_catalog()
SCHEMAS = ContractSchemas.of(CATALOG)
CITY = "11320400014110243T"
WUJIN = "11320412MB0000043U"
TYPE_0101 = "11100000MB0000019L001"
SERIAL, VERSION = "2026000123", "001"
LICENCE_ID = (
    f"1.2.156.3005.2.{TYPE_0101}.{CITY}.{SERIAL}.{VERSION}."
    f"{mod_37_36.calc_check_digit(TYPE_0101 + CITY + SERIAL + VERSION)}"
)

# Curated records as the curated database stores them: dates as dates, code lists and JSON as canonical
# text, booleans as 1/0, decimals as Decimal.
CURATED = {
    "cases": {
        "case_no": "SL-2026-0001", "sxbm": "0101", "item_code": f"{CITY}0101000",
        "item_name": "危险化学品生产企业安全生产许可", "applicant_name": "常州示例化工有限公司",
        "applicant_code": WUJIN, "division_code": "320412", "apply_date": dt.date(2026, 11, 2),
        "accept_date": dt.date(2026, 11, 3), "status": "05", "finish_date": dt.date(2026, 11, 20), "result": "1",
        "authority_name": "常州市应急管理局", "authority_code": CITY,
    },
    "licences": {
        "licence_id": LICENCE_ID, "sxbm": "0101", "licence_type_code": TYPE_0101,
        "licence_name": "危险化学品安全生产许可证", "cert_no": "(苏)WH安许证字[D00123]", "holder_name": "常州示例化工有限公司",
        "holder_id_type": "01", "holder_id": WUJIN, "issuer_name": "常州市应急管理局", "issuer_code": CITY,
        "issue_date": dt.date(2026, 11, 20), "valid_from": dt.date(2026, 11, 20), "valid_to": dt.date(2029, 11, 19),
        "status": "01", "operate_type": "01", "associated_licence_id": None,
        "surface": '{"主要负责人":"张三","储存设施地址":null}',
    },
    "industry_enterprises": {
        "qymc": "常州示例冶金有限公司", "tyshxydm": WUJIN, "xzqhdm": "320412", "hylx": "YJ", "jydz": "武进区示例路1号",
        "fddbr": "李四", "lxdh": "13812345678", "zyrs": 35, "kslx": None, "scgy": "转炉炼钢", "mqss": 1, "sal": None,
        "ccxts": None, "zjjcrq": dt.date(2026, 10, 9), "jd": decimal.Decimal("119.9500"), "wd": 31.78,
    },
    "hazchem_enterprises": {
        "qymc": "常州示例化工有限公司", "tyshxydm": WUJIN, "xzqhdm": "320412", "qylb": '["JY","SC"]',
        "jydz": "武进区示例路2号", "fddbr": "王五", "aqfzr": None, "cyrs": 120, "zdwxysl": 2,
    },
    "integrity_declarations": {
        "tyshxydm": WUJIN, "qymc": "常州示例化工有限公司", "sbnd": 2026, "sbrq": dt.date(2026, 3, 31),
        "qylb": '["SC"]', "zywhp": '[{"cas":"7664-41-7","mc":"液氨"},{"cas":null,"mc":"混合溶剂"}]',
        "zdwxysl": 1, "cyrs": 120, "aqglrys": 3, "tzzyrys": 8, "cnr": "王五",
    },
}  # fmt: skip


def receiver_of(resource):
    return next(iter(resource.receivers))


def build(name, data=None, record_id="r-1", seq=1, deleted=False, held=False):
    resource = CATALOG.resource(name)
    record = CuratedRecord(record_id, seq, deleted, data if data is not None else CURATED[name])
    return push_record(resource, receiver_of(resource), record, held=held)


@pytest.mark.parametrize("name", sorted(CURATED))
def test_each_resource_maps_and_validates(name):
    resource = CATALOG.resource(name)
    target, fields = receiver_mapping(resource, receiver_of(resource))
    record = build(name)
    assert record["op"] == "I" and record["seq"] == 1 and record["recordId"] == "r-1"
    assert set(record["data"]) == set(fields)
    assert record["digest"] == record_digest(record["data"])
    SCHEMAS.check_batch(target, {"batchId": "b-1", "records": [record]})


def test_values_take_the_gateway_types():
    cases = build("cases")["data"]
    assert cases["applyDate"] == "2026-11-02" and cases["status"] == "05"
    licence = build("licences")["data"]
    assert licence["surface"] == {"主要负责人": "张三", "储存设施地址": None}
    assert licence["associatedLicenceId"] is None
    industry = build("industry_enterprises")["data"]
    assert industry["mqss"] is True and industry["jd"] == 119.95 and industry["zyrs"] == 35
    assert (
        build("industry_enterprises", CURATED["industry_enterprises"] | {"sal": decimal.Decimal("1200.0")})[
            "data"
        ]["sal"]
        == 1200
    )
    assert build("hazchem_enterprises")["data"]["qylb"] == ["JY", "SC"]
    declaration = build("integrity_declarations")["data"]
    assert declaration["zywhp"][0] == {"mc": "液氨", "cas": "7664-41-7"} and declaration["sbnd"] == 2026


def test_digest_is_over_the_data_as_sent():
    record = build("industry_enterprises")
    sent = json.loads(encode_body(record))
    assert sent["digest"] == record_digest(sent["data"])
    # Same content in another stored form, same digest: the canonical form is what is sent.
    other = build("industry_enterprises", CURATED["industry_enterprises"] | {"jd": 119.95, "zyrs": 35.0})
    assert other["digest"] == record["digest"]


def test_delete_and_update():
    deleted = build("cases", deleted=True, seq=4)
    assert deleted["op"] == "D" and deleted["data"] is None and deleted["seq"] == 4
    assert deleted["digest"] == sm3_hex(b"null")
    assert build("cases", held=True)["op"] == "U"
    SCHEMAS.check_batch("cases", {"batchId": "b", "records": [deleted, build("cases", record_id="r-2")]})


def test_invalid_payload_names_record_and_schema_path_but_no_value():
    bad = build(
        "industry_enterprises", CURATED["industry_enterprises"] | {"lxdh": "5551234"}, record_id="ent-9"
    )
    with pytest.raises(PayloadError) as caught:
        SCHEMAS.check_batch(
            "industry_enterprises", {"batchId": "b", "records": [build("industry_enterprises"), bad]}
        )
    error = caught.value
    assert error.record_id == "ent-9"
    assert "lxdh" in error.schema_path and "pattern" in error.schema_path
    assert "ent-9" in str(error) and "5551234" not in str(error) and "李四" not in str(error)


def test_missing_required_and_unknown_division_are_bugs():
    no_name = build("cases", CURATED["cases"] | {"applicant_name": None})
    with pytest.raises(PayloadError, match="applicantName/type"):
        SCHEMAS.check_batch("cases", {"batchId": "b", "records": [no_name]})
    elsewhere = build("cases", CURATED["cases"] | {"division_code": "110101"})
    with pytest.raises(PayloadError) as caught:
        SCHEMAS.check_batch("cases", {"batchId": "b", "records": [elsewhere]})
    assert "divisionCode" in caught.value.schema_path and "110101" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "change", "schema_path", "field"),
    [
        (
            "integrity_declarations",
            {"zywhp": '[{"cas":"7664-41","mc":"液氨"}]'},
            "integrity_declarations/properties/zywhp/items/properties/cas/pattern",
            "zywhp/0/cas",
        ),
        # A trailing newline passes a `$`-anchored pattern in Python's `re`; the contract's (ECMA) regex refuses it.
        (
            "cases",
            {"case_no": "SL-1", "apply_date": "2026-11-02\n"},
            "cases/properties/applyDate/pattern",
            "applyDate",
        ),
        ("cases", {"status": "09"}, "cases/properties/status/enum", "status"),
        (
            "hazchem_enterprises",
            {"qylb": '["SC","SC"]'},
            "hazchem_enterprises/properties/qylb/uniqueItems",
            "qylb",
        ),
    ],
    ids=["nested-pattern", "pattern-newline", "enum", "unique-items"],
)
def test_a_record_breaking_the_schema_is_refused_with_its_path(name, change, schema_path, field):
    resource = CATALOG.resource(name)
    target, _ = receiver_mapping(resource, receiver_of(resource))
    bad = build(name, CURATED[name] | change, record_id="r-bad")
    with pytest.raises(PayloadError) as caught:
        SCHEMAS.check_batch(target, {"batchId": "b", "records": [build(name), bad]})
    assert caught.value.record_id == "r-bad"
    assert caught.value.schema_path == schema_path
    keyword = schema_path.rsplit("/", 1)[1]
    assert f"field {field} fails `{keyword}`" in str(caught.value)


def test_a_batch_breaking_the_push_request_schema_names_the_record_and_path():
    records = [build("cases", record_id=f"r-{i}") for i in range(3)]
    records[2] = records[2] | {"seq": 0}
    with pytest.raises(PayloadError) as caught:
        SCHEMAS.check_batch("cases", {"batchId": "b", "records": records})
    assert caught.value.record_id == "r-2"
    assert caught.value.schema_path == "PushRequest/properties/records/items/properties/seq/minimum"


def test_envelope_breaks_and_data_tampering_are_caught():
    record = build("cases")
    with pytest.raises(PayloadError, match="seq"):
        SCHEMAS.check_batch("cases", {"batchId": "b", "records": [record | {"seq": 0}]})
    with pytest.raises(PayloadError, match="digest"):
        SCHEMAS.check_batch("cases", {"batchId": "b", "records": [record | {"digest": sm3_hex(b"x")}]})
    with pytest.raises(PayloadError, match="no data"):
        SCHEMAS.check_batch("cases", {"batchId": "b", "records": [record | {"op": "D"}]})
    with pytest.raises(PayloadError):
        SCHEMAS.check_batch("cases", {"batchId": "b", "records": []})


def test_batches_of_at_most_500_records():
    records = [build("hazchem_enterprises", record_id=f"r-{i}") for i in range(1201)]
    sizes = [len(b) for b in batches(records)]
    assert sizes == [500, 500, 201]
    assert [r["recordId"] for b in batches(records) for r in b] == [r["recordId"] for r in records]


def test_batches_of_at_most_2_mib():
    # A large surface (照面信息) makes each record about 300 KB: seven fit in 2 MiB, the eighth does not.
    big = CURATED["licences"] | {"surface": json.dumps({"备注": "很" * 100_000}, ensure_ascii=False)}
    records = [build("licences", big, record_id=f"lic-{i}") for i in range(20)]
    out = list(batches(records))
    assert sum(len(b) for b in out) == 20 and len(out) > 2
    for batch in out:
        size = len(encode_body({"batchId": "x" * 64, "records": batch}))
        assert size <= MAX_BYTES
        assert len(batch) < 20
    # Full batches: adding the next record's bytes would exceed the limit.
    first = len(encode_body({"batchId": "x" * 64, "records": out[0] + [out[1][0]]}))
    assert first > MAX_BYTES


def test_a_record_larger_than_a_batch_is_refused():
    huge = CURATED["licences"] | {"surface": json.dumps({"备注": "很" * 800_000}, ensure_ascii=False)}
    with pytest.raises(PayloadError) as caught:
        list(batches([build("licences", huge, record_id="lic-huge")]))
    assert caught.value.record_id == "lic-huge"
