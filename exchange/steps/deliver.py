"""Delivery to any receiver: the step that delivers one resource to one receiver."""

from __future__ import annotations

from typing import Any

from exchange.context import RunContext
from exchange.orchestration import BIGDATA_CENTRE


def deliver(ctx: RunContext, resource_name: str, receiver: str) -> dict[str, Any]:
    """Deliver one resource's pending versions to one receiver; its statistics as the step recorded them."""
    if receiver == BIGDATA_CENTRE:
        from exchange.steps import deliver_exchange_db

        return deliver_exchange_db.deliver_resource(ctx, resource_name)
    raise ValueError(f"no delivery step for receiver {receiver!r}")
