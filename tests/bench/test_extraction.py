"""bench/extraction.py: the rows a benchmark's night edits stay valid records of every source."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from catalog import default_catalog
from schemas.manifest import manifests

BENCH = str(Path(__file__).resolve().parents[2] / "bench")


def _bench_module(name: str):  # type: ignore[no-untyped-def]
    """Import one of bench/'s scripts (not a package) and take bench/ off the path again.

    Left on the path, bench/gateway_delivery.py would shadow tests/gateway_delivery.py for every module
    collected after this one."""
    sys.path.insert(0, BENCH)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(BENCH)


EDITED_COLUMNS = _bench_module("extraction").EDITED_COLUMNS


@pytest.mark.parametrize("source", sorted(manifests()))
def test_each_source_edits_a_free_text_column_of_its_primary_table(source: str) -> None:
    manifest = manifests()[source]
    alias = next(a for a, t in manifest.tables.items() if t is manifest.primary)
    column = f"{alias}.{EDITED_COLUMNS[source]}"
    fed = [name for name, item in manifest.items.items() if item.column == column]
    assert fed, f"{column} feeds no catalogue item"
    for resource_name in manifest.resources():
        items = {i.name: i for i in default_catalog().resource(resource_name).items}
        for name in fed:
            if name in items:  # an edited value must stay valid: free text, no pattern, no code list
                assert (items[name].type, items[name].pattern, items[name].codelist) == ("text", None, None)
