"""Folding entity-attribute-value rows (T_XK_KZ) into one column per catalogue item."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pyarrow as pa

from schemas.manifest import Attributes


def pivot_attributes(
    attrs: Attributes, rows: Iterable[Sequence[object]], keys: Sequence[str]
) -> dict[str, pa.Array]:
    """Item → one value per key (in `keys` order), from (key, name, value) rows.

    Spellings drift (储存设施地址 / 储存地址 / 仓储地址): each folds into its item. When a record holds the
    item under several spellings, the one listed first in the manifest wins, then the largest value, so the
    choice never depends on the order the database returns rows in.
    """
    rank = {
        spelling: (item, position)
        for item, names in attrs.items.items()
        for position, spelling in enumerate(names)
    }
    best: dict[tuple[str, str], tuple[int, str]] = {}
    for key, name, value in rows:
        if value is None or name not in rank:
            continue
        item, position = rank[str(name)]
        candidate = (-position, str(value))
        slot = (str(key), item)
        if slot not in best or candidate > best[slot]:
            best[slot] = candidate
    return {
        f"attr.{item}": pa.array([best.get((key, item), (0, None))[1] for key in keys], pa.string())
        for item in attrs.items
    }
