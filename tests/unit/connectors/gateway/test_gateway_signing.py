"""Token sign and request signature against HMAC-SM3 computed another way, and the exact string to sign."""

import hmac
import re

from cryptography.hazmat.primitives import hashes

from connectors.gateway import signing
from connectors.gateway.auth import token_request

# GB/T 32905 example 1 and SM3 of the empty string (published vectors).
SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
SM3_EMPTY = "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"
SECRET = "s3cret-密钥-0123456789"  # noqa: S105 - a test credential


class _Sm3:
    """cryptography's SM3 in the shape the standard library's hmac module takes as digestmod."""

    digest_size = 32
    block_size = 64

    def __init__(self, data: bytes = b"", state=None):
        self._h = state if state is not None else hashes.Hash(hashes.SM3())
        self._h.update(data)

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def digest(self) -> bytes:
        return self._h.copy().finalize()

    def hexdigest(self) -> str:
        return self.digest().hex()

    def copy(self) -> "_Sm3":
        return _Sm3(state=self._h.copy())


def reference_hmac(secret: str, message: str) -> str:
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), _Sm3).hexdigest()


def test_sm3_vectors_hold():
    assert _Sm3(b"abc").digest().hex() == SM3_ABC
    assert _Sm3().digest().hex() == SM3_EMPTY


def test_hmac_sm3_matches_the_standard_library_construction():
    for secret, message in [(SECRET, "abc"), ("k", ""), ("x" * 100, "长消息" * 50)]:
        assert signing.hmac_sm3_hex(secret, message) == reference_hmac(secret, message)
    assert signing.hmac_sm3_hex("a", "m") != signing.hmac_sm3_hex("b", "m")


def test_token_sign_is_over_key_timestamp_nonce():
    sign = signing.token_sign("app-1", SECRET, "1764381600000", "n" * 16)
    assert sign == reference_hmac(SECRET, "app-1" + "1764381600000" + "n" * 16)


def test_token_request_body():
    body = token_request("app-1", SECRET)
    assert re.fullmatch(r"[0-9]{13}", body["timestamp"])
    assert 16 <= len(body["nonce"]) <= 64
    assert body["sign"] == reference_hmac(SECRET, "app-1" + body["timestamp"] + body["nonce"])
    assert SECRET not in str(body)


def test_string_to_sign_exactly():
    body = b'{"batchId":"b1","records":[]}'
    body_sm3 = _Sm3(body).digest().hex()
    text = signing.string_to_sign(
        "post", "/api/v1/push/cases", "1764381600000", "abcdef0123456789", "req-1", body
    )
    assert text == f"POST\n/api/v1/push/cases\n1764381600000\nabcdef0123456789\nreq-1\n{body_sm3}"
    get = signing.string_to_sign("GET", "/api/v1/ledger/cases?page=2&pageSize=10", "1", "n", "r", b"")
    assert get == f"GET\n/api/v1/ledger/cases?page=2&pageSize=10\n1\nn\nr\n{SM3_EMPTY}"


def test_signed_headers_fresh_and_verifiable():
    body = signing.encode_body({"a": "中文", "b": 1})
    assert body == '{"a":"中文","b":1}'.encode()
    first = signing.signed_headers("app-1", SECRET, "tok", "POST", "/api/v1/push/cases", "req-1", body)
    second = signing.signed_headers("app-1", SECRET, "tok", "POST", "/api/v1/push/cases", "req-1", body)
    assert first["X-Nonce"] != second["X-Nonce"]
    assert first["Authorization"] == "Bearer tok" and first["X-App-Key"] == "app-1"
    assert first["X-Request-Id"] == "req-1"
    expected = "\n".join(
        [
            "POST",
            "/api/v1/push/cases",
            first["X-Timestamp"],
            first["X-Nonce"],
            "req-1",
            _Sm3(body).digest().hex(),
        ]
    )
    assert first["X-Signature"] == reference_hmac(SECRET, expected)
