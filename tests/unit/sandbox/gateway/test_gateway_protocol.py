"""The gateway stand-in follows gateway.yaml: token, signed calls, push checks, seq, idempotency, ledger."""

from __future__ import annotations

import time

import pytest
from conftest import (
    APP_SECRET,
    DATA_OF,
    RawClient,
    Stand,
    case_data,
    encode,
    industry_data,
    licence_data,
    make_licence_id,
    make_resident_id,
    record,
)

from schemas.canonical import record_digest, sorted_lines_digest

WRONG_KEY = "not-what-the-stand-in-knows"


def _code(answer) -> tuple[int, str]:
    return answer.status_code, answer.json()["code"]


@pytest.mark.parametrize("resource", sorted(DATA_OF))
def test_push_then_ledger_of_every_resource(client: RawClient, resource: str):
    make = DATA_OF[resource]
    ids = ["b-2", "a-1", "Z-3", "é-4"]  # UTF-8 byte order: Z < a < b < é
    records = [record(rid, 1, make(n)) for n, rid in enumerate(ids, start=1)]
    answer = client.push(resource, [*records, record("gone", 1, None)])
    assert answer.status_code == 200, answer.text
    result = answer.json()["data"]
    assert result["rejected"] == []
    assert result["accepted"] == [*ids, "gone"]
    summary = client.summary(resource)
    live = [(r["recordId"], r["digest"]) for r in records]
    assert summary == {"live": 4, "deleted": 1, "digest": sorted_lines_digest(live)}
    page = client.page(resource, 1, 2)
    assert page["total"] == 5
    assert [r["recordId"] for r in page["records"]] == ["Z-3", "a-1"]
    assert [r["recordId"] for r in client.page(resource, 2, 2)["records"]] == ["b-2", "gone"]
    assert client.page(resource, 3, 2)["records"][0]["recordId"] == "é-4"


def test_flat_paths_serve_every_resource_and_prefixes_only_their_own(client: RawClient):
    flat = client.call(
        "POST", "/api/v1/push/cases", {"batchId": "b", "records": [record("c1", 1, case_data())]}
    )
    assert flat.json()["data"]["accepted"] == ["c1"]
    assert client.summary("cases")["live"] == 1  # the flat push landed in service_network's ledger
    body = {"batchId": "b", "records": [record("i1", 1, industry_data())]}
    assert _code(client.call("POST", "/service_network/api/v1/push/industry_enterprises", body)) == (
        404,
        "40400",
    )
    assert _code(client.call("POST", "/api/v1/push/nothing", body)) == (404, "40400")


def test_token_refusals(client: RawClient):
    assert _code(client.fetch_token(skew_ms=301_000)) == (401, "40103")
    nonce = "n" * 16
    assert client.fetch_token(nonce=nonce).status_code == 200
    assert _code(client.fetch_token(nonce=nonce)) == (401, "40104")
    assert _code(RawClient(client.base, secret=WRONG_KEY).fetch_token()) == (401, "40102")
    assert _code(RawClient(client.base, app_key="nobody").fetch_token()) == (401, "40102")


def test_call_refusals(client: RawClient):
    body = {"batchId": "b", "records": [record("c1", 1, case_data())]}
    path = "/service_network/api/v1/push/cases"
    assert _code(client.call("POST", path, body, secret=WRONG_KEY)) == (401, "40102")
    assert _code(client.call("POST", path, body, skew_ms=-301_000)) == (401, "40103")
    assert client.call("POST", path, body, nonce="m" * 16).status_code == 200
    assert _code(client.call("POST", path, body, nonce="m" * 16)) == (401, "40104")
    assert _code(client.call("POST", path, body, content_type="text/plain")) == (400, "40000")
    stranger = RawClient(client.base, app_key="nobody", token=client.token)
    assert _code(stranger.call("POST", path, body)) == (401, "40101")
    forged = RawClient(client.base, token=WRONG_KEY)
    assert _code(forged.call("POST", path, body)) == (401, "40101")
    assert _code(client.call("GET", "/service_network/api/v1/ledger/cases?pageSize=0")) == (400, "40000")


def test_batch_size_limits(client: RawClient):
    assert _code(client.push("cases", [])) == (400, "40000")
    many = [record(f"c{n}", 1, case_data(n)) for n in range(501)]
    assert _code(client.push("cases", many)) == (413, "41300")
    assert client.push("cases", many[:500]).json()["data"]["accepted"][-1] == "c499"
    padding = "x" * (2 * 1024 * 1024)
    huge = client.push("cases", [record("big", 1, case_data(itemName=padding))])
    assert _code(huge) == (413, "41300")
    assert _code(client.call("POST", "/service_network/api/v1/push/cases", raw=b"{not json")) == (
        400,
        "40000",
    )


def test_seq_rules(client: RawClient):
    first, second = case_data(1), case_data(1, status="04", result=None, finishDate=None)
    assert client.push("cases", [record("c1", 2, first)]).json()["data"]["accepted"] == ["c1"]
    # Lower seq: answered as accepted, not applied. Equal seq and digest: a harmless repeat.
    stale = client.push("cases", [record("c1", 1, second), record("c1", 2, first)]).json()["data"]
    assert stale == {**stale, "accepted": ["c1", "c1"], "rejected": []}
    assert client.page("cases")["records"][0]["digest"] == record_digest(first)
    conflict = client.push("cases", [record("c1", 2, second)]).json()["data"]
    assert [r["errorCode"] for r in conflict["rejected"]] == ["E1004"]
    newer = client.push("cases", [record("c1", 3, second), record("c1", 4, None)]).json()["data"]
    assert newer["accepted"] == ["c1", "c1"]
    held = client.page("cases")["records"][0]
    assert (held["seq"], held["op"], held["digest"]) == (4, "D", record_digest(None))
    assert client.summary("cases") == {"live": 0, "deleted": 1, "digest": sorted_lines_digest([])}


def test_wrong_digest_is_refused_whatever_the_seq(client: RawClient):
    wrong = {**record("c1", 1, case_data()), "digest": record_digest(case_data(2))}
    answer = client.push("cases", [wrong, record("c2", 1, case_data(2))]).json()["data"]
    assert answer["accepted"] == ["c2"]
    assert [(r["recordId"], r["errorCode"]) for r in answer["rejected"]] == [("c1", "E1003")]


PERSON = make_resident_id()
BAD_MEANING = {
    "bad USCC check": ("cases", case_data(applicantCode="91320412MA1K3BTP2A")),
    "unreal date": ("cases", case_data(applyDate="2026-02-30")),
    "item code of 0601": ("cases", case_data(itemCode="11320400014110243T0601000")),
    "finished without date": ("cases", case_data(finishDate=None)),
    "licence id check": ("licences", licence_data(licenceId=make_licence_id("1")[:-1] + "0")),
    "licence type not in id": ("licences", licence_data(licenceTypeCode="11100000MB0000019L002")),
    "person id check": ("licences", licence_data(holderIdType="02", holderId=PERSON[:-1] + "0")),
    "company holder as person": ("licences", licence_data(holderIdType="02")),
    "ends before start": ("licences", licence_data(validTo="2026-01-01")),
    "mine type for metallurgy": ("industry_enterprises", industry_data(kslx="地下")),
    "bad CAS": (
        "integrity_declarations",
        DATA_OF["integrity_declarations"](zywhp=[{"mc": "液氨", "cas": "7664-41-8"}]),
    ),
    "extra field": ("hazchem_enterprises", DATA_OF["hazchem_enterprises"](extra="x")),
}


@pytest.mark.parametrize("case", sorted(BAD_MEANING))
def test_schema_and_meaning_refusals(client: RawClient, case: str):
    resource, data = BAD_MEANING[case]
    answer = client.push(resource, [record("r1", 1, data)]).json()["data"]
    assert answer["accepted"] == []
    [refused] = answer["rejected"]
    assert refused["errorCode"] == "E1001"
    assert PERSON[:-1] not in refused["reason"]
    assert client.summary(resource)["live"] == 0


SCHEMA_BREAKS = {
    "nested pattern": (
        "integrity_declarations",
        DATA_OF["integrity_declarations"](zywhp=[{"mc": "液氨", "cas": "7664-41"}]),
        "zywhp.0.cas：不符合接口规范（pattern）",
    ),
    # A trailing newline passes a `$`-anchored pattern in Python's `re`; the contract's (ECMA) regex refuses it.
    "pattern and newline": (
        "cases",
        case_data(applyDate="2026-03-02\n"),
        "applyDate：不符合接口规范（pattern）",
    ),
    "enum": ("cases", case_data(status="09"), "status：不符合接口规范（enum）"),
    "missing field": ("licences", {**licence_data(), "certNo": None}, "certNo：不符合接口规范（type）"),
}


@pytest.mark.parametrize("case", sorted(SCHEMA_BREAKS))
def test_a_record_breaking_the_schema_is_refused_with_its_path(client: RawClient, case: str):
    resource, data, reason = SCHEMA_BREAKS[case]
    answer = client.push(resource, [record("ok", 1, DATA_OF[resource](2)), record("bad", 1, data)])
    result = answer.json()["data"]
    assert result["accepted"] == ["ok"]
    assert result["rejected"] == [{"recordId": "bad", "errorCode": "E1001", "reason": reason}]


def test_a_record_breaking_the_envelope_schema_is_refused_with_its_path(client: RawClient):
    bad = record("bad", 1, case_data()) | {"seq": 0}
    [refused] = client.push("cases", [bad]).json()["data"]["rejected"]
    assert (refused["errorCode"], refused["reason"]) == ("E1001", "seq：不符合接口规范（minimum）")


def test_a_person_holder_is_accepted(client: RawClient):
    data = licence_data(holderIdType="02", holderId=PERSON)
    assert client.push("licences", [record("l1", 1, data)]).json()["data"]["accepted"] == ["l1"]


def test_idempotent_replay_and_conflict(client: RawClient):
    body = {"batchId": "b", "records": [record("c1", 1, case_data())]}
    path = "/service_network/api/v1/push/cases"
    first = client.call("POST", path, body, request_id="req-1")
    client.push("cases", [record("c1", 2, case_data(status="03", finishDate=None, result=None))])
    again = client.call("POST", path, body, request_id="req-1")
    assert again.json() == first.json()  # the same receiptId: the first answer, nothing applied
    assert client.page("cases")["records"][0]["seq"] == 2
    other = {"batchId": "b", "records": [record("c9", 1, case_data(9))]}
    assert _code(client.call("POST", path, other, request_id="req-1")) == (409, "40901")
    # Refusals of the request itself are stored too; refusals of the caller are not.
    assert _code(client.call("POST", path, {"batchId": "b", "records": []}, request_id="req-2")) == (
        400,
        "40000",
    )
    assert _code(client.call("POST", path, {"batchId": "b", "records": []}, request_id="req-2")) == (
        400,
        "40000",
    )
    assert _code(client.call("POST", path, other, request_id="req-3", secret=WRONG_KEY)) == (401, "40102")
    assert client.call("POST", path, other, request_id="req-3").json()["data"]["accepted"] == ["c9"]


def test_rate_limit_answers_429_with_retry_after(stand: Stand):
    stand.stop()
    server = stand.start(rates={"province_supervision": 3})
    client = RawClient(server.url)
    client.fetch_token()
    codes = [
        client.call("GET", "/province_supervision/api/v1/ledger/industry_enterprises/summary").status_code
        for _ in range(6)
    ]
    assert codes[:3] == [200, 200, 200]
    assert 429 in codes[3:]
    limited = client.call("GET", "/province_supervision/api/v1/ledger/industry_enterprises/summary")
    assert _code(limited) == (429, "42900")
    assert int(limited.headers["Retry-After"]) >= 1
    time.sleep(1.05)
    assert (
        client.call("GET", "/province_supervision/api/v1/ledger/industry_enterprises/summary").status_code
        == 200
    )


def test_token_expires_after_expires_in(stand: Stand):
    stand.stop()
    client = RawClient(stand.start(expires_in=1).url)
    assert client.fetch_token().json()["data"]["expiresIn"] == 1
    assert client.call("GET", "/service_network/api/v1/ledger/cases/summary").status_code == 200
    time.sleep(1.1)
    assert _code(client.call("GET", "/service_network/api/v1/ledger/cases/summary")) == (401, "40101")
    client.fetch_token()
    assert client.call("GET", "/service_network/api/v1/ledger/cases/summary").status_code == 200


def test_records_nonces_tokens_and_answers_survive_a_restart(stand: Stand, client: RawClient):
    body = {"batchId": "b", "records": [record("c1", 1, case_data())]}
    path = "/service_network/api/v1/push/cases"
    first = client.call("POST", path, body, request_id="req-1", nonce="k" * 16)
    before = client.summary("cases")
    stand.stop()
    client.base = stand.start().url
    assert client.summary("cases") == before == {**before, "live": 1}
    assert _code(client.call("POST", path, body, nonce="k" * 16)) == (401, "40104")
    assert client.call("POST", path, body, request_id="req-1").json() == first.json()


def test_body_is_signed_as_sent(client: RawClient):
    body = encode({"batchId": "b", "records": [record("c1", 1, case_data())]})
    answer = client.call("POST", "/service_network/api/v1/push/cases", raw=body + b" ")
    assert answer.status_code == 200  # white space is part of the signed body, not a refusal
    assert APP_SECRET not in answer.text
