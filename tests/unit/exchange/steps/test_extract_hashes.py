"""Row hashes are pandas' hash of the row's values as Python objects: the value stored snapshots hold."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from exchange.steps.extract import row_hashes

VALUES = [
    "常州甲化工有限公司",
    "",
    None,
    "无",
    "NULL",
    "None",
    "nan",
    "0",
    " a\u3000b ",
    "\u200b",
    "ＡＢＣ１２３",
]


def _pandas_hashes(batch: pa.RecordBatch, content: list[str]) -> list[str]:
    # How the hashes were first defined: the content columns as an object frame, None for every null.
    frame = batch.select(content).to_pandas().astype(object)
    hashed = pd.util.hash_pandas_object(frame.where(frame.notna(), None), index=False)
    return [f"{int(h):016x}" for h in hashed]


def test_hashes_equal_the_pandas_definition_for_every_kind_of_text():
    columns = {
        f"t.C{i}": pa.array([VALUES[(i * 7 + row) % len(VALUES)] for row in range(40)], pa.string())
        for i in range(13)
    }
    columns["t.EMPTY"] = pa.array([None] * 40, pa.string())
    batch = pa.RecordBatch.from_pydict(columns)
    content = list(columns)
    hashes = row_hashes(batch, content)
    assert hashes == _pandas_hashes(batch, content)
    assert len(set(hashes)) > 1


def test_a_changed_value_or_column_order_changes_the_hash():
    batch = pa.RecordBatch.from_pydict({"a": pa.array(["x", "x"]), "b": pa.array([None, ""])})
    first, second = row_hashes(batch, ["a", "b"])
    assert first != second  # NULL and '' are different contents
    assert row_hashes(batch, ["b", "a"]) != [first, second]
