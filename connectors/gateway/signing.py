"""HMAC-SM3 signatures of the gateway contract: the token sign and the per-request `X-Signature`."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac

from schemas.canonical import sm3_hex


def hmac_sm3_hex(secret: str, message: str) -> str:
    """Hex HMAC-SM3 of `message` (UTF-8) keyed by `secret` (UTF-8), as the contract defines both."""
    mac = hmac.HMAC(secret.encode("utf-8"), hashes.SM3())
    mac.update(message.encode("utf-8"))
    return mac.finalize().hex()


def timestamp_ms() -> str:
    """The current time in milliseconds since the epoch, 13 digits, as `timestamp` and `X-Timestamp` take it."""
    return str(time.time_ns() // 1_000_000)


def new_nonce() -> str:
    """A fresh nonce (32 hex characters): the receiver refuses one seen within ten minutes."""
    return secrets.token_hex(16)


def token_sign(app_key: str, app_secret: str, timestamp: str, nonce: str) -> str:
    """`sign` of `POST /auth/token`: hex HMAC-SM3(appSecret, appKey + timestamp + nonce)."""
    return hmac_sm3_hex(app_secret, f"{app_key}{timestamp}{nonce}")


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, request_id: str, body: bytes) -> str:
    """Method, path (with its query as sent), X-Timestamp, X-Nonce, X-Request-Id, hex SM3 of the body; one a line."""
    return "\n".join([method.upper(), path, timestamp, nonce, request_id, sm3_hex(body)])


def request_signature(
    app_secret: str, method: str, path: str, timestamp: str, nonce: str, request_id: str, body: bytes
) -> str:
    """`X-Signature` of one request."""
    return hmac_sm3_hex(app_secret, string_to_sign(method, path, timestamp, nonce, request_id, body))


def signed_headers(
    app_key: str, app_secret: str, token: str, method: str, path: str, request_id: str, body: bytes
) -> dict[str, str]:
    """Every header a gateway call carries, with a fresh timestamp and nonce."""
    timestamp, nonce = timestamp_ms(), new_nonce()
    return {
        "Authorization": f"Bearer {token}",
        "X-App-Key": app_key,
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Request-Id": request_id,
        "X-Signature": request_signature(app_secret, method, path, timestamp, nonce, request_id, body),
    }


def encode_body(body: Any) -> bytes:
    """The exact bytes sent (and signed, and counted against the 2 MiB limit): compact UTF-8 JSON."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
