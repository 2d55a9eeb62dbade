import shutil
from pathlib import Path

import pytest

from catalog import CatalogError, default_catalog, load_catalog
from schemas.manifest import check_against_catalog, manifests


def test_shipped_catalogue_loads_with_the_0101_resource():
    catalog = default_catalog()
    resource = catalog.resource("permit_0101")
    assert resource.permit_type == "0101"
    assert resource.asset_uri == "sdx://curated/permit_0101"
    # Items of the shared template come first, the resource's own after them.
    assert resource.item_names[0] == "zsbh" and resource.item_names[-1] == "ccdz"
    assert len(set(resource.item_names)) == len(resource.item_names)


def test_permit_types_code_list_holds_the_18_types():
    types = default_catalog().codelist("permit_types")
    assert len(types.codes()) == 18
    assert types.entry("0702").attributes["validity_years"] == 6


def test_every_manifest_agrees_with_the_catalogue():
    catalog = default_catalog()
    for manifest in manifests().values():
        assert check_against_catalog(manifest, catalog) == []


def test_unknown_resource_names_the_known_ones():
    with pytest.raises(CatalogError, match="permit_0101"):
        default_catalog().resource("no_such_thing")


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    root = Path(default_catalog().root)
    target = tmp_path / "catalog"
    shutil.copytree(root, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def test_item_without_type_is_named_with_its_file(catalog_copy: Path):
    template = catalog_copy / "templates" / "permit_certificate.yaml"
    template.write_text(
        template.read_text(encoding="utf-8").replace("type: text,     length: 100", "length: 100"),
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match=r"permit_certificate\.yaml: item zsbh: field 'type' is missing"):
        load_catalog(catalog_copy)


def test_resource_file_name_must_match_its_name(catalog_copy: Path):
    path = catalog_copy / "resources" / "permit_0101.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("name: permit_0101", "name: permit_x"), encoding="utf-8"
    )
    with pytest.raises(CatalogError, match=r"permit_0101\.yaml: field 'name'"):
        load_catalog(catalog_copy)
