"""A running gateway stand-in per test, a raw signing client for it, and valid records of every resource.

The client is deliberately small and written from the contract text (not the project's connector), so the
stand-in is held to the contract and not to one implementation of it.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import hashes, hmac
from stdnum.cn import ric, uscc
from stdnum.iso7064 import mod_37_36

from quality.standardize.enterprise_codes import organisation_code_check_char
from sandbox.gateway import FaultPlan, GatewayServer, build_state
from schemas.canonical import record_digest, sm3_hex

APP_KEY, APP_SECRET = "test-app", "test-secret-测试"
ISSUER = "11320400014110243T"  # 常州市应急管理局
LICENCE_TYPE_0101 = "11100000MB0000019L001"


def hmac_sm3(secret: str, message: str) -> str:
    mac = hmac.HMAC(secret.encode("utf-8"), hashes.SM3())
    mac.update(message.encode("utf-8"))
    return mac.finalize().hex()


def make_uscc(body: str, prefix: str = "91320412") -> str:
    """A valid USCC around an eight-character organisation code body (both check characters computed)."""
    number17 = prefix + body + organisation_code_check_char(body)
    return number17 + uscc.calc_check_digit(number17)


def make_resident_id(number17: str = "32040219900101001") -> str:
    return number17 + ric.calc_check_digit(number17 + "0")


def make_licence_id(serial: str, type_code: str = LICENCE_TYPE_0101, issuer: str = ISSUER) -> str:
    body = type_code + issuer + serial + "001"
    return f"1.2.156.3005.2.{type_code}.{issuer}.{serial}.001.{mod_37_36.calc_check_digit(body)}"


def case_data(n: int = 1, **changes: Any) -> dict[str, Any]:
    data = {
        "caseNo": f"CZ2026{n:06d}",
        "itemCode": f"{ISSUER}0101000",
        "itemName": "危险化学品经营许可证核发（带储存设施、剧毒、易制爆等）",
        "applicantName": "常州某化工有限公司",
        "applicantCode": make_uscc(f"MA1K{n:04d}"),
        "divisionCode": "320412",
        "applyDate": "2026-03-02",
        "acceptDate": "2026-03-03",
        "status": "05",
        "finishDate": "2026-03-20",
        "result": "1",
        "authorityName": "常州市应急管理局",
        "authorityCode": ISSUER,
    }
    return {**data, **changes}


def licence_data(n: int = 1, **changes: Any) -> dict[str, Any]:
    data = {
        "licenceId": make_licence_id(f"2026{n:06d}"),
        "licenceTypeCode": LICENCE_TYPE_0101,
        "licenceName": "危险化学品经营许可证",
        "certNo": f"苏常危化经字〔2026〕{n:06d}",
        "holderName": "常州某化工有限公司",
        "holderIdType": "01",
        "holderId": make_uscc(f"MA1K{n:04d}"),
        "issuerName": "常州市应急管理局",
        "issuerCode": ISSUER,
        "issueDate": "2026-03-20",
        "validFrom": "2026-03-20",
        "validTo": "2029-03-19",
        "status": "01",
        "operateType": "01",
        "associatedLicenceId": None,
        "surface": {"经营方式": "批发"},
    }
    return {**data, **changes}


def industry_data(n: int = 1, **changes: Any) -> dict[str, Any]:
    data = {
        "qymc": "常州某冶金有限公司",
        "tyshxydm": make_uscc(f"MA2B{n:04d}"),
        "xzqhdm": "320412",
        "hylx": "YJ",
        "jydz": "武进区某路1号",
        "fddbr": "张三",
        "lxdh": "13912345678",
        "zyrs": 120,
        "kslx": None,
        "scgy": "转炉炼钢",
        "mqss": True,
        "sal": None,
        "ccxts": None,
        "zjjcrq": "2026-10-08",
        "jd": 119.95,
        "wd": 31.71,
    }
    return {**data, **changes}


def hazchem_data(n: int = 1, **changes: Any) -> dict[str, Any]:
    data = {
        "qymc": "常州某化工有限公司",
        "tyshxydm": make_uscc(f"MA3C{n:04d}"),
        "xzqhdm": "320411",
        "qylb": ["SC", "JY"],
        "jydz": "新北区某路2号",
        "fddbr": "李四",
        "aqfzr": "王五",
        "cyrs": 80,
        "zdwxysl": 1,
    }
    return {**data, **changes}


def declaration_data(n: int = 1, **changes: Any) -> dict[str, Any]:
    data = {
        "tyshxydm": make_uscc(f"MA3C{n:04d}"),
        "qymc": "常州某化工有限公司",
        "sbnd": 2026,
        "sbrq": "2026-04-01",
        "qylb": ["SC"],
        "zywhp": [{"mc": "液氨", "cas": "7664-41-7"}, {"mc": "甲醇", "cas": None}],
        "zdwxysl": 1,
        "cyrs": 80,
        "aqglrys": 3,
        "tzzyrys": 10,
        "cnr": "李四",
    }
    return {**data, **changes}


DATA_OF: dict[str, Callable[..., dict[str, Any]]] = {
    "cases": case_data,
    "licences": licence_data,
    "industry_enterprises": industry_data,
    "hazchem_enterprises": hazchem_data,
    "integrity_declarations": declaration_data,
}
RECEIVER_OF = {
    "cases": "service_network",
    "licences": "service_network",
    "industry_enterprises": "province_supervision",
    "hazchem_enterprises": "province_hazchem",
    "integrity_declarations": "province_hazchem",
}


def record(record_id: str, seq: int, data: dict[str, Any] | None, op: str = "U") -> dict[str, Any]:
    """One pushed record with its right digest (a delete when `data` is None)."""
    op = "D" if data is None else op
    pushed: dict[str, Any] = {"recordId": record_id, "seq": seq, "op": op, "digest": record_digest(data)}
    if data is not None:
        pushed["data"] = data
    return pushed


def encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass
class RawClient:
    """Signs and sends gateway calls exactly as the contract says, with knobs to break each rule."""

    base: str
    app_key: str = APP_KEY
    secret: str = APP_SECRET
    token: str | None = None
    session: requests.Session = field(default_factory=requests.Session)

    def fetch_token(
        self, *, prefix: str = "", skew_ms: int = 0, nonce: str | None = None
    ) -> requests.Response:
        timestamp = str(int(time.time() * 1000) + skew_ms)
        nonce = nonce or secrets.token_hex(16)
        body = {
            "appKey": self.app_key,
            "timestamp": timestamp,
            "nonce": nonce,
            "sign": hmac_sm3(self.secret, f"{self.app_key}{timestamp}{nonce}"),
        }
        answer = self.session.post(f"{self.base}{prefix}/auth/token", json=body, timeout=10)
        if answer.status_code == 200:
            self.token = answer.json()["data"]["accessToken"]
        return answer

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        request_id: str | None = None,
        skew_ms: int = 0,
        nonce: str | None = None,
        secret: str | None = None,
        content_type: str = "application/json",
        timeout: float = 10,
    ) -> requests.Response:
        """Send one signed call; `path` includes any receiver prefix and query, exactly as signed."""
        if self.token is None:
            assert self.fetch_token().status_code == 200
        payload = raw if raw is not None else (b"" if body is None else encode(body))
        timestamp = str(int(time.time() * 1000) + skew_ms)
        nonce = nonce or secrets.token_hex(16)
        request_id = request_id or secrets.token_hex(8)
        to_sign = "\n".join([method, path, timestamp, nonce, request_id, sm3_hex(payload)])
        headers = {
            "Authorization": f"Bearer {self.token}",
            "X-App-Key": self.app_key,
            "X-Timestamp": timestamp,
            "X-Nonce": nonce,
            "X-Request-Id": request_id,
            "X-Signature": hmac_sm3(secret or self.secret, to_sign),
        }
        if method == "POST":
            headers["Content-Type"] = content_type
        return self.session.request(method, self.base + path, data=payload, headers=headers, timeout=timeout)

    def push(self, resource: str, records: list[dict[str, Any]], **kwargs: Any) -> requests.Response:
        prefix = "/" + RECEIVER_OF[resource]
        return self.call(
            "POST", f"{prefix}/api/v1/push/{resource}", {"batchId": "b1", "records": records}, **kwargs
        )

    def summary(self, resource: str) -> dict[str, Any]:
        answer = self.call("GET", f"/{RECEIVER_OF[resource]}/api/v1/ledger/{resource}/summary")
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    def page(self, resource: str, page: int = 1, size: int = 1000) -> dict[str, Any]:
        path = f"/{RECEIVER_OF[resource]}/api/v1/ledger/{resource}?page={page}&pageSize={size}"
        answer = self.call("GET", path)
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]


@dataclass
class Stand:
    """Starts and restarts the stand-in on one store file."""

    store: Path
    options: dict[str, Any]
    server: GatewayServer | None = None

    def start(self, **options: Any) -> GatewayServer:
        self.options.update(options)
        opts = dict(self.options)
        faults = FaultPlan.from_json(opts.pop("faults", None))
        state = build_state(self.store, {APP_KEY: APP_SECRET}, faults=faults, **opts)
        self.server = GatewayServer(state).start()
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def client(self) -> RawClient:
        assert self.server is not None
        return RawClient(self.server.url)


@pytest.fixture
def stand(tmp_path: Path) -> Iterator[Stand]:
    """A stand-in on a fresh store, stopped after the test."""
    holder = Stand(tmp_path / "gateway.db", {})
    holder.start()
    yield holder
    holder.stop()


@pytest.fixture
def client(stand: Stand) -> RawClient:
    return stand.client()
