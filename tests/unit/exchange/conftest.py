"""Fixtures of the exchange tests: a small generated legacy database and empty curated and exchange ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.legacy import generate_legacy


@pytest.fixture
def urls(tmp_path: Path, use_connections) -> dict[str, str]:
    """SQLite legacy (generated, 5 %), curated and exchange databases, the toolkit's connections on them."""
    found = {name: f"sqlite:///{tmp_path / name}.db" for name in ("legacy", "curated", "exchange")}
    generate_legacy(found["legacy"], scale=0.05, seed=7)
    use_connections(
        legacy_supervision=found["legacy"], curated=found["curated"], bigdata_centre=found["exchange"]
    )
    return found
