"""Headless Chromium for the browser tests: find it, screenshot a page, and list a page's console problems.

The console is read through the DevTools protocol over `--remote-debugging-pipe` (file descriptors 3 and 4,
messages ending in NUL), with the standard library only: no websocket client, no browser driver. A page that
logs an error, throws, or asks for anything other than a local file or a data URL is reported.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
# Nothing in the background may reach out: the tests run where the network is closed, as the bureau's is.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
LOCAL_SCHEMES = ("file:", "data:", "about:")
TIMEOUT = 60.0


def chromium_or_skip() -> str:
    """The Chromium executable; skips the test without one, unless CI is set, where it fails."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    message = "chromium is not installed (`make browser` installs Debian's chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}, and CI is set: the browser tests must run in CI")
    pytest.skip(message)


def screenshot(chromium: str, url: str, target: Path, profile: Path, window: str = "1280,2400") -> str:
    """Save a screenshot of `url` as PNG to `target`; returns Chromium's stderr."""
    done = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", f"--window-size={window}", f"--screenshot={target}", url],
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def dump_dom(chromium: str, url: str, profile: Path) -> tuple[str, list[str]]:
    """The page's DOM after load, and the console lines Chromium logged to stderr as errors."""
    done = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--dump-dom", url],
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    errors = [
        line
        for line in done.stderr.splitlines()
        if "CONSOLE" in line and ("ERROR" in line or "Uncaught" in line)
    ]
    return done.stdout, errors


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def png_distinct_bytes(data: bytes) -> int:
    """How many distinct byte values the PNG's pixel data holds: a blank page has very few."""
    pixels, offset = b"", 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        if kind == b"IDAT":
            pixels += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    return len(set(zlib.decompress(pixels)))


class DevToolsPipe:
    """One headless Chromium driven through the DevTools protocol on a pipe."""

    def __init__(self, chromium: str, profile: Path) -> None:
        to_browser, self._send_fd = os.pipe()
        self._read_fd, from_browser = os.pipe()

        def wire() -> None:
            # In the child: Chromium reads commands on fd 3 and writes on fd 4. Move both ends above 10
            # first, so that putting one on 3 cannot close the other if it happens to be 3 or 4.
            high_in = fcntl.fcntl(to_browser, fcntl.F_DUPFD, 10)
            high_out = fcntl.fcntl(from_browser, fcntl.F_DUPFD, 10)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        self.process = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=wire,
        )  # fmt: skip
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        """Send one command and return its result; events that arrive meanwhile are kept in `events`."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._send_fd, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                assert "error" not in reply, f"{method}: {reply['error']}"
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, event: str, timeout: float = TIMEOUT) -> None:
        """Read until `event` arrives (or fail after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            self.events.append(self._receive(deadline - time.monotonic()))

    def drain(self, seconds: float) -> None:
        """Collect the events of the next `seconds` (errors logged just after load)."""
        deadline = time.monotonic() + seconds
        while True:
            message = self._receive(deadline - time.monotonic(), required=False)
            if message is None:
                return
            self.events.append(message)

    def _receive(self, timeout: float = TIMEOUT, *, required: bool = True) -> Any:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._read_fd], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                if required:
                    raise TimeoutError("Chromium did not answer on the DevTools pipe")
                return None
            chunk = os.read(self._read_fd, 1 << 16)
            if not chunk:
                raise ConnectionError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def close(self) -> None:
        """Close the browser and the pipes."""
        # The browser may already be gone; closing is then done.
        with contextlib.suppress(OSError, ConnectionError, TimeoutError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._send_fd)
        os.close(self._read_fd)


def page_problems(chromium: str, url: str, profile: Path) -> list[str]:
    """Console errors, uncaught exceptions, failed loads and non-local requests of `url` once loaded."""
    browser = DevToolsPipe(chromium, profile)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Page.navigate", {"url": url}, session=session)
        browser.wait_for("Page.loadEventFired")
        browser.drain(0.5)
        return [p for e in browser.events if e.get("sessionId") == session for p in _problem(e)]
    finally:
        browser.close()


def _problem(event: dict[str, Any]) -> list[str]:
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        return [f"uncaught: {params.get('exceptionDetails', {}).get('text')}"]
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        return [f"console.{params['type']}: {params.get('args')}"]
    if method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
        return [f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}"]
    if method == "Network.loadingFailed":
        return [f"failed load: {params.get('errorText')}"]
    if method == "Network.requestWillBeSent":
        url = params.get("request", {}).get("url", "")
        return [] if url.startswith(LOCAL_SCHEMES) else [f"outside request: {url}"]
    return []
