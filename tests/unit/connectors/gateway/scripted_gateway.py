"""A real HTTP server on 127.0.0.1 that answers gateway calls from a script and records what it received."""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from connectors.gateway.signing import request_signature, token_sign

APP_KEY = "app-sdx-test"
SECRET = "secret-sdx-测试-4f1c9a"  # noqa: S105 - a test credential, to prove it never leaks
PREFIXES = {"token": "/auth/token", "push": "/api/v1/push/", "ledger": "/api/v1/ledger/"}


@dataclass
class Seen:
    """One request as the server received it."""

    at: float
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    """A scripted answer: a JSON body with status and headers, or a dropped connection, optionally late."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0


def _kind(path: str) -> str:
    return next(k for k, prefix in PREFIXES.items() if path.startswith(prefix))


def envelope(code: str = "0", data: Any = None, message: str = "ok") -> dict[str, Any]:
    return {"code": code, "message": message, "data": data}


class ScriptedGateway:
    """Checks signatures like a receiver; answers from `script[kind]` first, then as a healthy receiver."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.seen: list[Seen] = []
        self.script: dict[str, deque[Answer]] = {"token": deque(), "push": deque(), "ledger": deque()}
        self.tokens: list[str] = []
        self.bad_signatures = 0
        self.lock = threading.Lock()
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def of(self, kind: str) -> list[Seen]:
        return [s for s in self.seen if _kind(s.path) == kind]

    def answer(self, seen: Seen) -> Answer:
        kind = _kind(seen.path)
        with self.lock:
            scripted = self.script[kind].popleft() if self.script[kind] else None
        if kind == "token":
            return scripted or self._token(seen)
        problem = self._check_signature(seen)
        if problem:
            return problem
        if scripted:
            return scripted
        if kind == "push":
            ids = [r["recordId"] for r in seen.json()["records"]]
            batch = seen.json()["batchId"]
            return Answer(
                body=envelope(data={"batchId": batch, "receiptId": "rc-1", "accepted": ids, "rejected": []})
            )
        return Answer(body=envelope(data={"live": 0, "deleted": 0, "digest": "0" * 64}))

    def _token(self, seen: Seen) -> Answer:
        body = seen.json()
        if body["sign"] != token_sign(body["appKey"], SECRET, body["timestamp"], body["nonce"]):
            return Answer(401, envelope("40102", message="bad signature"))
        with self.lock:
            self.tokens.append(f"tok-{len(self.tokens) + 1}-9d8e7f")
            token = self.tokens[-1]
        return Answer(body=envelope(data={"accessToken": token, "expiresIn": 7200}))

    def _check_signature(self, seen: Seen) -> Answer | None:
        h = seen.headers
        expected = request_signature(
            SECRET, seen.method, seen.path, h["X-Timestamp"], h["X-Nonce"], h["X-Request-Id"], seen.body
        )
        if h.get("X-Signature") != expected or h.get("X-App-Key") != APP_KEY:
            self.bad_signatures += 1
            return Answer(401, envelope("40102", message="bad signature"))
        if h.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return Answer(401, envelope("40101", message="token expired"))
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(
                    time.monotonic(), self.command, self.path, dict(self.headers), self.rfile.read(length)
                )
                with gateway.lock:
                    gateway.seen.append(seen)
                answer = gateway.answer(seen)
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.drop:
                    self.close_connection = True
                    return
                payload = json.dumps(answer.body, ensure_ascii=False).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up waiting (timeout tests)
                    self.wfile.write(payload)

            do_GET = do_POST = _serve

        return Handler
