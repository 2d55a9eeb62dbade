"""Stand-in of the government API gateway (contracts/gateway.yaml) for the three receivers, with faults."""

from sandbox.gateway.app import GatewayState, create_app
from sandbox.gateway.faults import FaultPlan
from sandbox.gateway.server import GatewayServer, build_state, serve

__all__ = ["FaultPlan", "GatewayServer", "GatewayState", "build_state", "create_app", "serve"]
