"""The catalogue's 18 permit and filing types are the legacy code table's (T_DM_SXLX), one resource each."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from catalog import default_catalog
from sandbox.legacy import generate_legacy
from sandbox.legacy.permit_types import STORAGE_ADDRESS, STORAGE_ADDRESS_DRIFTS

LICENCE_TYPE_PREFIX = "11100000MB0000019L"
ITEM_CODE_PREFIX = "11320400014110243T"


@pytest.fixture(scope="module")
def legacy_types(tmp_path_factory: pytest.TempPathFactory) -> list[sa.Row]:
    url = f"sqlite:///{tmp_path_factory.mktemp('legacy') / 'l.db'}"
    generate_legacy(url, scale=0.01, seed=1)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(sa.text('SELECT "SXBM", "SXMC", "YXQNS" FROM "T_DM_SXLX" ORDER BY "SXBM"'))
            )
    finally:
        engine.dispose()


def test_code_list_has_the_legacy_codes_names_and_validity(legacy_types: list[sa.Row]):
    entries = default_catalog().codelist("permit_types").entries
    assert len(legacy_types) == 18
    assert [e.code for e in entries] == [row.SXBM for row in legacy_types]
    assert {e.code: e.name for e in entries} == {row.SXBM: row.SXMC for row in legacy_types}
    assert {e.code: e.attributes["validity_years"] for e in entries} == {
        row.SXBM: row.YXQNS for row in legacy_types
    }


def test_exactly_one_resource_carries_each_type(legacy_types: list[sa.Row]):
    carried = Counter(r.permit_type for r in default_catalog().resources.values() if r.permit_type)
    assert carried == Counter(row.SXBM for row in legacy_types)


def test_licence_type_and_item_codes_follow_the_table_order(legacy_types: list[sa.Row]):
    # contracts/README.md section 3: 001 (0101) … 018 (0702) in table order; item codes for 0101–0502.
    entries = {e.code: e.attributes for e in default_catalog().codelist("permit_types").entries}
    for number, row in enumerate(legacy_types, start=1):
        attributes = entries[row.SXBM]
        assert attributes["licence_type_code"] == f"{LICENCE_TYPE_PREFIX}{number:03d}"
        if row.SXBM <= "0502":
            assert attributes["item_code"] == f"{ITEM_CODE_PREFIX}{row.SXBM}000"
        else:
            assert "item_code" not in attributes  # 0601–0702 have no cases


# Legacy attributes a type has no item for yet, by SXBM: none (the permits manifest maps every one).
NOT_YET_ITEMS: dict[str, set[str]] = {}


@pytest.fixture(scope="module")
def legacy_attributes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set]:
    """SXBM → the T_XK_KZ attribute names its certificates carry, drifted spellings folded."""
    url = f"sqlite:///{tmp_path_factory.mktemp('legacy_kz') / 'l.db'}"
    generate_legacy(url, scale=0.05, seed=3)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    'SELECT DISTINCT zs."SXBM", kz."SXMC" FROM "T_XK_KZ" kz '
                    'JOIN "T_XK_ZS" zs ON zs."ZSID" = kz."ZSID"'
                )
            ).all()
    finally:
        engine.dispose()
    found: dict[str, set] = {}
    for code, name in rows:
        found.setdefault(code, set()).add(STORAGE_ADDRESS if name in STORAGE_ADDRESS_DRIFTS else name)
    return found


def test_each_type_has_an_item_for_every_legacy_attribute(legacy_attributes: dict[str, set]):
    resources = {r.permit_type: r for r in default_catalog().resources.values() if r.permit_type}
    assert set(legacy_attributes) == {code for code in resources if code <= "0502"}
    for code, names in sorted(legacy_attributes.items()):
        titles = {item.title for item in resources[code].items}
        waiting = NOT_YET_ITEMS.get(code, set())
        assert names - titles <= waiting, f"{resources[code].name} lacks items for {names - titles - waiting}"
        assert not waiting & titles, (
            f"{resources[code].name} has items for {waiting & titles}: update NOT_YET_ITEMS"
        )
