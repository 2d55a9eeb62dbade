"""What the harness shares: timing a command as a whole process, scratch PostgreSQL databases, tool venvs."""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / "var" / "bench" / "venvs"


def _tree_rss(pid: int, stop: threading.Event, peak: list[int]) -> None:
    # The sum over the process and its descendants (worker processes, the profiler's child), 5 times a second.
    import psutil

    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while not stop.wait(0.2):
        total = 0
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:  # the run has just ended
            return
        for proc in tree:
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        peak[0] = max(peak[0], total)


def timed(
    cmd: list[str], env: dict[str, str] | None = None, log: Path | None = None, ok: tuple[int, ...] = (0,)
) -> dict[str, Any]:
    """Run one command to its end: wall seconds, the peak RSS of its largest process and of all of them (MiB).

    `wait4` gives the rusage of this child alone (with the descendants it waited for), so each run's peak
    is its own, not the harness's; `ru_maxrss` is that of the largest of them. A run in several processes
    (`sdx run`'s workers) needs their sum as well: sampled every 0.2 s, so a short spike can be missed.
    Output goes to `log` (kept for a failure's message) or is dropped; an exit code outside `ok` raises.
    """
    out = log.open("wb") if log else subprocess.DEVNULL
    stop, tree_peak = threading.Event(), [0]
    try:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = threading.Thread(target=_tree_rss, args=(proc.pid, stop, tree_peak), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        tail = log.read_text(errors="replace")[-2000:] if log else ""
        raise RuntimeError(f"{cmd[0]} exited {code}:\n{tail}")
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "peak_tree_rss_mib": round(max(tree_peak[0], usage.ru_maxrss * 1024) / 2**20, 1),
        "exit_code": code,
    }


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median and spread (min–max, and as a share of the median) of the runs' seconds and peak RSS."""
    seconds = [r["seconds"] for r in runs]
    median = statistics.median(seconds)
    return {
        "median_seconds": round(median, 2),
        "min_seconds": min(seconds),
        "max_seconds": max(seconds),
        "spread": round((max(seconds) - min(seconds)) / median, 3) if median else None,
        "median_peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in runs),
        "median_peak_tree_rss_mib": statistics.median(
            r.get("peak_tree_rss_mib", r["peak_rss_mib"]) for r in runs
        ),
    }


@contextmanager
def scratch_postgres(server: str | sa.URL, name: str) -> Iterator[str]:
    """A fresh PostgreSQL database on `server`, dropped afterwards (even if another run left one behind)."""
    server = sa.make_url(server)
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8'"))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def tool_venv(tool: str) -> Path:
    """The virtual environment of a third-party tool, installed from bench/requirements-<tool>.txt if missing.

    The requirements file's hash is kept beside it: a changed pin reinstalls.
    """
    requirements = ROOT / "bench" / f"requirements-{tool}.txt"
    venv = VENVS / tool
    stamp = venv / ".requirements-sha256"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return venv
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "-r", str(requirements)],
        capture_output=True,
        text=True,
    )
    if pip.returncode:
        # Only the errors: the local package mirrors add a warning per package.
        errors = [line for line in pip.stderr.splitlines() if not line.startswith("WARNING: Location")]
        raise RuntimeError(f"installing {requirements.name} failed:\n" + "\n".join(errors[-20:]))
    stamp.write_text(digest)
    return venv
