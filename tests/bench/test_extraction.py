"""bench/extraction.py: the rows a benchmark's night edits stay valid records of every source."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest

from catalog import default_catalog
from schemas.manifest import manifests


@pytest.mark.parametrize("source", sorted(manifests()))
def test_each_source_edits_a_free_text_column_of_its_primary_table(
    source: str, bench_module: Callable[[str], ModuleType]
) -> None:
    edited_columns = bench_module("extraction").EDITED_COLUMNS
    manifest = manifests()[source]
    alias = next(a for a, t in manifest.tables.items() if t is manifest.primary)
    column = f"{alias}.{edited_columns[source]}"
    fed = [name for name, item in manifest.items.items() if item.column == column]
    assert fed, f"{column} feeds no catalogue item"
    for resource_name in manifest.resources():
        items = {i.name: i for i in default_catalog().resource(resource_name).items}
        for name in fed:
            if name in items:  # an edited value must stay valid: free text, no pattern, no code list
                assert (items[name].type, items[name].pattern, items[name].codelist) == ("text", None, None)
