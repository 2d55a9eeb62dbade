"""Canonical JSON and SM3 digests, exactly as the receivers' contracts define them."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes

# Copied for each digest: cheaper than setting up a new one (a digest is taken per record, every night).
_SM3 = hashes.Hash(hashes.SM3())


def sm3_hex(data: bytes) -> str:
    """SM3 (GB/T 32905) of `data`, lower-case hex."""
    digest = _SM3.copy()
    digest.update(data)
    return digest.finalize().hex()


def _canonical_value(value: Any) -> Any:
    # Contract: whole numbers are integers ("120.0" → 120), other numbers repr(float), dates YYYY-MM-DD.
    if value is None or type(value) is str or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() else value
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        raise TypeError("timestamps are not data values: send a string with its offset")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _canonical_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical_value(v) for v in value]
    if hasattr(value, "item"):  # numpy / pandas scalars
        return _canonical_value(value.item())
    raise TypeError(f"no canonical JSON form for {type(value).__name__}")


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def canonical_json(data: Any) -> bytes:
    """UTF-8 canonical JSON: keys sorted by code point, no spaces, non-ASCII as is, `null` kept."""
    return _ENCODER.encode(_canonical_value(data)).encode("utf-8")


def record_digest(data: Mapping[str, Any] | None) -> str:
    """The digest of one record's data; a delete's data is null, so its digest is SM3 of `null`."""
    return sm3_hex(canonical_json(data))


def sorted_lines_digest(pairs: Iterable[tuple[str, str]]) -> str:
    """SM3 over `id:digest` lines sorted by id in UTF-8 byte order, joined by newlines, no trailing one."""
    lines = sorted(pairs, key=lambda p: p[0].encode("utf-8"))
    return sm3_hex("\n".join(f"{rid}:{digest}" for rid, digest in lines).encode("utf-8"))
