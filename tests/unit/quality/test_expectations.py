"""quality/expectations.py as a process sees it: what importing it and starting GX write to the log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_starting_gx_at_info_level_leaves_the_log_to_the_run():
    # A run's log at INFO is its progress; GX's own start-up (each decorated function it registers) was
    # some 200 lines per process. Its one remaining line is the folder of its in-memory docs site.
    script = (
        "import logging; logging.basicConfig(level=logging.INFO, format='%(name)s %(message)s')\n"
        "from quality.expectations import ephemeral_context; ephemeral_context()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    gx_lines = [line for line in done.stderr.splitlines() if line.startswith("great_expectations")]
    assert len(gx_lines) <= 2, gx_lines[:5]
