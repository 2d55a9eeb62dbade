"""Push records built from curated records by the catalogue's receiver mappings, checked against gateway.yaml."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from catalog import Catalog, Item, Resource
from catalog.checks import GATEWAY_CONTRACT
from connectors.gateway.signing import encode_body
from schemas.canonical import canonical_json, record_digest, sm3_hex

MAX_RECORDS = 500
MAX_BYTES = 2 * 1024 * 1024
# The longest batch id the contract allows, so that a batch's measured size holds for any id.
_ENVELOPE_BYTES = len(encode_body({"batchId": "x" * 64, "records": []}))

PushRecord = dict[str, Any]
_SCHEMAS_REF = "#/components/schemas/"


class PayloadError(ValueError):
    """A payload the gateway contract does not allow: a bug in mapping or curation, never sent."""

    def __init__(self, message: str, *, record_id: str, schema_path: str) -> None:
        super().__init__(message)
        self.record_id = record_id
        self.schema_path = schema_path


@dataclass(frozen=True)
class CuratedRecord:
    """One curated record version: its id, seq, whether deleted, and item name → value as stored."""

    record_id: str
    seq: int
    deleted: bool
    data: Mapping[str, Any]

    @classmethod
    def from_row(cls, resource: Resource, row: Any) -> CuratedRecord:
        """The record of one row of the resource's curated table (schemas.tables.curated_table)."""
        return cls(
            record_id=row.record_id,
            seq=int(row.sdx_seq),
            deleted=bool(row.sdx_deleted),
            data={name: getattr(row, name) for name in resource.item_names},
        )


def receiver_mapping(resource: Resource, receiver: str) -> tuple[str, dict[str, str]]:
    """The gateway resource of `resource` at `receiver`, and its field → item mapping from the catalogue."""
    try:
        settings = resource.receivers[receiver]
    except KeyError:
        raise ValueError(f"resource {resource.name} is not shared with {receiver}") from None
    return str(settings["resource"]), dict(settings["fields"])


def _empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def field_value(item: Item, value: Any) -> Any:
    """The JSON value of an item's stored value, by the item's type (docs/catalog.md, "Receivers")."""
    if _empty(value):
        return None
    kind = item.type
    if kind in ("code_list", "json"):
        # Stored as canonical JSON text; already parsed when the record comes from memory.
        return json.loads(value) if isinstance(value, str) else value
    if kind == "boolean":
        return bool(int(value))
    if kind == "integer":
        return int(value)
    if kind in ("decimal", "date"):
        return value  # canonical JSON writes numbers and dates as the contract wants them
    return str(value)


def gateway_data(resource: Resource, fields: Mapping[str, str], data: Mapping[str, Any]) -> dict[str, Any]:
    """The `data` of a push record: each gateway field from its item, in the canonical form that is digested."""
    return _canonical_data(resource, fields, data)[0]


def _canonical_data(
    resource: Resource, fields: Mapping[str, str], data: Mapping[str, Any]
) -> tuple[dict[str, Any], bytes]:
    mapped = {field: field_value(resource.item(item), data.get(item)) for field, item in fields.items()}
    # Sent exactly as digested: the canonical form (120.0 → 120, dates as text) round-tripped through JSON.
    # Its canonical JSON is also that of the round-tripped data, so the digest is taken of it directly.
    canonical = canonical_json(mapped)
    result: dict[str, Any] = json.loads(canonical)
    return result, canonical


def push_record(
    resource: Resource, receiver: str, record: CuratedRecord, *, held: bool = False
) -> PushRecord:
    """One push record; `held` says whether the receiver already holds a version (U rather than I)."""
    _, fields = receiver_mapping(resource, receiver)
    data, canonical = (
        (None, canonical_json(None)) if record.deleted else _canonical_data(resource, fields, record.data)
    )
    return {
        "recordId": record.record_id,
        "seq": int(record.seq),
        "op": "D" if record.deleted else ("U" if held else "I"),
        "digest": sm3_hex(canonical),
        "data": data,
    }


def batches(
    records: Iterable[PushRecord], max_records: int = MAX_RECORDS, max_bytes: int = MAX_BYTES
) -> Iterator[list[PushRecord]]:
    """Records in order, in batches of at most `max_records` and at most `max_bytes` of request body."""
    batch: list[PushRecord] = []
    size = _ENVELOPE_BYTES
    for record in records:
        # One byte more per record than the body needs (the comma after the last one is not sent).
        length = len(encode_body(record)) + 1
        if _ENVELOPE_BYTES + length > max_bytes:
            raise PayloadError(
                f"record {record.get('recordId')} alone is larger than a batch may be ({max_bytes} bytes)",
                record_id=str(record.get("recordId")),
                schema_path="PushRequest (2 MiB)",
            )
        if batch and (len(batch) >= max_records or size + length > max_bytes):
            yield batch
            batch, size = [], _ENVELOPE_BYTES
        batch.append(record)
        size += length
    if batch:
        yield batch


class ContractSchemas:
    """gateway.yaml's push request and record schemas as JSON Schema 2020-12 validators (OpenAPI 3.1's dialect).

    jsonschema-rs (compiled) validates a full batch in about a millisecond, where the pure-Python
    `jsonschema` took 150–200 ms, more than the 50 ms a batch has at the service network's 20 requests/s.
    """

    def __init__(self, contract: Mapping[str, Any]) -> None:
        components = contract["components"]

        def validator(name: str) -> jsonschema_rs.Draft202012Validator:
            # References inlined, so that schema paths name the contract's fields, not a `$ref` hop.
            return jsonschema_rs.Draft202012Validator(
                _inlined(components["schemas"][name], components["schemas"])
            )

        self.push_request = validator("PushRequest")
        resources = components["parameters"]["resource"]["schema"]["enum"]
        self.records = {name: validator(name) for name in resources}

    @classmethod
    def of(cls, catalog: Catalog) -> ContractSchemas:
        """The schemas of the catalogue's copy of the contract (read once per file)."""
        return _load(catalog.root / GATEWAY_CONTRACT)

    def check_batch(self, resource: str, body: Mapping[str, Any]) -> None:
        """PayloadError naming the first record and schema path the batch breaks; values are never quoted."""
        records: list[Any] = body["records"] if isinstance(body.get("records"), list) else []
        for error in self.push_request.iter_errors(body):
            path = error.instance_path
            index = path[1] if len(path) > 1 and path[0] == "records" else None
            raise _payload_error(resource, records, index, "PushRequest", error)
        record_schema = self.records.get(resource)
        if record_schema is None:
            raise PayloadError(
                f"{resource} is not a resource of gateway.yaml",
                record_id="",
                schema_path="parameters/resource",
            )
        for index, record in enumerate(records):
            data = record.get("data")
            if record["op"] == "D":
                if data is not None:
                    raise _payload_error(
                        resource, records, index, "PushRequest", None, "a delete carries no data"
                    )
                continue
            for error in record_schema.iter_errors(data):
                raise _payload_error(resource, records, index, resource, error)
            if record["digest"] != record_digest(data):
                raise _payload_error(
                    resource, records, index, "PushRequest", None, "digest differs from the data"
                )


def _inlined(schema: Any, schemas: Mapping[str, Any]) -> Any:
    """`schema` with every `#/components/schemas/…` reference replaced by the schema it names."""
    if isinstance(schema, list):
        return [_inlined(s, schemas) for s in schema]
    if not isinstance(schema, dict):
        return schema
    resolved = {k: _inlined(v, schemas) for k, v in schema.items() if k != "$ref"}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_SCHEMAS_REF):
        return {**_inlined(schemas[ref.removeprefix(_SCHEMAS_REF)], schemas), **resolved}
    if ref is not None:
        raise ValueError(f"gateway.yaml: a record schema refers to {ref}, outside components/schemas")
    return resolved


def _payload_error(
    resource: str,
    records: list[Any],
    index: Any,
    schema: str,
    error: jsonschema_rs.ValidationError | None,
    what: str = "",
) -> PayloadError:
    record_id = ""
    if isinstance(index, int) and index < len(records) and isinstance(records[index], dict):
        record_id = str(records[index].get("recordId", ""))
    if error is not None:
        # The keyword and where, never error.message: it quotes the value, which may be personal.
        schema_path = "/".join([schema, *map(str, error.schema_path)])
        field = "/".join(map(str, error.instance_path)) or "(whole)"
        what = f"field {field} fails `{error.kind.name}`"
    else:
        schema_path = f"{schema}/records/items/data"
    return PayloadError(
        f"push payload of {resource}, record {record_id or '?'}, breaks gateway.yaml at {schema_path}: {what}",
        record_id=record_id,
        schema_path=schema_path,
    )


@cache
def _load(path: Path) -> ContractSchemas:
    return ContractSchemas(yaml.safe_load(path.read_text(encoding="utf-8")))
