"""What the stand-in reads from the gateway contract: record schemas, receivers and their resources, codes."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema_rs import Draft202012Validator

from catalog import default_catalog
from catalog.checks import GATEWAY_CONTRACT, GATEWAY_RECEIVERS

RECEIVERS = GATEWAY_RECEIVERS


MAX_RECORDS = 500
MAX_BODY_BYTES = 2 * 1024 * 1024
CLOCK_WINDOW_MS = 300_000
NONCE_WINDOW_S = 600
IDEMPOTENCY_WINDOW_S = 24 * 3600
DEFAULT_EXPIRES_IN = 7200


def production_rates() -> dict[str, float]:
    """The rates the receivers grant in production, requests per second per app key (catalog.yaml)."""
    return {name: float(rate) for name, rate in default_catalog().settings["gateway_rates"].items()}


@dataclass(frozen=True)
class Refusal(Exception):
    """A refusal of the whole request: HTTP status, contract code and message."""

    status: int
    code: str
    message: str


@functools.cache
def gateway_contract() -> dict[str, Any]:
    """The project's copy of gateway.yaml (catalog/contracts), identical to the shared one."""
    path = Path(default_catalog().root) / GATEWAY_CONTRACT
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _inline_refs(node: Any, schemas: dict[str, Any]) -> Any:
    # The file's refs are all local (`#/components/schemas/X`) and not recursive: inlined, a refusal's
    # path names the contract's field, not a `$ref` hop.
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline_refs(schemas[node["$ref"].rsplit("/", 1)[-1]], schemas)
        return {key: _inline_refs(value, schemas) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_refs(value, schemas) for value in node]
    return node


@functools.cache
def schema_validator(name: str) -> Draft202012Validator:
    """A validator for `#/components/schemas/<name>` of the contract.

    jsonschema-rs (compiled): a full batch's 500 records take about a millisecond, where the pure-Python
    `jsonschema` took 150–200 ms, which alone held the stand-in under the 20 requests/s it grants.
    """
    schemas = gateway_contract()["components"]["schemas"]
    return Draft202012Validator(_inline_refs(schemas[name], schemas))


@functools.cache
def record_envelope_validator() -> Draft202012Validator:
    """The schema of one pushed record without its data (recordId, seq, op, digest)."""
    items = gateway_contract()["components"]["schemas"]["PushRequest"]["properties"]["records"]["items"]
    return Draft202012Validator(items)


@functools.cache
def resources_of() -> dict[str, frozenset[str]]:
    """Receiver → the gateway resources it holds, from the catalogue's `receivers:` sections."""
    catalog = default_catalog()
    return {
        receiver: frozenset(r.receivers[receiver]["resource"] for r in catalog.resources_for(receiver))
        for receiver in RECEIVERS
    }


def receiver_of(resource: str) -> str | None:
    """The receiver that holds `resource` (each resource goes to exactly one), or None."""
    for receiver, held in resources_of().items():
        if resource in held:
            return receiver
    return None


@functools.cache
def permit_type_codes() -> tuple[str, ...]:
    """The 18 SXBM codes in table order (the catalogue's code list mirrors the legacy T_DM_SXLX)."""
    return tuple(default_catalog().codelist("permit_types").codes())
