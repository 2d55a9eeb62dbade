"""Running the stand-in: faults wrapped around the application, uvicorn in a thread (tests) or in front (CLI)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from sandbox.gateway.app import GatewayState, create_app, split_receiver
from sandbox.gateway.faults import Fault, FaultPlan
from sandbox.gateway.store import GatewayStore

Scope = dict[str, Any]
Message = dict[str, Any]


async def _answer(
    send: Any, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None
) -> None:
    content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": content})


async def _drop(send: Any) -> None:
    # ASGI has no way to close a connection without an answer; uvicorn's `send` is a method of the
    # request cycle that holds the transport, so close that, then yield so uvicorn notices the loss
    # and does not write its own 500 on the closed connection.
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("this server does not expose its connection: cannot drop it")
    transport.close()
    for _ in range(3):
        await asyncio.sleep(0)


class FaultInjector:
    """ASGI wrapper that answers, delays or drops contract calls as the fault plan in force says."""

    def __init__(self, app: Any, state: GatewayState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Draw a fault for contract calls (never for the `/_` admin endpoints) and act on it."""
        if scope["type"] != "http" or scope["path"].startswith("/_"):
            await self.app(scope, receive, send)
            return
        fault = self.state.faults.draw(split_receiver(scope["path"])[1])
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind in ("error_after", "drop_after"):
            await self._after(fault, scope, receive, send)
        else:
            await self._before(fault, scope, receive, send)

    async def _after(self, fault: Fault, scope: Scope, receive: Any, send: Any) -> None:
        async def swallow(message: Message) -> None:
            return None

        await self.app(scope, receive, swallow)
        if fault.kind == "drop_after":
            await _drop(send)
        else:
            await _answer(send, fault.status, None)

    async def _before(self, fault: Fault, scope: Scope, receive: Any, send: Any) -> None:
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            await self.app(scope, receive, send)
        elif fault.kind == "drop_before":
            await _drop(send)
        elif fault.kind == "error_before":
            await _answer(send, fault.status, None)
        elif fault.kind == "busy":
            await _answer(send, 200, {"code": "50001", "message": "系统繁忙，请稍后重试"})
        elif fault.kind == "rate_limit":
            body = {"code": "42900", "message": "请求过于频繁，请稍后重试"}
            await _answer(send, 429, body, {"Retry-After": str(fault.retry_after)})
        elif fault.kind == "token_expiry":
            headers = dict(scope.get("headers", []))
            scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
            if scheme == "Bearer" and token:
                self.state.store.end_token(token)
            await _answer(send, 401, {"code": "40101", "message": "令牌已过期"})


def build_state(
    store: str | Path,
    apps: dict[str, str],
    *,
    faults: FaultPlan | None = None,
    expires_in: int | None = None,
    rates: dict[str, float] | None = None,
) -> GatewayState:
    """The stand-in's state over the store file `store` (created when missing, kept when present)."""
    state = GatewayState(store=GatewayStore(store), apps=dict(apps), faults=faults or FaultPlan())
    if expires_in is not None:
        state.expires_in = expires_in
    if rates:
        state.rates.update(rates)
    return state


def _listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


class GatewayServer:
    """The stand-in on a port of its own, served by uvicorn in a background thread until `stop()`.

    Port 0 takes a free port; `url` tells which. Usable as a context manager.
    """

    def __init__(self, state: GatewayState, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state
        self._socket = _listening_socket(host, port)
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            FaultInjector(create_app(state), state),
            log_level="warning",
            lifespan="off",
            access_log=False,
            proxy_headers=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL of the stand-in (each receiver also answers under `/<receiver>`)."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> GatewayServer:
        """Start serving; return when uvicorn listens."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the gateway stand-in did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop serving and close the store."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
        self.state.store.close()

    def __enter__(self) -> GatewayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(state: GatewayState, host: str, port: int, announce: Callable[[str], None] = print) -> None:
    """Serve in the foreground until interrupted (the command line); `announce` gets the URL once bound."""
    config = uvicorn.Config(
        FaultInjector(create_app(state), state), log_level="info", lifespan="off", proxy_headers=False
    )
    sock = _listening_socket(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    announce(f"http://{bound_host}:{bound_port}")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        state.store.close()
