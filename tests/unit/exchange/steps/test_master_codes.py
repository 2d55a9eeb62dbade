"""Old codes of a joined enterprise row resolved by the enterprise master's merged rows (`master:`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pandas as pd
import pytest
import sqlalchemy as sa
from stdnum.iso7064 import mod_11_10

from catalog import default_catalog
from exchange import state
from exchange.steps import merge
from quality.records import standardize_records
from quality.standardize.enterprise_codes import organisation_code_check_char
from sandbox.legacy.codes import make_uscc
from schemas.manifest import manifests, master_problems, master_sources

MANIFEST = manifests()["integrity_declarations"]
RESOURCE = default_catalog().resource("integrity_declarations")
ORG = "12345678" + organisation_code_check_char("12345678")
USCC = make_uscc("320412", ORG)
OTHER = make_uscc("320412", "87654321" + organisation_code_check_char("87654321"))
REGISTRATION = "32040000012345" + mod_11_10.calc_check_digit("32040000012345")
NOW = dt.datetime(2026, 11, 29, 2, 0)


def _merged(qyid: str, group: str | None, *, deleted: bool = False, code: str | None = None) -> dict:
    return {"resource": "enterprises", "source_key": qyid, "group_key": group, "twin_key": None,
            "deleted": deleted, "newest": None, "level": 0, "data": json.dumps({"tyshxydm": code}),
            "warnings": None, "run_id": "r1", "updated_at": NOW}  # fmt: skip


@pytest.fixture
def curated(tmp_path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'curated.db'}")
    state.metadata.create_all(engine, tables=[state.merged_rows])
    with engine.begin() as conn:
        conn.execute(
            state.merged_rows.insert(),
            [_merged("Q-TWINNED", USCC), _merged("Q-GONE", USCC, deleted=True), _merged("Q-NONE", None),
             {**_merged("Q-TWINNED", "OTHER"), "resource": "permit_0101"},
             # Deleted rows resolved before: to a group a twin still keeps live, and to one none does.
             _merged("Q-FORMER", None, deleted=True, code=USCC), _merged("Q-ORPHANED", None, deleted=True, code=OTHER)],
        )  # fmt: skip
    yield engine
    engine.dispose()


def _raw(codes: dict[str, str]) -> pd.DataFrame:
    """Extracted declaration rows, one per enterprise key, each joined to a row carrying `code`."""
    columns = [label for label in _labels() if label not in ("sb.SBID", "qy.QYID", "qy.TYSHXYDM")]
    rows = [
        {"sb.SBID": f"SB{n}", "qy.QYID": qyid, "qy.TYSHXYDM": code, **dict.fromkeys(columns)}
        for n, (qyid, code) in enumerate(codes.items())
    ]
    return pd.DataFrame(rows, dtype=object)


def _labels() -> list[str]:
    labels = [f"{t.alias}.{c}" for t in MANIFEST.tables.values() for c in t.columns]
    return [*labels, *MANIFEST.change_labels(), MANIFEST.key_label]


def _resolved(curated: sa.Engine, raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    batch = standardize_records(RESOURCE, MANIFEST, raw, default_catalog())
    out = merge.resolve_by_master(curated, RESOURCE, MANIFEST, batch, raw, default_catalog())
    return out.records, out.findings


def _code_issues(findings: pd.DataFrame, row: int) -> set[str]:
    return set(findings.loc[(findings["row"] == row) & (findings["item"] == "tyshxydm"), "issue"])


def test_an_old_code_takes_the_usccs_of_the_enterprise_the_master_resolved(curated):
    raw = _raw(
        {"Q-TWINNED": REGISTRATION, "Q-ALONE": REGISTRATION, "Q-GONE": ORG, "Q-NONE": ORG, "Q-OK": USCC}
    )
    records, findings = _resolved(curated, raw)

    assert records.at[0, "tyshxydm"] == USCC
    assert _code_issues(findings, 0) == set()
    # Not merged, merged but deleted, merged without a group: the same refusal as before.
    assert _code_issues(findings, 1) == {"uscc.registration_number"}
    assert _code_issues(findings, 2) == {"uscc.organisation_code"}
    assert _code_issues(findings, 3) == {"uscc.organisation_code"}
    assert records.at[4, "tyshxydm"] == USCC and _code_issues(findings, 4) == set()


def test_a_deleted_master_row_leads_to_its_former_group_while_that_group_lives(curated):
    records, findings = _resolved(curated, _raw({"Q-FORMER": REGISTRATION, "Q-ORPHANED": REGISTRATION}))
    assert records.at[0, "tyshxydm"] == USCC and _code_issues(findings, 0) == set()
    assert _code_issues(findings, 1) == {"uscc.registration_number"}


def test_a_name_matched_code_is_resolved_instead_of_emptied(curated):
    manifest = manifests()["special_operation_certificates"]
    resource = default_catalog().resource("certificate_0702")
    labels = [f"{t.alias}.{c}" for t in manifest.tables.values() for c in t.columns]
    raw = pd.DataFrame(
        [{**dict.fromkeys([*labels, *manifest.change_labels()]), "czz.CZZID": f"C{n}", "qy.QYID": qyid,
          "qy.TYSHXYDM": REGISTRATION} for n, qyid in enumerate(["Q-TWINNED", "Q-ALONE"])],
        dtype=object,
    )  # fmt: skip
    batch = standardize_records(resource, manifest, raw, default_catalog())
    out = merge.resolve_by_master(curated, resource, manifest, batch, raw, default_catalog())
    assert out.records.at[0, "tyshxydm"] == USCC and _code_issues(out.findings, 0) == set()
    # Unresolved, it stays what a name match that cannot be used is: empty, with a warning.
    assert out.records.at[1, "tyshxydm"] is None and _code_issues(out.findings, 1) == {"match.unusable"}


def test_a_batch_without_old_codes_is_returned_as_it_is(curated):
    raw = _raw({"Q-TWINNED": USCC})
    batch = standardize_records(RESOURCE, MANIFEST, raw, default_catalog())
    assert merge.resolve_by_master(curated, RESOURCE, MANIFEST, batch, raw, default_catalog()) is batch


def test_only_items_naming_a_master_are_resolved(curated):
    plain = dataclasses.replace(
        MANIFEST,
        items={**MANIFEST.items, "tyshxydm": dataclasses.replace(MANIFEST.items["tyshxydm"], master=None)},
    )
    raw = _raw({"Q-TWINNED": REGISTRATION})
    batch = standardize_records(RESOURCE, plain, raw, default_catalog())
    out = merge.resolve_by_master(curated, RESOURCE, plain, batch, raw, default_catalog())
    assert _code_issues(out.findings, 0) == {"uscc.registration_number"}


def test_every_resource_reading_the_enterprise_code_names_the_master():
    for manifest in manifests().values():
        for name, source in manifest.items.items():
            joined = manifest.tables.get(source.column.split(".", 1)[0])
            if source.column.endswith(".TYSHXYDM") and manifest.merge is None and "QYID" in joined.columns:
                assert source.master == "enterprises", f"{manifest.source}.{name}"
    assert master_sources() == ["enterprises"]


def test_a_master_that_merges_nothing_or_is_not_the_joined_row_is_refused():
    permits = manifests()["permits"]
    wrong = dataclasses.replace(
        permits,
        items={**permits.items, "tyshxydm": dataclasses.replace(permits.items["tyshxydm"], master="cases")},
    )
    assert "is no resource that merges rows" in master_problems([wrong, *manifests().values()])[0]
    by_name = dataclasses.replace(
        permits,
        items={**permits.items, "tyshxydm": dataclasses.replace(permits.items["tyshxydm"], column="zs.ZSBH")},
    )
    (problem,) = master_problems([by_name, manifests()["enterprises"]])
    assert "is not read with qy.QYID" in problem
