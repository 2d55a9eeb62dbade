"""bench/records.py (named apart from tests/unit/quality/test_records.py): a benchmark's record never replaces an earlier one."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType


def test_a_taken_name_gets_the_next_number(tmp_path: Path, bench_module: Callable[[str], ModuleType]) -> None:
    record_path = bench_module("records").record_path
    folder = tmp_path / "results"
    first = record_path(folder, "nightly_flow-2026-11-30-scale10-s10")
    assert first == folder / "nightly_flow-2026-11-30-scale10-s10.json"
    first.write_text("{}")
    second = record_path(folder, "nightly_flow-2026-11-30-scale10-s10")
    assert second == folder / "nightly_flow-2026-11-30-scale10-s10-2.json"
    second.write_text("{}")
    assert (
        record_path(folder, "nightly_flow-2026-11-30-scale10-s10").name
        == "nightly_flow-2026-11-30-scale10-s10-3.json"
    )
    assert first.read_text() == "{}"
    assert str(Path(__file__).resolve().parents[2] / "bench") not in sys.path  # taken off again (conftest.py)
