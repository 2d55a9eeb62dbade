"""The staging area: each run's batches between steps, as Parquet files written atomically."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from exchange import settings


def safe_name(text: str) -> str:
    """`text` as one file-name component: run ids carry ':' and '+', which some file systems refuse."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", text)
    # '', '.' and '..' would name the parent folder or none at all.
    return name if name.strip(".") else name.replace(".", "_") or "_"


def run_dir(run_id: str) -> Path:
    """The run's staging folder."""
    return settings.home() / "staging" / safe_name(run_id)


def path(run_id: str, *parts: str) -> Path:
    """A file in the run's staging folder, its parent created."""
    target = run_dir(run_id).joinpath(*parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def write_json(target: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically: a crash leaves the old file or the new one, never half of one."""
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, target)


def read_json(target: Path) -> dict[str, Any]:
    """Read a JSON file this module wrote; a missing one means its step has not run."""
    if not target.exists():
        raise FileNotFoundError(f"{target} is missing: run the step that writes it first")
    data: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    return data


def to_frame(table: pa.Table | pa.RecordBatch) -> pd.DataFrame:
    """Arrow data as an object-dtype frame with None for every null (dates stay `datetime.date`)."""
    frame = table.to_pandas(date_as_object=True).astype(object)
    return frame.where(frame.notna(), None)
