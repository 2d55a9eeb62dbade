"""The manifest format: what the loader derives, and what it refuses with the file and field named."""

from __future__ import annotations

from pathlib import Path

import pytest
from yaml_edits import edited_copy

from schemas.manifest import ManifestError, load_manifest, manifests, prefix_clashes

SHIPPED = Path(__file__).resolve().parents[3] / "schemas" / "legacy"


def _edited(tmp_path: Path, source: str, edit) -> Path:
    return edited_copy(SHIPPED / f"{source}.yaml", tmp_path, edit)


def test_each_attribute_item_feeds_the_catalogue_item_of_its_name():
    permits = manifests()["permits"]
    assert permits.attributes is not None
    for item in permits.attributes.items:
        assert permits.items[item].column == f"attr.{item}"


def test_shipped_sources_have_short_distinct_record_id_prefixes():
    found = list(manifests().values())
    assert prefix_clashes(found) == []
    assert all(0 < len(m.record_id_prefix) <= 8 for m in found)


def test_a_prefix_two_sources_share_is_a_clash(tmp_path: Path):
    copy = load_manifest(_edited(tmp_path, "emergency_plans", lambda d: d.update(source="plans_copy")))
    assert prefix_clashes([*manifests().values(), copy]) == [
        "record_id_prefix 'YJYA-' is used by emergency_plans, plans_copy"
    ]


def test_a_long_record_id_prefix_is_refused(tmp_path: Path):
    path = _edited(tmp_path, "major_hazards", lambda d: d.update(record_id_prefix="ZDWXY-LONG-"))
    with pytest.raises(ManifestError, match="record_id_prefix"):
        load_manifest(path)


def test_a_presence_check_on_references_needs_the_reference_read(tmp_path: Path):
    def drop_qyid(data: dict) -> None:
        data["tables"]["khhg"]["columns"].remove("QYID")

    with pytest.raises(ManifestError, match=r"presence\.when_referenced: khhg\.QYID"):
        load_manifest(_edited(tmp_path, "competence_certificates", drop_qyid))


def test_an_unknown_match_kind_is_refused(tmp_path: Path):
    path = _edited(
        tmp_path, "special_operation_certificates", lambda d: d["tables"]["qy"].update(match="fuzzy")
    )
    with pytest.raises(ManifestError, match=r"tables\.qy\.match"):
        load_manifest(path)


def test_coordinates_must_name_items(tmp_path: Path):
    path = _edited(tmp_path, "major_hazards", lambda d: d["coordinates"].update(latitude="lat"))
    with pytest.raises(ManifestError, match="coordinates names 'lat'"):
        load_manifest(path)


def test_a_merge_must_name_items_and_columns_read(tmp_path: Path):
    merged = manifests()["enterprises"].merge
    assert merged is not None and merged.by == "tyshxydm"
    with pytest.raises(ManifestError, match=r"merge\.by names 'uscc'"):
        load_manifest(_edited(tmp_path, "enterprises", lambda d: d["merge"].update(by="uscc")))
    with pytest.raises(ManifestError, match=r"merge\.level: qy\.LRDWX is not a column read"):
        load_manifest(_edited(tmp_path, "enterprises", lambda d: d["merge"].update(level="qy.LRDWX")))


def test_an_item_may_read_several_columns_in_order_and_a_code_list_field():
    cases = manifests()["cases"]
    assert cases.items["case_no"].columns == ("sq.SLBH", "sq.SQID")
    lookup = cases.items["item_code"].lookup
    assert lookup is not None and (lookup.codelist, lookup.field) == ("permit_types", "item_code")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("table", "T_XK_ZS; DROP TABLE T_XK_ZS"),
        ("columns", ["ZSID", "ZSBH) --"]),
        ("change_column", "GXSJ OR 1=1"),
    ],
)
def test_legacy_names_must_be_plain_identifiers(tmp_path: Path, field, value):
    path = _edited(tmp_path, "permits", lambda d: d["tables"]["zs"].update({field: value}))
    with pytest.raises(ManifestError, match=rf"tables\.zs\.{field}: .* is not a plain SQL identifier"):
        load_manifest(path)
