"""Gateway receivers: each catalogue resource bound for the gateway maps field by field onto its schema.

The schemas are the project's own copy of the gateway's OpenAPI file (catalog/contracts/gateway.yaml).
A payload built from one valid value per item must pass the schema, so a mapping that type-checks here
only fails at the gateway on meaning (check characters, cross-field rules), never on shape.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from stdnum.cn import ric, uscc
from stdnum.iso7064 import mod_37_36

from catalog import Catalog, Item, Resource, default_catalog
from catalog.model import VALUE_TYPES

# contracts/README.md: which gateway receiver holds which resources.
GATEWAY_RESOURCES = {
    "service_network": {"cases", "licences"},
    "province_supervision": {"industry_enterprises"},
    "province_hazchem": {"hazchem_enterprises", "integrity_declarations"},
}

USCC = "91320412MA1K3BTP2K"  # inner organisation code MA1K3BTP2 is a standards vector
RESIDENT_ID = "320402199001010017"  # standards/README.md: valid, 天宁区
PUBLISHED_LICENCE_ID = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"


@cache
def gateway() -> dict[str, Any]:
    path = Path(default_catalog().root) / "contracts" / "gateway.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def validator(pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer` of the gateway file, its `#/components/...` refs resolvable."""
    return Draft202012Validator({"$ref": pointer, "components": gateway()["components"]})


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """Follow `$ref`s within the gateway file until a schema without one."""
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), f"only local refs are expected, got {ref}"
        node: Any = gateway()
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def json_kinds(schema: dict[str, Any]) -> set[str]:
    """The JSON types a field schema accepts, through `$ref`, `oneOf`/`anyOf`, type lists and enums."""
    schema = resolve(schema)
    for combinator in ("oneOf", "anyOf"):
        if combinator in schema:
            return set().union(*(json_kinds(alternative) for alternative in schema[combinator]))
    if "type" in schema:
        kinds = schema["type"]
        return {kinds} if isinstance(kinds, str) else set(kinds)
    if "enum" in schema:
        return {_json_type(value) for value in schema["enum"]}
    if "const" in schema:
        return {_json_type(schema["const"])}
    return {"string", "number", "integer", "boolean", "array", "object", "null"}


def kind_fits(kind: str, kinds: set[str]) -> bool:
    """Whether values an item's type carries as `kind` (VALUE_TYPES[...]["json"]) are of a type in `kinds`."""
    if kind == "any":  # a json item: a structured value, never a bare scalar
        return bool(kinds - {"null"}) and kinds - {"null"} <= {"object", "array"}
    if kind == "integer":
        return bool(kinds & {"integer", "number"})
    return kind in kinds


def licence_id(type_code: str, issuer: str, serial: str, version: str) -> str:
    """A GB/T 36904 identifier with its MOD 37,36 check character."""
    check = mod_37_36.calc_check_digit(type_code + issuer + serial + version)
    return f"1.2.156.3005.2.{type_code}.{issuer}.{serial}.{version}.{check}"


def sample_licence_id(catalog: Catalog) -> str:
    """A valid identifier for the catalogue's first licence type and authority."""
    type_code = catalog.codelist("permit_types").entries[0].attributes["licence_type_code"]
    issuer = catalog.codelist("authorities").codes()[0]
    for serial in range(20260000001, 20260000100):
        found = licence_id(type_code, issuer, str(serial), "001")
        if not found.endswith("*"):  # the gateway's pattern takes [0-9A-Z] as check character
            return found
    raise AssertionError("no serial gives a check character the gateway's pattern takes")


def sample_for_schema(schema: dict[str, Any]) -> Any:
    """A small instance of a structured schema: its required properties, or one entry of a map."""
    schema = resolve(schema)
    if "enum" in schema:
        return next(value for value in schema["enum"] if value is not None)
    kinds = json_kinds(schema) - {"null"}
    if "object" in kinds:
        properties = schema.get("properties", {})
        found = {name: sample_for_schema(properties[name]) for name in schema.get("required", [])}
        extra = schema.get("additionalProperties")
        if not found and isinstance(extra, dict):
            found["示例"] = sample_for_schema(extra)
        return found
    if "array" in kinds:
        return [sample_for_schema(schema.get("items", {}))]
    if "integer" in kinds:
        return 1
    if "number" in kinds:
        return 1.5
    if "boolean" in kinds:
        return True
    return "示例"


def _text_candidates(catalog: Catalog) -> list[str]:
    attributes = [
        value
        for codelist in catalog.codelists.values()
        for entry in codelist.entries
        for value in (entry.code, *entry.attributes.values())
        if isinstance(value, str)
    ]
    return ["示例文本", USCC, RESIDENT_ID, *attributes]


def sample_value(item: Item, field_schema: dict[str, Any], catalog: Catalog) -> Any:
    """One valid, standardized value of `item`, as its gateway field carries it."""
    simple = {
        "uscc": USCC,
        "resident_id": RESIDENT_ID,
        "date": "2026-01-01",
        "division": "320412",
        "phone": "13912345678",
        "boolean": True,
        "cas": "7664-41-7",
        "organisation_code": "MA1K3BTP2",
        "registration_number": "110108000000016",
    }
    if item.type in simple:
        return simple[item.type]
    if item.type == "code":
        return catalog.codelist(str(item.codelist)).codes()[0]
    if item.type == "code_list":
        return [catalog.codelist(str(item.codelist)).codes()[0]]
    if item.type == "integer":
        return int(item.min) if item.min is not None else 1
    if item.type == "decimal":
        if item.min is not None and item.max is not None:
            return round((item.min + item.max) / 2, 6)
        return (item.min or 0) + 1.5
    if item.type == "licence_id":
        return sample_licence_id(catalog)
    if item.type == "json":
        return sample_for_schema(field_schema)
    assert item.type == "text", f"no sample for type {item.type}"
    if not item.pattern:
        return "示例文本"
    fitting = [text for text in _text_candidates(catalog) if re.fullmatch(item.pattern, text)]
    assert fitting, f"{item.name}: no sample text matches its pattern {item.pattern}"
    return fitting[0]


def gateway_bindings() -> list[tuple[str, str, str]]:
    """(catalogue resource, receiver, gateway resource) for every gateway receiver of the catalogue."""
    return [
        (resource.name, receiver, settings["resource"])
        for resource in default_catalog().resources.values()
        for receiver, settings in resource.receivers.items()
        if receiver in GATEWAY_RESOURCES
    ]


BINDINGS = gateway_bindings()
IDS = [f"{name}->{receiver}:{target}" for name, receiver, target in BINDINGS]


def _binding(name: str, receiver: str) -> tuple[Catalog, Resource, dict[str, str], dict[str, Any]]:
    catalog = default_catalog()
    resource = catalog.resource(name)
    settings = resource.receivers[receiver]
    schema = resolve(gateway()["components"]["schemas"][settings["resource"]])
    return catalog, resource, dict(settings["fields"]), schema


def test_every_gateway_resource_has_exactly_one_catalogue_resource():
    bound = sorted((receiver, target) for _, receiver, target in BINDINGS)
    expected = sorted((r, t) for r, targets in GATEWAY_RESOURCES.items() for t in targets)
    assert bound == expected
    enum = gateway()["components"]["parameters"]["resource"]["schema"]["enum"]
    assert sorted(t for _, t in bound) == sorted(enum)


def test_sample_identifiers_are_valid():
    assert uscc.is_valid(USCC)
    assert ric.is_valid(RESIDENT_ID)
    # The builder of sample identifiers reproduces a published one (standards/README.md).
    parts = PUBLISHED_LICENCE_ID.split(".")
    assert licence_id(parts[5], parts[6], parts[7], parts[8]) == PUBLISHED_LICENCE_ID
    sample = sample_licence_id(default_catalog())
    assert mod_37_36.is_valid("".join(sample.split(".")[5:]))


@pytest.mark.parametrize(("name", "receiver"), [(n, r) for n, r, _ in BINDINGS], ids=IDS)
def test_fields_cover_the_schema_and_name_existing_items(name: str, receiver: str):
    _, resource, fields, schema = _binding(name, receiver)
    properties = schema["properties"]
    assert not set(fields) - set(properties), "mapped fields the gateway schema does not have"
    assert set(fields) == set(properties), f"unmapped gateway fields: {sorted(set(properties) - set(fields))}"
    for field, item_name in fields.items():
        item = resource.item(item_name)  # KeyError names the resource and item
        if field in schema.get("required", []):
            assert item.required, f"{name}.{item_name} feeds required {field} but is not required: true"


@pytest.mark.parametrize(("name", "receiver"), [(n, r) for n, r, _ in BINDINGS], ids=IDS)
def test_item_types_agree_with_field_types(name: str, receiver: str):
    _, resource, fields, schema = _binding(name, receiver)
    for field, item_name in fields.items():
        item = resource.item(item_name)
        kinds = json_kinds(schema["properties"][field])
        kind = VALUE_TYPES[item.type]["json"]
        assert kind_fits(kind, kinds), (
            f"{name}.{item_name} ({item.type} → {kind}) feeds {field} {sorted(kinds)}"
        )
        if not item.required:
            # An empty value goes out as null.
            assert "null" in kinds, f"{field} is not nullable, so {name}.{item_name} must be required"
        field_schema = resolve(schema["properties"][field])
        for bound, limit in (("minimum", item.min), ("maximum", item.max)):
            if bound in field_schema:
                assert limit == field_schema[bound], f"{name}.{item_name}: {bound} {field_schema[bound]}"


@pytest.mark.parametrize(("name", "receiver"), [(n, r) for n, r, _ in BINDINGS], ids=IDS)
def test_every_code_of_a_mapped_code_list_is_accepted(name: str, receiver: str):
    catalog, resource, fields, _ = _binding(name, receiver)
    target = resource.receivers[receiver]["resource"]
    for field, item_name in fields.items():
        item = resource.item(item_name)
        if item.type not in ("code", "code_list"):
            continue
        check = validator(f"#/components/schemas/{target}/properties/{field}")
        for code in catalog.codelist(str(item.codelist)).codes():
            value = code if item.type == "code" else [code]
            errors = [e.message for e in check.iter_errors(value)]
            assert not errors, (
                f"{name}.{item_name}: code {code!r} of {item.codelist} refused by {field}: {errors}"
            )


@pytest.mark.parametrize(("name", "receiver"), [(n, r) for n, r, _ in BINDINGS], ids=IDS)
def test_payload_of_sample_values_validates(name: str, receiver: str):
    catalog, resource, fields, schema = _binding(name, receiver)
    target = resource.receivers[receiver]["resource"]
    full = {
        field: sample_value(resource.item(item), schema["properties"][field], catalog)
        for field, item in fields.items()
    }
    # Empty optional items go out as null (docs/catalog.md, "Receivers").
    minimal = {
        field: value if resource.item(fields[field]).required else None for field, value in full.items()
    }
    check = validator(f"#/components/schemas/{target}")
    for payload in (full, minimal):
        errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in check.iter_errors(payload)]
        assert not errors, f"{name} payload {payload} refused: {errors}"
