"""Every shipped resource: loads, has a unique name, code and exchange table, and names only what exists."""

from __future__ import annotations

from collections import Counter

import pytest

from catalog import Catalog, Resource, load_catalog
from catalog.model import PERSONAL_CLASSES, VALUE_TYPES

CATALOG = load_catalog()
RESOURCES = sorted(CATALOG.resources.values(), key=lambda r: r.name)
NAMES = [r.name for r in RESOURCES]
SHARING_ATTRIBUTES = {"无条件共享", "有条件共享", "不予共享"}
CODE_PARTS = ("category", "item", "target", "detail", "sequence")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return CATALOG


def test_catalogue_holds_the_expected_resources(catalog: Catalog):
    permit_types = catalog.codelist("permit_types").codes()
    assert len(permit_types) == 18
    assert {r.permit_type for r in RESOURCES if r.permit_type} == set(permit_types)
    derived = {"enterprises", "cases", "licences", "industry_enterprises", "hazchem_enterprises"}
    assert derived | {"integrity_declarations"} <= set(NAMES)


def test_names_and_sequences_are_unique():
    assert len(set(NAMES)) == len(NAMES)
    sequences = Counter(r.metadata["code"]["sequence"] for r in RESOURCES)
    assert [s for s, n in sequences.items() if n > 1] == []


@pytest.mark.parametrize("resource", RESOURCES, ids=NAMES)
def test_resource_metadata_is_complete(resource: Resource):
    meta = resource.metadata
    assert resource.summary and resource.title
    assert set(meta["code"]) == set(CODE_PARTS)
    assert all(isinstance(meta["code"][part], str) for part in CODE_PARTS)
    assert len(meta["code"]["sequence"]) == 4
    for key in ("grain", "format", "classification", "opening", "update_cycle", "release_date"):
        assert meta.get(key), f"{resource.name}: {key} is missing"
    assert meta["sharing"]["attribute"] in SHARING_ATTRIBUTES
    assert meta["sharing"].get("way")
    if meta["sharing"]["attribute"] == "有条件共享":
        assert meta["sharing"].get("condition"), f"{resource.name}: a conditional share names its condition"
    for related in meta.get("related", []):
        assert related in CATALOG.resources and related != resource.name


@pytest.mark.parametrize("resource", RESOURCES, ids=NAMES)
def test_items_have_known_types_and_existing_code_lists(resource: Resource, catalog: Catalog):
    assert len(set(resource.item_names)) == len(resource.item_names), "item names repeat"
    for item in resource.items:
        assert item.type in VALUE_TYPES, f"{resource.name}.{item.name}: unknown type {item.type}"
        assert item.name.isidentifier() and item.name == item.name.lower()
        if item.type in ("code", "code_list"):
            assert item.codelist in catalog.codelists, (
                f"{resource.name}.{item.name}: no code list {item.codelist}"
            )
        else:
            assert item.codelist is None, f"{resource.name}.{item.name}: a code list on a {item.type} item"
        assert item.personal in (None, *PERSONAL_CLASSES)
        if item.min is not None and item.max is not None:
            assert item.min <= item.max


@pytest.mark.parametrize("resource", RESOURCES, ids=NAMES)
def test_rules_and_receivers_name_existing_items(resource: Resource):
    for rule in resource.rules:
        names = rule.item_names() + [name for name in rule.params.get("when", {})]
        for name in names:
            assert name in resource.item_names, f"{resource.name}: rule {rule.rule} reads unknown item {name}"
    centre = resource.receivers.get("bigdata_centre")
    if centre:
        for key, default in (("division_item", "xzqhdm"), ("provider_item", None)):
            name = centre.get(key, default)
            if name is not None:
                assert name in resource.item_names, f"{resource.name}: {key} {name} is not an item"
        for name in centre.get("exclude", []):
            assert name in resource.item_names


def test_permit_and_filing_types_go_to_the_big_data_centre_in_unique_tables():
    tables = [r.receivers["bigdata_centre"]["table"] for r in RESOURCES if "bigdata_centre" in r.receivers]
    assert len(set(tables)) == len(tables)
    for resource in RESOURCES:
        if resource.permit_type:
            assert "bigdata_centre" in resource.receivers, f"{resource.name} is not bound for the centre"
            table = resource.receivers["bigdata_centre"]["table"]
            assert table.endswith(resource.permit_type) and table == table.lower()
            # The division column the centre's HJ_XZQHDM comes from.
            assert resource.receivers["bigdata_centre"].get("division_item", "xzqhdm") in resource.item_names


def test_enterprise_master_is_conditional_and_goes_nowhere(catalog: Catalog):
    enterprises = catalog.resource("enterprises")
    assert enterprises.metadata["sharing"]["attribute"] == "有条件共享"
    assert enterprises.receivers == {}
    assert enterprises.item("tyshxydm").required
