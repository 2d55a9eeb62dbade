"""The derived-source format: what the loader reads, what it refuses, and how a derived source is staged."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from yaml_edits import edited_copy

from catalog import default_catalog
from schemas.derived import check_derivation, derivations, inputs_fed, load_derivation
from schemas.manifest import ManifestError, manifest_for

SHIPPED = Path(__file__).resolve().parents[3] / "schemas" / "derived"


def _edited(tmp_path: Path, name: str, edit) -> Path:
    return edited_copy(SHIPPED / f"{name}.yaml", tmp_path, edit)


def test_shipped_derived_sources_agree_with_the_catalogue():
    catalog = default_catalog()
    assert set(derivations()) == {"licences", "hazchem_enterprises"}
    for derivation in derivations().values():
        assert check_derivation(derivation, catalog) == []


def test_licences_read_each_of_the_18_types():
    typed = {name for name, r in default_catalog().resources.items() if r.permit_type}
    assert len(typed) == 18 and set(derivations()["licences"].input_names()) == typed


def test_a_derived_resource_is_staged_as_a_one_resource_source():
    manifest = manifest_for("licences")
    assert manifest.source == "licences" and manifest.resources() == ["licences"]
    assert manifest.partition_label is None and manifest.record_id_prefix == "DZZZ-"
    assert set(manifest.items) == set(default_catalog().resource("licences").item_names)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("per"), "field 'per' is missing"),
        (lambda d: d.update(per="enterprise"), "per is 'record' or"),
        (
            lambda d: d["inputs"]["permit_0101"].update(cert_no={"from": "zsbh", "value": "x"}),
            "exactly one of",
        ),
        (
            lambda d: d["inputs"]["filing_0601"].update(sxbm={"from": "babh", "leave_out": []}),
            "only go with a builder",
        ),
        (lambda d: d.update(resource="licence"), "the file is called licences"),
    ],
)
def test_malformed_files_are_refused_naming_the_field(tmp_path, edit, message):
    with pytest.raises(ManifestError, match=message):
        load_derivation(_edited(tmp_path, "licences", edit))


def _problems(tmp_path, name, edit):
    return check_derivation(load_derivation(_edited(tmp_path, name, edit)), default_catalog())


def test_disagreements_with_the_catalogue_are_named(tmp_path):
    assert _problems(tmp_path, "licences", lambda d: d["inputs"]["filing_0602"].pop("cert_no")) == [
        "derived licences: input filing_0602: item cert_no has no source"
    ]
    assert _problems(
        tmp_path, "licences", lambda d: d["inputs"]["filing_0602"].update(cert_no={"from": "zsbh"})
    ) == ["derived licences: filing_0602.zsbh is not an item of the catalogue"]
    assert _problems(tmp_path, "hazchem_enterprises", lambda d: d["inputs"].append("permit_9999")) == [
        "derived hazchem_enterprises: reads unknown resource permit_9999"
    ]
    assert _problems(tmp_path, "hazchem_enterprises", lambda d: d["master"].update(input="permit_0201")) == [
        "derived hazchem_enterprises: master permit_0201 is not one of the inputs"
    ]
    assert _problems(tmp_path, "hazchem_enterprises", lambda d: d.update(record_id_prefix="XKZ-")) == [
        "derived hazchem_enterprises: record_id_prefix is also permits's"
    ]


def test_a_derivation_is_fed_when_every_input_has_a_source():
    licences = derivations()["licences"]
    assert inputs_fed(licences)  # the 18 types all have legacy manifests
    assert not inputs_fed(dataclasses.replace(licences, inputs={**licences.inputs, "unfed_resource": {}}))
