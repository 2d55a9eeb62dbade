"""Where a benchmark writes its record: never over an earlier one.

Records are named by date and label; a second run with the same label on the same day used to replace the
first, which may already be committed and cited in README.md.
"""

from __future__ import annotations

from pathlib import Path


def record_path(folder: Path, stem: str) -> Path:
    """`folder/stem.json`, or `stem-2.json`, `stem-3.json`, … when that is taken; the folder is created."""
    folder.mkdir(parents=True, exist_ok=True)
    path, n = folder / f"{stem}.json", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.json"
    return path
