"""`sdx sandbox gateway` serves the stand-in with the given app keys and fault plan, and prints its URL."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import requests
from conftest import RawClient


def test_command_serves_with_apps_and_faults(tmp_path: Path):
    plan = tmp_path / "faults.json"
    plan.write_text(json.dumps({"seed": 3, "faults": [{"kind": "busy", "next": 1}]}), encoding="utf-8")
    command = [sys.executable, "-m", "exchange.cli", "sandbox", "gateway", "--port", "0"]
    command += ["--store", str(tmp_path / "g.db"), "--app", "k1:s1", "--faults", str(plan)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith("gateway stand-in at http://127.0.0.1:"), line
        url = line.split()[3]
        client = RawClient(url, "k1", "s1")
        for _ in range(100):  # the URL is printed just before uvicorn starts answering
            try:
                requests.get(f"{url}/_health", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        assert requests.get(f"{url}/_faults", timeout=5).json()["faults"][0]["kinds"] == ["busy"]
        assert client.fetch_token().status_code == 200
        path = "/province_hazchem/api/v1/ledger/hazchem_enterprises/summary"
        assert client.call("GET", path).json()["code"] == "50001"
        assert client.call("GET", path).json()["data"]["live"] == 0
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert (tmp_path / "g.db").exists()
