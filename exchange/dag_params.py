"""DAG params more than one DAG takes, as validated `Param` schemas. Imported by DAG files at parse time."""

from __future__ import annotations

from airflow.sdk import Param

from exchange.orchestration import RECEIVERS, resource_names


def resources_param() -> Param:
    """Catalogued resources only; none named means all."""
    return Param(
        [], type="array", items={"type": "string", "enum": resource_names()}, description="empty: all"
    )


def receivers_param(description: str) -> Param:
    """Receivers by connection id, each at most once."""
    return Param(
        [],
        type="array",
        items={"type": "string", "enum": list(RECEIVERS)},
        uniqueItems=True,
        description=description,
    )
