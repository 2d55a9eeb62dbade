"""Delivery to any receiver: which receivers a resource has, and the step that delivers to each."""

from __future__ import annotations

from typing import Any

from catalog import Catalog
from exchange.context import RunContext
from exchange.orchestration import BIGDATA_CENTRE, GATEWAY_RECEIVERS, RECEIVERS


def receivers_of(catalog: Catalog, resource: str) -> list[str]:
    """The receivers a catalogue resource is shared with (its `receivers:`), in RECEIVERS order."""
    shared = catalog.resource(resource).receivers
    return [r for r in RECEIVERS if r in shared]


def deliver(ctx: RunContext, resource: str, receiver: str) -> dict[str, Any]:
    """Deliver one resource's pending versions to one receiver; its statistics as the step recorded them."""
    if receiver == BIGDATA_CENTRE:
        from exchange.steps import deliver_exchange_db

        return deliver_exchange_db.deliver_resource(ctx, resource)
    if receiver in GATEWAY_RECEIVERS:
        from exchange.steps import deliver_gateway

        return deliver_gateway.deliver_resource(ctx, resource, receiver)
    raise ValueError(f"unknown receiver {receiver!r}; the receivers are {', '.join(RECEIVERS)}")
