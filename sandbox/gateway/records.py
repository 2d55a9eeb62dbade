"""The receivers' checks of one pushed record, in the contract's order: schema, meaning, digest.

Reasons are written in Chinese for the clerk who reads them in the quarantine; they never repeat a value,
since holder ids are personal data.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

from jsonschema_rs import Draft202012Validator
from stdnum import casrn
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_37_36

from quality.standardize.enterprise_codes import organisation_code_check_char
from sandbox.gateway.contract import (
    gateway_contract,
    permit_type_codes,
    record_envelope_validator,
    schema_validator,
)
from schemas.canonical import record_digest

SCHEMA_ERROR = "E1001"
DIGEST_MISMATCH = "E1003"
SEQ_CONFLICT = "E1004"

# contracts/README.md section 3.
LICENCE_TYPE_PREFIX = "11100000MB0000019L"
ITEM_CODE_PREFIX = "11320400014110243T"
_CASE_PERMIT_TYPES = ("0101", "0502")  # item codes exist for SXBM 0101–0502
_LICENCE_ID = re.compile(
    r"1\.2\.156\.3005\.2\.(?P<type>[0-9A-Z]{21})\.(?P<issuer>[0-9A-Z]{18})\.(?P<serial>[0-9A-Z]{1,32})"
    r"\.(?P<version>[0-9]{3})\.(?P<check>[0-9A-Z])"
)
_RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]")
# gateway.yaml, industry_enterprises: the fields one industry fills and the others leave null.
INDUSTRY_ONLY = {"kslx": {"FM"}, "scgy": {"YJ", "FC"}, "mqss": {"YJ"}, "sal": {"SA"}, "ccxts": {"FC"}}
_SHARED_TYPES = ("Uscc", "ResidentId", "Date")


class RecordRefused(Exception):
    """One record refused: its error code and the reason the receiver gives."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _shared_type(schema: dict[str, Any]) -> str | None:
    # A field typed by one of the shared schemas, directly or as one alternative of a oneOf with null.
    for candidate in [schema, *schema.get("oneOf", [])]:
        ref = candidate.get("$ref", "")
        name = ref.rsplit("/", 1)[-1]
        if name in _SHARED_TYPES:
            return name
    return None


@functools.cache
def _typed_fields(resource: str) -> dict[str, str]:
    properties = gateway_contract()["components"]["schemas"][resource]["properties"]
    return {field: kind for field, schema in properties.items() if (kind := _shared_type(schema))}


# The same issuing authorities and enterprises recur in every batch: keep the verdicts.
@functools.lru_cache(maxsize=1 << 16)
def is_valid_uscc(code: str) -> bool:
    """A GB 32100 code whose outer check (python-stdnum, pilot codes refused) and inner GB 11714 check pass."""
    try:
        uscc.validate(code)
    except ValidationError:
        return False
    inner = code[8:17]
    return organisation_code_check_char(inner[:8]) == inner[8]


@functools.lru_cache(maxsize=1 << 16)
def is_valid_resident_id(number: str) -> bool:
    """An 18-character GB 11643 number with a right check digit and a real birth date not in the future."""
    if not _RESIDENT_ID.fullmatch(number) or ric.calc_check_digit(number) != number[-1]:
        return False
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return born <= dt.date.today()


def _is_real_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


_TYPE_CHECKS: dict[str, tuple[Callable[[str], bool], str]] = {
    "Uscc": (is_valid_uscc, "统一社会信用代码校验位不正确"),
    "ResidentId": (is_valid_resident_id, "居民身份证号码校验位或出生日期不正确"),
    "Date": (_is_real_date, "日期不是真实存在的日期"),
}


def _field_problems(resource: str, data: dict[str, Any]) -> Iterator[str]:
    for field, kind in _typed_fields(resource).items():
        value = data.get(field)
        check, reason = _TYPE_CHECKS[kind]
        if isinstance(value, str) and not check(value):
            yield f"{field}：{reason}"


def _case_problems(data: dict[str, Any]) -> Iterator[str]:
    code = data["itemCode"]
    sxbm = code[len(ITEM_CODE_PREFIX) : -3]
    first, last = _CASE_PERMIT_TYPES
    if not (
        code.startswith(ITEM_CODE_PREFIX)
        and code.endswith("000")
        and sxbm in permit_type_codes()
        and first <= sxbm <= last
    ):
        yield "itemCode：事项编码不是本局0101–0502事项的编码"
    if data["status"] in ("05", "07") and data.get("finishDate") is None:
        yield "finishDate：办结或不予许可的办件须填写办结日期"
    if data["status"] == "05" and data.get("result") is None:
        yield "result：办结的办件须填写办理结果"


@functools.cache
def licence_type_codes() -> frozenset[str]:
    """The 18 GB/T 36904 licence type codes: the prefix and each type's number 001–018 in table order."""
    return frozenset(f"{LICENCE_TYPE_PREFIX}{n:03d}" for n in range(1, len(permit_type_codes()) + 1))


def _licence_problems(data: dict[str, Any]) -> Iterator[str]:
    match = _LICENCE_ID.fullmatch(data["licenceId"])
    if match is None or not mod_37_36.is_valid(
        match["type"] + match["issuer"] + match["serial"] + match["version"] + match["check"]
    ):
        yield "licenceId：电子证照标识校验位不正确"
    if data["licenceTypeCode"] not in licence_type_codes():
        yield "licenceTypeCode：证照类型代码不在约定的18类之中"
    if match is not None and (match["type"], match["issuer"]) != (
        data["licenceTypeCode"],
        data["issuerCode"],
    ):
        yield "licenceId：证照标识中的类型代码或颁发机构代码与对应字段不一致"
    holder = data["holderId"]
    if data["holderIdType"] == "01" and not is_valid_uscc(holder):
        yield "holderId：持证主体为单位时须为有效的统一社会信用代码"
    if data["holderIdType"] == "02" and not is_valid_resident_id(holder):
        yield "holderId：持证主体为个人时须为有效的居民身份证号码"
    valid_to = data.get("validTo")
    if valid_to is not None and _is_real_date(valid_to) and valid_to < data["validFrom"]:
        yield "validTo：有效期截止日期早于起始日期"


def _industry_problems(data: dict[str, Any]) -> Iterator[str]:
    for field, industries in INDUSTRY_ONLY.items():
        if data.get(field) is not None and data["hylx"] not in industries:
            yield f"{field}：该字段仅适用于{'、'.join(sorted(industries))}行业，本行业应为空"


def _declaration_problems(data: dict[str, Any]) -> Iterator[str]:
    for chemical in data["zywhp"]:
        if chemical.get("cas") is not None and not casrn.is_valid(chemical["cas"]):
            yield "zywhp.cas：CAS号校验位不正确"


_RESOURCE_CHECKS: dict[str, Callable[[dict[str, Any]], Iterator[str]]] = {
    "cases": _case_problems,
    "licences": _licence_problems,
    "industry_enterprises": _industry_problems,
    "integrity_declarations": _declaration_problems,
}


def _schema_problem(validator: Draft202012Validator, value: Any, whole: str) -> str | None:
    # The path and the failed keyword only: jsonschema's own messages repeat the value, maybe personal.
    if validator.is_valid(value):
        return None
    errors = sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.instance_path])
    if not errors:
        return None
    where = ".".join(str(p) for p in errors[0].instance_path) or whole
    return f"{where}：不符合接口规范（{errors[0].kind.name}）"


def check_record(resource: str, record: Any) -> None:
    """Check one pushed record of `resource`: schema (E1001), meaning (E1001), then digest (E1003).

    Raises:
        RecordRefused: on the first failed step, with the receiver's reason.
    """
    envelope = _schema_problem(record_envelope_validator(), record, "记录")
    if envelope:
        raise RecordRefused(SCHEMA_ERROR, envelope)
    data = record.get("data")
    if record["op"] == "D":
        if data is not None:
            raise RecordRefused(SCHEMA_ERROR, "删除记录不应携带数据")
    else:
        problem = _schema_problem(schema_validator(resource), data, "data")
        if problem:
            raise RecordRefused(SCHEMA_ERROR, problem)
        meaning = [
            *_field_problems(resource, data),
            *_RESOURCE_CHECKS.get(resource, lambda _: iter(()))(data),
        ]
        if meaning:
            raise RecordRefused(SCHEMA_ERROR, "；".join(meaning))
    if record["digest"] != record_digest(data):
        raise RecordRefused(DIGEST_MISMATCH, "摘要与数据不符")
