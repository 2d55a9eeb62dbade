"""GB/T 36904 electronic licence identifiers: built and checked against the standards' vectors."""

from __future__ import annotations

import pytest

from catalog import default_catalog
from quality.standardize.identifiers import build_licence_id, is_valid_licence_id

# standards/README.md: a published identifier and a published file name.
PUBLISHED = [
    ("11100000000013338W011", "11430000006122244L", "20230000403", 1,
     "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"),
    ("11100000000013338W009", "11330105002500287C", "2025052201", 2,
     "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0"),
]  # fmt: skip


@pytest.mark.parametrize(("type_code", "issuer", "serial", "version", "expected"), PUBLISHED)
def test_built_identifier_is_the_published_one(type_code, issuer, serial, version, expected):
    assert build_licence_id(type_code, issuer, serial, version) == expected
    assert is_valid_licence_id(expected)


def test_a_wrong_check_character_is_refused():
    assert not is_valid_licence_id(PUBLISHED[0][4][:-1] + "V")


def test_every_type_and_authority_gives_a_valid_identifier_with_its_parts():
    catalog = default_catalog()
    for entry in catalog.codelist("permit_types").entries:
        for authority in catalog.codelist("authorities").codes():
            built = build_licence_id(entry.attributes["licence_type_code"], authority, "0A1B2C", 7)
            assert is_valid_licence_id(built)
            assert built.split(".")[5:9] == [
                entry.attributes["licence_type_code"],
                authority,
                "0A1B2C",
                "007",
            ]


def test_a_version_beyond_three_digits_is_not_an_identifier():
    assert not is_valid_licence_id(build_licence_id(*PUBLISHED[0][:3], 1000))
