"""The gateway token: fetched with the HMAC-SM3 sign, kept until shortly before it expires, renewed on 40101."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.gateway.signing import new_nonce, timestamp_ms, token_sign

TOKEN_PATH = "/auth/token"  # noqa: S105 - a path, not a credential
# Renew this long before the stated expiry, so a token never runs out between check and use.
EXPIRY_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class Token:
    """An access token and the monotonic time after which it is not used any more."""

    value: str
    renew_at: float

    def __repr__(self) -> str:
        # The token is a credential: it never appears in a log line or a traceback.
        return f"Token(renew_at={self.renew_at:.0f})"


def token_request(app_key: str, app_secret: str) -> dict[str, str]:
    """The body of `POST /auth/token`, with a fresh timestamp and nonce."""
    timestamp, nonce = timestamp_ms(), new_nonce()
    return {
        "appKey": app_key,
        "timestamp": timestamp,
        "nonce": nonce,
        "sign": token_sign(app_key, app_secret, timestamp, nonce),
    }


def parse_token(data: Any, now: float) -> Token:
    """The token in the `data` of a successful token answer; ValueError when it is not there."""
    if not isinstance(data, dict) or not isinstance(data.get("accessToken"), str):
        raise ValueError("the token answer has no data.accessToken")
    expires_in = data.get("expiresIn")
    if not isinstance(expires_in, int) or isinstance(expires_in, bool):
        raise ValueError("the token answer has no integer data.expiresIn")
    margin = min(EXPIRY_MARGIN_SECONDS, expires_in / 2)
    return Token(value=data["accessToken"], renew_at=now + expires_in - margin)


class TokenCache:
    """One token per receiver connection, fetched on first use and again when expired or refused."""

    def __init__(self, fetch: Callable[[], Token], clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._token: Token | None = None
        self._lock = threading.Lock()

    def get(self) -> str:
        """A token that has not reached its renewal time, fetched if needed."""
        with self._lock:
            if self._token is None or self._clock() >= self._token.renew_at:
                self._token = self._fetch()
            return self._token.value

    def invalidate(self, refused: str) -> None:
        """Forget `refused` (the receiver answered 40101 to it); a token fetched meanwhile is kept."""
        with self._lock:
            if self._token is not None and self._token.value == refused:
                self._token = None
