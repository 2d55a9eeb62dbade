"""Licences built from the curated 18 types, through the whole pipeline on a generated SQLite legacy database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from change_scenario import Expected, apply_changes
from pipeline_checks import LOGICAL, generated_databases, type_resources, watermark

from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from quality.standardize.identifiers import is_valid_licence_id

TYPES = [r.name for r in type_resources()]
RESOURCES = [*TYPES, "licences"]
LICENCE_COLUMNS = (
    "record_id, sdx_source_key, licence_id, associated_licence_id, sxbm, holder_id_type, sdx_seq"
)


@dataclass(frozen=True)
class Night:
    """One run: its statistics, then every certificate and licence as the curated database holds them."""

    stats: dict
    certificates: dict[str, dict]  # certificate record id → its type, seq, deleted flag and run id
    licences: dict[str, dict]  # certificate record id → its licence row


@dataclass(frozen=True)
class Nights:
    first: Night
    changed: Night  # after one change of every kind to 0101 certificates, an incremental run
    quiet: Night  # the same again: nothing changed
    snapshot: Night  # a snapshot run, which also sees the changes made without GXSJ
    expected: Expected


def _read(curated_url: str) -> tuple[dict[str, dict], dict[str, dict]]:
    engine = sa.create_engine(curated_url)
    certificates: dict[str, dict] = {}
    with engine.connect() as conn:
        for resource in type_resources():
            rows = conn.execute(
                sa.text(f"SELECT record_id, sdx_seq, sdx_deleted, sdx_run_id FROM cur_{resource.name}")
            )
            certificates |= {
                r[0]: {"type": resource.permit_type, "seq": r[1], "deleted": bool(r[2]), "run": r[3]}
                for r in rows
            }
        rows = conn.execute(sa.text(f"SELECT {LICENCE_COLUMNS}, sdx_deleted, sdx_run_id FROM cur_licences"))
        licences = {r.sdx_source_key: dict(r._mapping) | {"sdx_deleted": bool(r.sdx_deleted)} for r in rows}
    engine.dispose()
    return certificates, licences


def _night(urls: dict[str, str], run_id: str, mode: str = "incremental") -> Night:
    stats = run_pipeline(RunContext(run_id=run_id, logical_date=LOGICAL, mode=mode), RESOURCES)
    return Night(stats, *_read(urls["curated"]))


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Nights:
    with generated_databases(tmp_path_factory.mktemp("licences"), scale=0.02, seed=11) as urls:
        first = _night(urls, "run-1")
        expected = apply_changes(urls["legacy"], urls["curated"], watermark(urls["curated"]))
        changed = _night(urls, "run-2")
        quiet = _night(urls, "run-3")
        snapshot = _night(urls, "run-4", mode="snapshot")
    return Nights(first, changed, quiet, snapshot, expected)


def _live(rows: dict[str, dict]) -> set[str]:
    return {key for key, row in rows.items() if not row.get("deleted", row.get("sdx_deleted"))}


def _written(night: Night, run_id: str) -> tuple[set[str], set[str]]:
    """Certificates curated by a run, and the certificates whose licence the run wrote."""
    certificates = {k for k, c in night.certificates.items() if c["run"] == run_id}
    return certificates, {k for k, lic in night.licences.items() if lic["sdx_run_id"] == run_id}


def test_every_curated_certificate_of_the_18_types_has_exactly_one_licence(nights: Nights):
    first = nights.first
    assert {c["type"] for c in first.certificates.values()} == {r.permit_type for r in type_resources()}
    assert _live(first.licences) == _live(first.certificates) != set()
    assert first.stats["licences"]["standardize"]["quarantined"] == 0
    ids = [lic["licence_id"] for lic in first.licences.values()]
    assert len(set(ids)) == len(ids) and all(is_valid_licence_id(i) for i in ids)
    for key, licence in first.licences.items():
        certificate = first.certificates[key]
        assert licence["record_id"] == "DZZZ-" + key and licence["sxbm"] == certificate["type"]
        assert licence["holder_id_type"] == ("02" if certificate["type"] in ("0701", "0702") else "01")
        assert licence["licence_id"].split(".")[8] == f"{certificate['seq']:03d}"


def test_a_changed_certificate_yields_one_new_licence_version(nights: Nights):
    before, after = nights.first, nights.changed
    certificates, licences = _written(after, "run-2")
    assert certificates and licences == certificates
    # Only the certificates this run curated are read and rebuilt.
    assert after.stats["licences"]["extract"]["rows_read"] == len(certificates)
    updated = (certificates - nights.expected.inserted - nights.expected.deleted) & set(before.licences)
    assert updated
    for key in updated:
        old, new = before.licences[key], after.licences[key]
        assert new["sdx_seq"] == old["sdx_seq"] + 1
        assert (
            new["licence_id"].split(".")[8]
            == f"{after.certificates[key]['seq']:03d}"
            != old["licence_id"].split(".")[8]
        )
        assert new["associated_licence_id"] == old["licence_id"]
    for key in nights.expected.inserted:
        assert (
            after.licences[key]["licence_id"].split(".")[8] == "001"
            and not after.licences[key]["sdx_deleted"]
        )


def test_a_deleted_certificate_deletes_its_licence(nights: Nights):
    assert nights.expected.deleted
    for key in nights.expected.deleted:
        assert not nights.first.licences[key]["sdx_deleted"]
        assert nights.changed.certificates[key]["deleted"] and nights.changed.licences[key]["sdx_deleted"]
    assert nights.changed.stats["licences"]["curate"]["deleted"] == len(nights.expected.deleted)


def test_a_rerun_without_change_writes_no_licence(nights: Nights):
    cur = nights.quiet.stats["licences"]["curate"]
    assert cur["inserted"] == cur["updated"] == cur["deleted"] == 0
    assert nights.quiet.stats["licences"]["extract"]["rows_read"] == 0
    assert _written(nights.quiet, "run-3") == (set(), set())
    assert nights.quiet.licences == nights.changed.licences


def test_a_snapshot_run_rebuilds_only_the_licences_of_changed_certificates(nights: Nights):
    certificates, licences = _written(nights.snapshot, "run-4")
    # The changes made without GXSJ are found by the snapshot run only, and reach their licences.
    assert certificates & nights.expected.snapshot_only and licences == certificates
    assert _live(nights.snapshot.licences) == _live(nights.snapshot.certificates)
