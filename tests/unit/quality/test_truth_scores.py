"""The pipeline against the generator's truth: precision and recall 1.0 for every decidable quirk kind.

One small legacy database (SQLite, fixed seed, every quirk kind present) runs through the whole pipeline for
every resource that has a manifest; each quirk instance is traced to the records and items it reaches and
scored (tests/truth_scores.py). Quirk kinds this pipeline cannot decide yet are listed with the reason, and
a kind that is neither measured nor listed fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest
import sqlalchemy as sa
from pipeline_checks import LOGICAL
from truth_scores import Judged, Scores, attribute_values, decision_cells, judged_resources, score

from catalog import default_catalog
from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from sandbox.legacy import QUIRKS, generate_legacy, read_truth
from schemas.manifest import manifest_for, manifests

SCALE, SEED = 0.02, 29
# T_ZDWXY has 12 rows at this scale: coordinates, read only there, need higher rates to occur at all.
RATES = {"coord.swapped": 0.15, "coord.zero": 0.15, "coord.outside": 0.15}

# Decided by another part of the project, each with its own tests.
ELSEWHERE = {
    "gxsj.null": "GXSJ is no item: it decides what an incremental read sees (tests/unit/exchange/test_change_capture.py)",
    "gxsj.bulk": "GXSJ is no item: it decides what an incremental read sees (tests/unit/exchange/test_change_capture.py)",
    "gxsj.future": "GXSJ is no item: the watermark stays at the run's start (test_change_capture.py)",
}  # fmt: skip
# Only in legacy columns no manifest reads yet (none at present: every quirk kind's column is read).
NO_MANIFEST: dict[str, str] = {}


@dataclass(frozen=True)
class Scored:
    """The run, its scores and the engines to check it by."""

    scores: Scores
    truth: pd.DataFrame
    judged: dict[str, Judged]
    curated_url: str


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Scored:
    work = tmp_path_factory.mktemp("truth")
    urls = {name: f"sqlite:///{work / name}.db" for name in ("legacy", "curated", "exchange")}
    generate_legacy(urls["legacy"], scale=SCALE, seed=SEED, truth_path=work / "truth.parquet", rates=RATES)
    catalog = default_catalog()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SDX_HOME", str(work / "sdx_home"))
        for conn_id, name in (
            ("legacy_supervision", "legacy"),
            ("curated", "curated"),
            ("bigdata_centre", "exchange"),
        ):
            patch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", f'{{"conn_type": "generic", "extra": {{"sqlalchemy_url": "{urls[name]}"}}}}')  # fmt: skip
        run_pipeline(RunContext(run_id="truth-1", logical_date=LOGICAL))
        legacy, curated = sa.create_engine(urls["legacy"]), sa.create_engine(urls["curated"])
        try:
            judged = judged_resources(catalog, "truth-1", LOGICAL, curated)
            cells = decision_cells(legacy, catalog, "truth-1")
            values = attribute_values(legacy, manifests()["permits"])
        finally:
            legacy.dispose()
            curated.dispose()
    truth = read_truth(work / "truth.parquet")
    scores = score(truth, cells, judged, catalog, values, ELSEWHERE)
    print_table(scores.table)
    return Scored(scores, truth, judged, urls["curated"])


def print_table(table: pd.DataFrame) -> None:
    """The per-quirk table, with the reason beside every kind not measured here."""
    shown = table.assign(reason=[ELSEWHERE.get(q) or NO_MANIFEST.get(q) or "" for q in table.index]).fillna(
        {"precision": "-", "recall": "-"}
    )
    with pd.option_context("display.width", 250, "display.max_rows", 200, "display.max_colwidth", 90):
        print("\n" + shown.to_string(float_format=lambda v: f"{v:.3f}"))


def test_every_quirk_kind_is_generated(scored: Scored):
    assert set(scored.truth["quirk"]) == set(QUIRKS)


def test_every_quirk_kind_is_measured_or_listed_with_a_reason(scored: Scored):
    table = scored.scores.table
    measured = set(table.index[table["decisions"] > 0]) - set(ELSEWHERE)
    unaccounted = set(QUIRKS) - measured - set(ELSEWHERE) - set(NO_MANIFEST)
    assert not unaccounted, f"neither measured nor listed: {sorted(unaccounted)}"
    # A listed column a manifest starts reading must move from the list to the measured kinds.
    now_read = {q for q in NO_MANIFEST if table.at[q, "decisions"] > 0}
    assert not now_read, f"listed as unread but now reached by a manifest: {sorted(now_read)}"


def test_every_measured_quirk_kind_has_precision_and_recall_one(scored: Scored):
    table = scored.scores.table
    measured = table[(table["decisions"] > 0) & ~table.index.isin(list(ELSEWHERE))]
    short = measured[(measured["precision"] < 1.0) | (measured["recall"] < 1.0)]
    wrong = scored.scores.decisions[~scored.scores.decisions["right"]]
    assert short.empty, f"\n{short}\n{wrong[wrong['quirk'].isin(short.index)].head(20).to_string()}"


def test_every_refusal_is_explained_by_the_truth(scored: Scored):
    unexplained = scored.scores.unexplained
    assert unexplained.empty, unexplained.head(20).to_string()


def _live(judged: Judged) -> pd.DataFrame:
    records = judged.records
    return records[~records["quarantined"] & ~records["deleted"].astype(bool)]


def _curated_ids(name: str, judged: Judged) -> set[tuple[str, str]]:
    """The curated record ids the judged batch makes: one per row, or one per group of a merged resource."""
    live = _live(judged)
    if judged.group is None:
        return {(name, rid) for rid in live["record_id"]}
    return {(name, manifest_for(name).record_id_prefix + code) for code in live[judged.group]}


def test_the_scored_decisions_are_the_runs(scored: Scored):
    # The scores read the batch judged again from staging: it must be what the run curated and quarantined.
    engine = sa.create_engine(scored.curated_url)
    try:
        with engine.connect() as conn:
            open_rows = set(conn.execute(sa.text("SELECT resource, record_id FROM sdx_quarantine WHERE resolved_at IS NULL")))  # fmt: skip
            curated = {
                (name, rid)
                for name in scored.judged
                for (rid,) in conn.execute(
                    sa.text(f"SELECT record_id FROM cur_{name} WHERE sdx_deleted = false")
                )
            }
            merged = set(conn.execute(sa.text("SELECT resource, source_key, group_key FROM sdx_merged_row WHERE deleted = false")))  # fmt: skip
    finally:
        engine.dispose()
    judged_quarantined = {
        (name, rid)
        for name, j in scored.judged.items()
        for rid in j.records.loc[j.records["quarantined"], "record_id"]
    }
    judged_live = set().union(*(_curated_ids(name, j) for name, j in scored.judged.items()))
    # Derived resources are not scored here (their quarantine is tests/unit/exchange/test_hazchem_enterprises.py's).
    assert judged_quarantined and {r for r in open_rows if r[0] in scored.judged} == judged_quarantined
    assert judged_live and curated == judged_live
    # Rows of one record: every live row the run kept is in the group its judged (twin-resolved) code says.
    judged_merged = {
        (name, key, code)
        for name, j in scored.judged.items()
        if j.group is not None
        for key, code in zip(_live(j)["source_key"], _live(j)[j.group], strict=True)
    }
    assert judged_merged and merged == judged_merged
