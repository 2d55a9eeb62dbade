"""The gateway stand-in as an ASGI application: the contract's auth, push, idempotency and ledger rules.

One application serves the three receivers. Each is reachable under its own prefix (`/service_network/...`,
`/province_supervision/...`, `/province_hazchem/...`) and holds only its resources there (40400 for the
others); without a prefix the contract paths serve every resource, each kept in its own receiver's ledger.
The signed PATH is the path exactly as sent, prefix and query included.
"""

from __future__ import annotations

import datetime as dt
import hmac as std_hmac
import json
import math
import re
import secrets
import sqlite3
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from jsonschema_rs import Draft202012Validator

from sandbox.gateway import contract as c
from sandbox.gateway.faults import FaultPlan
from sandbox.gateway.records import SEQ_CONFLICT, RecordRefused, check_record
from sandbox.gateway.store import GatewayStore, HeldRecord, StoredAnswer
from schemas.canonical import sm3_hex

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# Codes of the request itself whose answers are stored for replay (contracts/README.md section 4).
_STORED_REFUSALS = {"40000", "40400", "41300"}
_TIMESTAMP = re.compile(r"[0-9]{13}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_RESOURCE_PATHS = {
    ("POST", "push"): re.compile(r"/api/v1/push/(?P<resource>[^/]+)"),
    ("GET", "summary"): re.compile(r"/api/v1/ledger/(?P<resource>[^/]+)/summary"),
    ("GET", "page"): re.compile(r"/api/v1/ledger/(?P<resource>[^/]+)"),
}


def hmac_sm3_hex(secret: str, message: str) -> str:
    """Hex HMAC-SM3 keyed by the app secret's UTF-8 bytes, as the contract signs tokens and requests."""
    mac = hmac.HMAC(secret.encode("utf-8"), hashes.SM3())
    mac.update(message.encode("utf-8"))
    return mac.finalize().hex()


def split_receiver(path: str) -> tuple[str | None, str]:
    """(receiver prefix or None, the contract path below it)."""
    first, _, rest = path.lstrip("/").partition("/")
    if first in c.RECEIVERS:
        return first, "/" + rest
    return None, path


def envelope(code: str, message: str, data: Any = None, status: int = 200) -> JSONResponse:
    """The contract's answer: `{code, message, data}`."""
    body: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        body["data"] = data
    return JSONResponse(body, status_code=status)


def refusal_response(refusal: c.Refusal) -> JSONResponse:
    """The answer to a refused request."""
    return envelope(refusal.code, refusal.message, status=refusal.status)


class RateLimiter:
    """At most `rate` granted requests in any one-second window per key (a sliding log)."""

    def __init__(self) -> None:
        self._granted: dict[tuple[str, str], deque[float]] = {}

    def retry_after(self, key: tuple[str, str], rate: float, now: float) -> int | None:
        """None when the request is granted (and counted); otherwise the seconds to wait."""
        log = self._granted.setdefault(key, deque())
        while log and log[0] <= now - 1.0:
            log.popleft()
        if len(log) < max(1, int(rate)):
            log.append(now)
            return None
        return max(1, math.ceil(log[0] + 1.0 - now))


@dataclass
class GatewayState:
    """Everything the running stand-in holds: apps, store, token life, rates and the fault plan."""

    store: GatewayStore
    apps: dict[str, str]
    expires_in: int = c.DEFAULT_EXPIRES_IN
    rates: dict[str, float] = field(default_factory=c.production_rates)
    faults: FaultPlan = field(default_factory=FaultPlan)
    clock: Callable[[], float] = time.time
    limiter: RateLimiter = field(default_factory=RateLimiter)

    def rate_limit(self, app_key: str, receiver: str | None) -> None:
        """Refuse with 429 42900 beyond the receiver's rate for this app key (tokens: the highest rate)."""
        rate = self.rates[receiver] if receiver else max(self.rates.values())
        wait = self.limiter.retry_after((app_key, receiver or "auth"), rate, self.clock())
        if wait is not None:
            raise RateLimited(wait)

    def check_clock_and_nonce(
        self, app_key: str, timestamp: str, nonce: str, check_sign: Callable[[], bool]
    ) -> None:
        """Clock window (40103), signature (40102), then nonce (40104): a forged call cannot burn a nonce."""
        now = self.clock()
        if abs(now * 1000 - int(timestamp)) > c.CLOCK_WINDOW_MS:
            raise c.Refusal(401, "40103", "时间戳超出允许的偏差（±300秒）")
        if not check_sign():
            raise c.Refusal(401, "40102", "签名不正确")
        if not self.store.use_nonce(app_key, nonce, now, c.NONCE_WINDOW_S):
            raise c.Refusal(401, "40104", "随机数在10分钟内已使用过")


class RateLimited(Exception):
    """429 42900 with `Retry-After`."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def rate_limited_response(seconds: int) -> JSONResponse:
    """The contract's 429."""
    answer = envelope("42900", "请求过于频繁，请稍后重试", status=429)
    answer.headers["Retry-After"] = str(seconds)
    return answer


def _is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type == "application/json"


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise c.Refusal(400, "40000", "请求体不是有效的UTF-8 JSON") from None


def _sent_path(request: Request) -> str:
    raw = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    return raw.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")


@dataclass(frozen=True)
class Caller:
    """An authenticated call: whose, and under which request id."""

    app_key: str
    request_id: str


def _token_validator() -> Draft202012Validator:
    body = c.gateway_contract()["paths"]["/auth/token"]["post"]["requestBody"]
    return Draft202012Validator(body["content"]["application/json"]["schema"])


async def issue_token(state: GatewayState, request: Request, receiver: str | None) -> Response:
    """`POST /auth/token`: sign over appKey + timestamp + nonce; unknown app key → 40102."""
    if not _is_json(request):
        raise c.Refusal(400, "40000", "Content-Type须为application/json")
    body = _parse_json(await request.body())
    if not _token_validator().is_valid(body):
        raise c.Refusal(400, "40000", "获取令牌的请求体缺少字段或格式不正确")
    app_key = body["appKey"]
    state.rate_limit(app_key, receiver)
    secret = state.apps.get(app_key)
    if secret is None:
        raise c.Refusal(401, "40102", "应用标识未登记")

    def sign_ok() -> bool:
        expected = hmac_sm3_hex(secret, f"{app_key}{body['timestamp']}{body['nonce']}")
        return std_hmac.compare_digest(expected, body["sign"])

    state.check_clock_and_nonce(app_key, body["timestamp"], body["nonce"], sign_ok)
    token = secrets.token_hex(24)
    state.store.add_token(token, app_key, receiver or "", state.clock() + state.expires_in)
    return envelope("0", "成功", {"accessToken": token, "expiresIn": state.expires_in})


def authenticate(state: GatewayState, request: Request, receiver: str | None, body_sm3: str) -> Caller:
    """Every call's headers: Bearer token, app key, clock window, signature, nonce (`body_sm3`: hex SM3 of the body)."""
    headers = request.headers
    names = ("authorization", "x-app-key", "x-timestamp", "x-nonce", "x-request-id", "x-signature")
    values = [headers.get(name, "") for name in names]
    authorization, app_key, timestamp, nonce, request_id, signature = values
    scheme, _, token = authorization.partition(" ")
    if not (
        all(values)
        and scheme == "Bearer"
        and token
        and _TIMESTAMP.fullmatch(timestamp)
        and 16 <= len(nonce) <= 64
        and len(request_id) <= 64
        and _SIGNATURE.fullmatch(signature)
    ):
        raise c.Refusal(400, "40000", "请求头缺失或格式不正确")
    state.rate_limit(app_key, receiver)
    secret = state.apps.get(app_key)
    held = state.store.token(token)
    if secret is None or held is None:
        raise c.Refusal(401, "40101", "令牌无效或应用标识未登记")
    owner, scope, expires_at = held
    if owner != app_key or (scope and scope != receiver) or expires_at <= state.clock():
        raise c.Refusal(401, "40101", "令牌已过期或无效")

    def sign_ok() -> bool:
        lines = [request.method, _sent_path(request), timestamp, nonce, request_id, body_sm3]
        return std_hmac.compare_digest(hmac_sm3_hex(secret, "\n".join(lines)), signature)

    state.check_clock_and_nonce(app_key, timestamp, nonce, sign_ok)
    return Caller(app_key, request_id)


def _resource_receiver(prefix: str | None, resource: str) -> str:
    receiver = c.receiver_of(resource)
    if receiver is None or (prefix is not None and prefix != receiver):
        raise c.Refusal(404, "40400", f"本平台不接收资源{resource}")
    return receiver


def _push_records(body: bytes) -> tuple[str, list[Any]]:
    if len(body) > c.MAX_BODY_BYTES:
        raise c.Refusal(413, "41300", "请求体超过2 MiB")
    payload = _parse_json(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("records"), list):
        raise c.Refusal(400, "40000", "请求体须含batchId与records")
    batch_id = payload.get("batchId")
    if not isinstance(batch_id, str) or len(batch_id) > 64:
        raise c.Refusal(400, "40000", "batchId缺失或超过64个字符")
    records = payload["records"]
    if not records:
        raise c.Refusal(400, "40000", "一批至少一条记录")
    if len(records) > c.MAX_RECORDS:
        raise c.Refusal(413, "41300", "一批最多500条记录")
    return batch_id, records


def _apply(
    conn: sqlite3.Connection, received_at: str, receiver: str, resource: str, records: list[Any]
) -> tuple[list[str], list[Any]]:
    accepted: list[str] = []
    rejected: list[dict[str, str]] = []
    for record in records:
        record_id = record.get("recordId") if isinstance(record, dict) else None
        record_id = record_id if isinstance(record_id, str) else ""
        try:
            check_record(resource, record)
            held = GatewayStore.held(conn, receiver, resource, record_id)
            if held is not None and held[0] == record["seq"] and held[1] != record["digest"]:
                raise RecordRefused(SEQ_CONFLICT, "序号与已接收版本相同但摘要不同")
        except RecordRefused as refused:
            rejected.append({"recordId": record_id, "errorCode": refused.code, "reason": refused.reason})
            continue
        if held is None or record["seq"] > held[0]:
            version = HeldRecord(
                record_id, record["seq"], record["op"], record["digest"], received_at, record.get("data")
            )
            GatewayStore.put(conn, receiver, resource, version)
        accepted.append(record_id)
    return accepted, rejected


async def push(state: GatewayState, request: Request, prefix: str | None, resource: str) -> Response:
    """`POST /api/v1/push/{resource}`: idempotent by request id; records checked and applied in order."""
    body = await request.body()
    body_sm3 = sm3_hex(body)  # once for the signature and the fingerprint: a full batch is up to 2 MiB
    caller = authenticate(state, request, prefix, body_sm3)
    now = state.clock()
    receiver = c.receiver_of(resource)
    key = (prefix or receiver or "", caller.app_key, caller.request_id)
    fingerprint = sm3_hex("\n".join(["POST", _sent_path(request), body_sm3]).encode("utf-8"))
    stored = state.store.answer(*key, now, c.IDEMPOTENCY_WINDOW_S)
    if stored is not None:
        if stored.fingerprint != fingerprint:
            raise c.Refusal(409, "40901", "请求标识已用于另一个请求")
        return JSONResponse(stored.body, status_code=stored.status)
    try:
        if not _is_json(request):
            raise c.Refusal(400, "40000", "Content-Type须为application/json")
        receiver = _resource_receiver(prefix, resource)
        batch_id, records = _push_records(body)
    except c.Refusal as refusal:
        if refusal.code in _STORED_REFUSALS:
            with state.store.transaction() as conn:
                refused = {"code": refusal.code, "message": refusal.message}
                GatewayStore.store_answer(conn, key, StoredAnswer(fingerprint, refusal.status, refused), now)
        raise
    received_at = dt.datetime.fromtimestamp(now, SHANGHAI).isoformat(timespec="seconds")
    with state.store.transaction() as conn:
        accepted, rejected = _apply(conn, received_at, receiver, resource, records)
        result = {
            "batchId": batch_id,
            "receiptId": uuid.uuid4().hex,
            "accepted": accepted,
            "rejected": rejected,
        }
        answer: dict[str, Any] = {"code": "0", "message": "成功", "data": result}
        GatewayStore.store_answer(conn, key, StoredAnswer(fingerprint, 200, answer), now)
    return JSONResponse(answer)


async def ledger_summary(
    state: GatewayState, request: Request, prefix: str | None, resource: str
) -> Response:
    """`GET /api/v1/ledger/{resource}/summary`."""
    authenticate(state, request, prefix, sm3_hex(await request.body()))
    receiver = _resource_receiver(prefix, resource)
    return envelope("0", "成功", state.store.summary(receiver, resource))


def _positive_int(request: Request, name: str, default: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise c.Refusal(400, "40000", f"{name}须为1至{maximum}之间的整数")
    return int(raw)


async def ledger_page(state: GatewayState, request: Request, prefix: str | None, resource: str) -> Response:
    """`GET /api/v1/ledger/{resource}?page=&pageSize=`: records in UTF-8 byte order of recordId."""
    authenticate(state, request, prefix, sm3_hex(await request.body()))
    receiver = _resource_receiver(prefix, resource)
    page = _positive_int(request, "page", 1, 10**9)
    size = _positive_int(request, "pageSize", 1000, 5000)
    held = state.store.records(receiver, resource, (page - 1) * size, size)
    total = state.store.total(receiver, resource)
    records = [
        {"recordId": r.record_id, "seq": r.seq, "op": r.op, "digest": r.digest, "receivedAt": r.received_at}
        for r in held
    ]
    return envelope("0", "成功", {"total": total, "records": records})


Handler = Callable[[GatewayState, Request, "str | None", str], Awaitable[Response]]
_HANDLERS: dict[str, Handler] = {"push": push, "summary": ledger_summary, "page": ledger_page}


async def dispatch(state: GatewayState, request: Request) -> Response:
    """Route a contract call (with or without a receiver prefix) and turn refusals into answers."""
    prefix, path = split_receiver(request.url.path)
    try:
        if path == "/auth/token" and request.method == "POST":
            return await issue_token(state, request, prefix)
        for (method, name), pattern in _RESOURCE_PATHS.items():
            match = pattern.fullmatch(path)
            if match and method == request.method:
                return await _HANDLERS[name](state, request, prefix, match["resource"])
        raise c.Refusal(404, "40400", "接口不存在")
    except c.Refusal as refusal:
        return refusal_response(refusal)
    except RateLimited as limited:
        return rate_limited_response(limited.seconds)


def create_app(state: GatewayState) -> FastAPI:
    """The stand-in: admin endpoints under `/_` (not part of the contract), everything else by `dispatch`."""
    app = FastAPI(title="gateway stand-in", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.gateway = state

    @app.get("/_health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "receivers": list(c.RECEIVERS)}

    @app.get("/_faults")
    async def show_faults() -> dict[str, Any]:
        return state.faults.to_json()

    @app.post("/_faults")
    async def set_faults(request: Request) -> Response:
        try:
            state.faults = FaultPlan.from_json(json.loads(await request.body() or b"{}"))
        except (ValueError, TypeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse(state.faults.to_json())

    @app.delete("/_faults")
    async def clear_faults() -> dict[str, Any]:
        state.faults = FaultPlan()
        return state.faults.to_json()

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def contract_call(request: Request) -> Response:
        return await dispatch(state, request)

    return app


def load_fault_plan(path: str | Path | None) -> FaultPlan:
    """The fault plan of a JSON file (no file: no faults)."""
    if path is None:
        return FaultPlan()
    return FaultPlan.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
