"""bench/ holds scripts, not a package: its tests import them through `bench_module`."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

BENCH = str(Path(__file__).resolve().parents[2] / "bench")


@pytest.fixture
def bench_module() -> Callable[[str], ModuleType]:
    """Import one of bench/'s scripts, then take bench/ off the path again.

    Left on the path, bench/gateway_delivery.py would shadow tests/gateway_delivery.py for every test
    module collected after."""

    def load(name: str) -> ModuleType:
        sys.path.insert(0, BENCH)
        try:
            return importlib.import_module(name)
        finally:
            sys.path.remove(BENCH)

    return load
