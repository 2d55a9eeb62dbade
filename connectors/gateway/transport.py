"""Signed, rate-limited, retrying HTTP calls to one gateway receiver (requests.Session underneath)."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from connectors.gateway.auth import TOKEN_PATH, Token, TokenCache, parse_token, token_request
from connectors.gateway.signing import encode_body, signed_headers

log = logging.getLogger(__name__)

# What each refusal means for whoever reads the error: the contract's codes, in words that say what to fix.
REFUSALS = {
    "40000": "the receiver found a header or the body missing or malformed",
    "40101": "the receiver refused the token again after renewal",
    "40102": "bad signature: the connection's app key or app secret does not match the receiver's",
    "40103": "clock skew: this machine's clock is more than 300 s away from the receiver's",
    "40104": "nonce reused: the receiver saw this nonce within the last 10 minutes",
    "40400": "the receiver does not hold this resource",
    "40901": "request id reused with another body: the batch was rebuilt differently under the same id",
    "41300": "batch too large: more than 500 records or more than 2 MiB",
}
TOKEN_EXPIRED = "40101"  # noqa: S105 - an answer code, not a credential
BUSY = "50001"
RATE_LIMITED = 429
# A dropped or cut-off connection, or no answer in time: the call may or may not have been applied, and the
# same request id makes sending it again safe.
TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


class GatewayError(Exception):
    """A gateway call that did not succeed; the message names receiver, call and request id, never credentials."""

    def __init__(self, message: str, *, code: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class GatewayRefused(GatewayError):
    """The receiver refused the request itself (a client error): sending it again would not help."""


class TokenExpired(GatewayRefused):
    """401 `40101`: the token ended; a new one is fetched and the call sent again."""


class GatewayUnavailable(GatewayError):
    """Every attempt failed transiently (connection, timeout, 5xx, 429, 50001)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait: exponential backoff with full jitter, `Retry-After` capped."""

    attempts: int = 8
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 120.0

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (0-based)."""
        # Full jitter: clients that failed together do not come back together.
        return random.uniform(0, min(self.cap, self.base * 2**attempt))  # noqa: S311 - timing, not secrecy


# The receiver counts a request when it reads it, in any one-second window: requests sent exactly 1/rate
# apart are refused (429, Retry-After at least 1 s) whenever one arrives later than the one `rate` before
# it, as network and a busy receiver make them do. Spacing them so that `rate` intervals span this much
# more than a second absorbs that delay, for 2.4 % of the rate.
ARRIVAL_ALLOWANCE = 0.05


class RateLimiter:
    """At most `rate` requests per second, evenly spaced, shared by every thread of one receiver.

    `allowance` seconds are added to every `rate` intervals (see ARRIVAL_ALLOWANCE).
    """

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        allowance: float = 0.0,
    ) -> None:
        if rate <= 0:
            raise ValueError("a rate limit must be a positive number of requests per second")
        self.interval = (1.0 + allowance) / rate
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait for this request's slot."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)


_limiters: dict[tuple[str, float], RateLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(receiver: str, rate: float) -> RateLimiter:
    """The process-wide limiter of `receiver`: every hook on the same connection shares the granted rate."""
    with _limiters_lock:
        return _limiters.setdefault((receiver, rate), RateLimiter(rate, allowance=ARRIVAL_ALLOWANCE))


def _retry_after(response: requests.Response, policy: RetryPolicy, attempt: int) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return policy.backoff(attempt)
    return min(max(seconds, 0.0), policy.max_retry_after)


def _envelope(response: requests.Response) -> tuple[str, str, Any]:
    try:
        body = response.json()
    except ValueError:
        return "", "", None
    if not isinstance(body, dict):
        return "", "", None
    return str(body.get("code", "")), str(body.get("message", "")), body.get("data")


class Transport:
    """Calls to one receiver: each signed afresh, spaced by the receiver's limiter, retried when transient."""

    def __init__(
        self,
        receiver: str,
        base_url: str,
        app_key: str,
        app_secret: str,
        *,
        limiter: RateLimiter,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        verify: bool | str = True,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.receiver = receiver
        self.base_url = base_url.rstrip("/")
        # The signed PATH is the path as sent: a base URL with a path (a receiver's prefix) signs it too.
        self._base_path = urlsplit(self.base_url).path
        self._app_key = app_key
        self._app_secret = app_secret
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.session = session or requests.Session()
        # TLS verification stays on; a CA bundle path replaces the system's store (the receivers' own CA).
        # Passed with every request, so that REQUESTS_CA_BUNDLE in the environment cannot override it.
        self.verify = verify
        self._sleep = sleep
        self.tokens = TokenCache(self._fetch_token)
        self._last_token = ""

    def call(
        self,
        method: str,
        path: str,
        *,
        request_id: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
    ) -> Any:
        """The `data` of the receiver's successful answer to one signed call; GatewayError otherwise.

        `body` is sent as `encode_body` makes it, or as is when it is bytes it already made.
        """
        target = f"{path}?{urlencode(query)}" if query else path
        payload = b"" if body is None else body if isinstance(body, bytes) else encode_body(body)
        # A token can end early at any time (the gateway's own restarts): renewed as often as a call is retried.
        renewals = max(1, self.retry.attempts)
        for renewal in range(renewals):
            token = self.tokens.get()
            self._last_token = token
            try:
                return self._exchange(method, target, payload, request_id, token)
            except TokenExpired:
                if renewal == renewals - 1:
                    raise
                log.info("%s: token expired (40101), fetching a new one", self.receiver)
                self.tokens.invalidate(token)
        raise AssertionError("unreachable")  # pragma: no cover

    def _fetch_token(self) -> Token:
        # Each attempt signs anew: a retried token request must not reuse its nonce (40104).
        data = self._exchange(
            "POST",
            TOKEN_PATH,
            b"",
            "",
            None,
            lambda: encode_body(token_request(self._app_key, self._app_secret)),
        )
        try:
            return parse_token(data, time.monotonic())
        except ValueError as exc:
            raise GatewayRefused(f"{self.receiver}: {exc}") from None

    def _exchange(
        self,
        method: str,
        target: str,
        payload: bytes,
        request_id: str,
        token: str | None,
        fresh_payload: Callable[[], bytes] | None = None,
    ) -> Any:
        where = f"{self.receiver} {method} {target}" + (f" (request {request_id})" if request_id else "")
        reason = ""
        for attempt in range(self.retry.attempts):
            self.limiter.acquire()
            if fresh_payload is not None:
                payload = fresh_payload()
            headers = {"Content-Type": "application/json"} if method == "POST" else {}
            if token is not None:
                headers |= signed_headers(
                    self._app_key,
                    self._app_secret,
                    token,
                    method,
                    self._base_path + target,
                    request_id,
                    payload,
                )
            try:
                response = self.session.request(
                    method,
                    self.base_url + target,
                    data=payload or None,
                    headers=headers,
                    timeout=self.timeout,
                    verify=self.verify,
                    allow_redirects=False,
                )
            except requests.exceptions.SSLError:
                # Not transient: the receiver's certificate is not trusted, and waiting will not change that.
                raise GatewayRefused(
                    f"{where}: TLS verification failed: the receiver's certificate is not signed by a trusted CA "
                    "(set `ca_bundle` in the connection extra to the receiver's CA certificates)"
                ) from None
            except TRANSIENT_ERRORS as exc:
                reason, wait = f"{type(exc).__name__}", self.retry.backoff(attempt)
            else:
                code, message, data = _envelope(response)
                if response.status_code == 200 and code == "0":
                    return data
                reason, wait = self._transient(where, response, code, message, attempt, token is not None)
            if attempt + 1 < self.retry.attempts:
                log.warning("%s: %s; attempt %d, next in %.2f s", where, reason, attempt + 1, wait)
                self._sleep(wait)
        raise GatewayUnavailable(f"{where}: gave up after {self.retry.attempts} attempts, last: {reason}")

    def _transient(
        self, where: str, response: requests.Response, code: str, message: str, attempt: int, signed: bool
    ) -> tuple[str, float]:
        """Why the attempt failed and how long to wait before the next; raises when retrying cannot help."""
        status = response.status_code
        if status == RATE_LIMITED:
            return "429 rate limited", _retry_after(response, self.retry, attempt)
        if status >= 500:
            return f"HTTP {status}", self.retry.backoff(attempt)
        if status == 200 and code == BUSY:
            return "busy (50001)", self.retry.backoff(attempt)
        if status == 200 and not code:
            # An answer cut short: as unknown as a dropped connection, and as safe to send again.
            return "unreadable answer", self.retry.backoff(attempt)
        if code == TOKEN_EXPIRED and signed:
            raise TokenExpired(f"{where}: token expired", code=code, status=status)
        raise self._refusal(where, status, code, message)

    def _refusal(self, where: str, status: int, code: str, message: str) -> GatewayRefused:
        meaning = REFUSALS.get(code, "the receiver refused the request")
        text = f"{where}: HTTP {status}, code {code or 'none'}: {meaning}"
        if message:
            text += f" (receiver says: {self._scrub(message[:200])})"
        return GatewayRefused(text, code=code, status=status)

    def _scrub(self, text: str) -> str:
        # The receiver's own words are quoted, but never with a credential in them.
        for secret in (self._app_secret, self._last_token):
            if secret:
                text = text.replace(secret, "***")
        return text

    def close(self) -> None:
        """Close the session's pooled connections."""
        self.session.close()
