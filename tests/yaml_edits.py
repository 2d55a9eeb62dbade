"""Edited copies of shipped YAML files, for tests of what a loader refuses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml


def edited_copy(shipped: Path, folder: Path, edit: Callable[[dict[str, Any]], Any]) -> Path:
    """`shipped` read, changed in place by `edit`, and written under its own name into `folder`."""
    data = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    edit(data)
    path = folder / shipped.name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path
