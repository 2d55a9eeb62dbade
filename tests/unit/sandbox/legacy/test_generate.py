"""The legacy generator on SQLite: tables, determinism, quirk coverage, and a truth file that is true."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from stdnum.cn import ric, uscc
from stdnum.iso7064 import mod_11_10

from sandbox.legacy import LEGACY_TABLES, QUIRKS, GenerationSummary, generate_legacy, read_truth
from sandbox.legacy.codes import is_valid_org_code
from sandbox.legacy.generate import row_counts
from sandbox.legacy.places import DISTRICT_BY_CODE, LAT_RANGE, LON_RANGE, RETIRED_CODES
from sandbox.legacy.quirks import DATE_AND_TIME_COLUMNS
from sandbox.legacy.truth import OUTCOMES, TRUTH_SCHEMA

PROJECT = Path(__file__).resolve().parents[4]
SCALE = 0.02
CURRENT_DIVISIONS = set(DISTRICT_BY_CODE)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PHONE = re.compile(r"1\d{10}|0519-\d{8}")


class Generated:
    """One generated database with its summary and truth, shared by the tests that only read it."""

    def __init__(self, url: str, summary: GenerationSummary, truth: pd.DataFrame) -> None:
        self.url = url
        self.summary = summary
        self.truth = truth
        self.engine = sa.create_engine(url)

    def table(self, name: str) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return pd.DataFrame(conn.execute(sa.select(LEGACY_TABLES[name])).mappings().all())

    def truth_of(self, quirk: str) -> pd.DataFrame:
        return self.truth[self.truth["quirk"] == quirk]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    folder = tmp_path_factory.mktemp("legacy")
    url = f"sqlite:///{folder / 'legacy.sqlite'}"
    summary = generate_legacy(url, scale=SCALE, seed=0, truth_path=folder / "truth.parquet")
    result = Generated(url, summary, read_truth(folder / "truth.parquet"))
    yield result
    result.engine.dispose()


def dump(url: str) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        content = {
            name: [tuple(row) for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns))]
            for name, table in LEGACY_TABLES.items()
        }
    engine.dispose()
    return content


# --- tables and sizes ----------------------------------------------------------------------------


def test_every_table_is_created_and_filled(generated: Generated) -> None:
    inspector = sa.inspect(generated.engine)
    assert set(inspector.get_table_names()) == set(LEGACY_TABLES)
    expected = row_counts(SCALE)
    with generated.engine.connect() as conn:
        for name, table in LEGACY_TABLES.items():
            stored = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            assert stored == expected[name] == generated.summary.rows[name] > 0, name


def test_code_tables_hold_the_18_types_and_the_legacy_divisions(generated: Generated) -> None:
    types = generated.table("T_DM_SXLX").set_index("SXBM")
    assert len(types) == 18
    validity = types["YXQNS"].to_dict()
    assert {code: validity[code] for code in ("0101", "0202", "0401", "0601", "0702")} == {
        "0101": 3,
        "0202": 2,
        "0401": 2,
        "0601": 3,
        "0702": 6,
    }
    assert types.loc[["0402", "0403", "0404", "0405"], "YXQNS"].isna().all()
    divisions = generated.table("T_DM_XZQH").set_index("DM")
    assert 35 <= len(divisions) <= 45
    assert divisions.loc["JKQ", "MC"] == "经开区"
    assert divisions.loc["320482", "SFYX"] == "0" and divisions.loc["320412", "SFYX"] == "1"


def test_row_counts_scale_and_never_fall_below_five() -> None:
    small, large = row_counts(0.1), row_counts(0.2)
    assert large["T_XK_KZ"] == 2 * small["T_XK_KZ"] == 30_000
    assert row_counts(1.0)["T_QY_JBXX"] == 40_000
    tiny = row_counts(0.00001)
    assert tiny["T_DM_SXLX"] == 18 and tiny["T_DM_XZQH"] == small["T_DM_XZQH"]
    assert min(tiny.values()) == 5
    with pytest.raises(ValueError, match="scale"):
        row_counts(0)


def test_a_tiny_database_still_has_rows_everywhere(tmp_path: Path) -> None:
    summary = generate_legacy(f"sqlite:///{tmp_path / 'tiny.sqlite'}", scale=0.0001, seed=3)
    assert all(rows >= 5 for rows in summary.rows.values())


# --- determinism ----------------------------------------------------------------------------------


def test_same_seed_gives_the_same_database_and_truth_another_seed_does_not(tmp_path: Path) -> None:
    runs = {}
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        url = f"sqlite:///{tmp_path / name}.sqlite"
        generate_legacy(url, scale=0.01, seed=seed, truth_path=tmp_path / f"{name}.parquet")
        runs[name] = dump(url), read_truth(tmp_path / f"{name}.parquet")
    assert runs["a"][0] == runs["b"][0]
    pd.testing.assert_frame_equal(runs["a"][1], runs["b"][1])
    assert runs["a"][0]["T_QY_JBXX"] != runs["c"][0]["T_QY_JBXX"]
    assert not runs["a"][1].equals(runs["c"][1])


def test_progress_reports_every_table_to_its_total(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    summary = generate_legacy(
        f"sqlite:///{tmp_path / 'p.sqlite'}", scale=0.01, seed=1, progress=lambda *call: calls.append(call)
    )
    last = {table: (done, total) for table, done, total in calls}
    assert last == {table: (rows, rows) for table, rows in summary.rows.items()}


def test_generating_again_replaces_the_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'again.sqlite'}"
    generate_legacy(url, scale=0.02, seed=1)
    summary = generate_legacy(url, scale=0.01, seed=1)
    assert dump(url)["T_QY_JBXX"].__len__() == summary.rows["T_QY_JBXX"] == 400


# --- quirks ---------------------------------------------------------------------------------------


def test_every_quirk_occurs_at_scale_002_with_default_rates(generated: Generated) -> None:
    assert set(generated.truth["quirk"]) == set(QUIRKS)
    assert set(generated.summary.quirks) == set(QUIRKS)
    assert generated.summary.quirks == generated.truth["quirk"].value_counts().to_dict()


def test_rates_override_the_defaults_and_unknown_quirks_are_refused(tmp_path: Path) -> None:
    summary = generate_legacy(
        f"sqlite:///{tmp_path / 'r.sqlite'}", scale=0.01, seed=2, rates={"uscc.typo": 0, "uscc.empty": 0.5}
    )
    assert "uscc.typo" not in summary.quirks
    assert summary.quirks["uscc.empty"] == 200
    with pytest.raises(ValueError, match=r"no\.such"):
        generate_legacy(f"sqlite:///{tmp_path / 'x.sqlite'}", scale=0.01, rates={"no.such": 0.1})


def test_duplicates_make_about_36800_enterprises_of_40000_rows() -> None:
    rate = QUIRKS["enterprise.duplicate"].rate
    assert round(40_000 / (1 + rate)) == pytest.approx(36_800, abs=50)


# --- the truth file -------------------------------------------------------------------------------


def test_truth_file_has_the_documented_columns_and_values(generated: Generated) -> None:
    truth = generated.truth
    assert list(truth.columns) == TRUTH_SCHEMA.names
    assert set(truth["outcome"]) <= set(OUTCOMES)
    assert truth["decidable"].dtype == bool
    assert set(truth["table"]) <= set(LEGACY_TABLES)
    row_level = truth["quirk"].map(lambda quirk: QUIRKS[quirk].row_level)
    assert truth.loc[row_level, "column"].isna().all()
    assert truth.loc[~row_level, "column"].notna().all()
    assert not truth.loc[~row_level].duplicated(["table", "key", "column"]).any()
    undecidable = truth[~truth["decidable"]]
    assert undecidable["note"].notna().all()


def test_every_issue_code_is_in_quality_issues_yaml(generated: Generated) -> None:
    issues = yaml.safe_load((PROJECT / "quality" / "issues.yaml").read_text(encoding="utf-8"))
    assert set(generated.truth["issue"].dropna()) <= set(issues)


def test_raw_values_are_what_the_database_stores(generated: Generated) -> None:
    for name, rows in generated.truth.groupby("table"):
        table = LEGACY_TABLES[name]
        key = table.primary_key.columns.values()[0].name
        stored = generated.table(name).set_index(key)
        for truth in rows.itertuples():
            if truth.column is None or pd.isna(truth.column):
                continue
            value = stored.at[truth.key, truth.column]
            if pd.isna(value):
                value = None
            elif isinstance(value, datetime.datetime):
                value = f"{value:%Y-%m-%d %H:%M:%S}"
            assert value == (None if pd.isna(truth.raw) else truth.raw), truth


def test_expected_uscc_are_valid_and_pilot_codes_are_told_from_typos(generated: Generated) -> None:
    truth = generated.truth
    codes = truth[(truth["column"] == "TYSHXYDM") & (truth["outcome"] == "standardized")]
    assert len(codes) and codes["expected"].map(uscc.is_valid).all()
    for pilot in generated.truth_of("uscc.pilot").itertuples():
        assert not uscc.is_valid(pilot.raw) and is_valid_org_code(pilot.raw[8:17])
        assert pilot.outcome == "accepted" and pilot.issue == "uscc.pilot_check"
    for typo in generated.truth_of("uscc.typo").itertuples():
        assert not uscc.is_valid(typo.raw) and not is_valid_org_code(typo.raw[8:17])
    for truncated in generated.truth_of("uscc.truncated").itertuples():
        assert truncated.raw.isdigit() and truncated.raw.endswith("000") and not uscc.is_valid(truncated.raw)
    for number in generated.truth_of("uscc.registration_number").itertuples():
        assert len(number.raw) == 15 and mod_11_10.is_valid(number.raw)
    for code in generated.truth_of("uscc.organisation_code").itertuples():
        assert is_valid_org_code(code.raw)


def test_replaced_codes_are_resolved_exactly_when_a_twin_carries_the_uscc(generated: Generated) -> None:
    enterprises = generated.table("T_QY_JBXX").set_index("QYID")
    twins = generated.truth_of("enterprise.duplicate").set_index("expected")["key"]
    replaced = generated.truth[
        generated.truth["quirk"].isin(["uscc.registration_number", "uscc.organisation_code"])
    ]
    assert set(replaced["outcome"]) == {"standardized", "quarantined"}
    for row in replaced.itertuples():
        if row.outcome == "standardized":
            twin = enterprises.loc[twins[row.key]]
            assert twin["TYSHXYDM"] == row.expected and twin["SCBZ"] != "1"
            if row.quirk == "uscc.registration_number":
                assert twin["ZCH"] == row.raw
            else:
                assert row.expected[8:17] == row.raw.replace("-", "")
        else:
            assert row.key not in twins.index and row.issue == row.quirk


def test_expected_ids_are_valid_18_digit_numbers(generated: Generated) -> None:
    ids = generated.truth[generated.truth["column"] == "SFZH"]
    expected = ids["expected"].dropna()
    assert len(expected) and expected.map(lambda number: len(number) == 18 and ric.is_valid(number)).all()
    for retired in generated.truth_of("id.retired_address").itertuples():
        assert retired.raw == retired.expected and retired.outcome == "accepted"
        assert retired.raw[:6] in RETIRED_CODES
    for first in generated.truth_of("id.first_generation").itertuples():
        assert len(first.raw) == 15 and first.expected[:6] + first.expected[8:17] == first.raw
    for bad in generated.truth_of("id.bad_check").itertuples():
        assert not ric.is_valid(bad.raw) and bad.outcome == "quarantined"


def test_expected_dates_are_real_dates(generated: Generated) -> None:
    truth = generated.truth
    dates = truth[truth["quirk"].str.startswith("date.") & (truth["outcome"] == "standardized")]
    assert len(dates)
    for value in dates["expected"]:
        assert ISO_DATE.fullmatch(value) and datetime.date.fromisoformat(value)
    broken = truth[truth["quirk"].isin(["date.impossible", "date.zero", "date.placeholder"])]
    assert (broken["outcome"] == "quarantined").all() and broken["expected"].isna().all()


def test_divisions_standardize_to_current_codes_and_split_codes_follow_the_address(
    generated: Generated,
) -> None:
    truth = generated.truth
    divisions = truth[truth["quirk"].str.startswith("division.")]
    assert set(divisions["expected"].dropna()) <= CURRENT_DIVISIONS
    enterprises = generated.table("T_QY_JBXX").set_index("QYID")
    retired = generated.truth_of("division.retired_code")
    for row in retired.itertuples():
        successors = RETIRED_CODES[row.raw].successors
        addresses = " ".join(str(enterprises.at[row.key, column]) for column in ("ZCDZ", "JYDZ"))
        named = [code for code in successors if DISTRICT_BY_CODE[code].name in addresses]
        if row.outcome == "quarantined":
            assert len(successors) > 1 and not named and row.issue == "division.ambiguous"
        else:
            assert row.expected in successors
            assert len(successors) == 1 or named == [row.expected]


def test_several_phones_expect_every_number_in_order(generated: Generated) -> None:
    # The field standardizes to all of its numbers, ';'-joined; an item keeping one takes the first.
    several = generated.truth_of("phone.multiple")
    assert len(several)
    for row in several.itertuples():
        numbers = row.expected.split(";")
        assert len(numbers) >= 2 and all(PHONE.fullmatch(number) for number in numbers)
        assert PHONE.findall(row.raw) == numbers


def test_coordinates_and_status_answers(generated: Generated) -> None:
    for row in generated.truth_of("coord.swapped").itertuples():
        low, high = LON_RANGE if row.column == "JD" else LAT_RANGE
        assert low <= float(row.expected) <= high
    statuses = yaml.safe_load(
        (PROJECT / "catalog" / "codelists" / "certificate_status.yaml").read_text("utf-8")
    )
    legacy = {entry["code"]: set(entry["legacy"]) for entry in statuses["entries"]}
    for row in generated.truth_of("status.free_text").itertuples():
        assert row.raw in legacy[row.expected]
    for row in generated.truth_of("status.contradicts_dates").itertuples():
        assert row.raw == "有效" and row.expected == "05"


def test_orphans_point_nowhere_or_to_deleted_enterprises(generated: Generated) -> None:
    enterprises = generated.table("T_QY_JBXX").set_index("QYID")
    for row in generated.truth_of("orphan.missing_enterprise").itertuples():
        assert row.raw not in enterprises.index and row.issue == "enterprise.missing"
    for row in generated.truth_of("orphan.deleted_enterprise").itertuples():
        assert enterprises.at[row.raw, "SCBZ"] == "1" and row.issue == "enterprise.deleted"


def test_records_outside_the_orphan_truth_belong_to_live_enterprises(generated: Generated) -> None:
    enterprises = generated.table("T_QY_JBXX")
    live = set(enterprises.loc[enterprises["SCBZ"] != "1", "QYID"])
    orphans = generated.truth[generated.truth["quirk"].str.startswith("orphan.")]
    for name in ("T_XK_SQ", "T_XK_ZS", "T_BA_YJYA", "T_ZDWXY", "T_HY_JGXX", "T_WH_CXSB", "T_PX_KHHG"):
        rows = generated.table(name)
        key = rows.columns[0]
        linked = rows[~rows[key].isin(set(orphans.loc[orphans["table"] == name, "key"]))]
        assert set(linked["QYID"].dropna()) <= live, name


def test_contradicting_statuses_sit_on_expired_certificates(generated: Generated) -> None:
    certificates = generated.table("T_XK_ZS").set_index("ZSID")
    ends = generated.truth[generated.truth["column"] == "YXQZ"].set_index("key")["expected"]
    contradictions = generated.truth_of("status.contradicts_dates")
    assert len(contradictions)
    for row in contradictions.itertuples():
        end = ends.get(row.key, certificates.at[row.key, "YXQZ"])
        assert datetime.date.fromisoformat(end) < datetime.date(2026, 11, 28)
    migrated = certificates[certificates["SQID"].isna()]
    assert 0 < len(migrated) < len(certificates) / 4


def test_duplicates_are_the_same_enterprise_under_another_qyid(generated: Generated) -> None:
    enterprises = generated.table("T_QY_JBXX").set_index("QYID")
    codes = generated.truth[generated.truth["column"] == "TYSHXYDM"].set_index("key")
    duplicates = generated.truth_of("enterprise.duplicate")
    assert len(duplicates)
    for row in duplicates.itertuples():
        twin, first = enterprises.loc[row.key], enterprises.loc[row.expected]
        assert twin["LRDW"] != first["LRDW"]
        if row.expected not in codes.index:
            assert row.decidable and twin["TYSHXYDM"] == first["TYSHXYDM"]
        elif row.decidable:
            assert twin["TYSHXYDM"] == codes.at[row.expected, "expected"]
        else:
            assert codes.at[row.expected, "outcome"] == "quarantined"


# --- clean values are clean (the truth is complete) -----------------------------------------------


def _quirky(truth: pd.DataFrame, table: str, column: str) -> set[str]:
    return set(truth.loc[(truth["table"] == table) & (truth["column"] == column), "key"])


def test_values_outside_the_truth_are_already_standard(generated: Generated) -> None:
    truth = generated.truth
    enterprises = generated.table("T_QY_JBXX")
    clean = enterprises[~enterprises["QYID"].isin(_quirky(truth, "T_QY_JBXX", "TYSHXYDM"))]
    assert clean["TYSHXYDM"].map(uscc.is_valid).all()
    clean = enterprises[~enterprises["QYID"].isin(_quirky(truth, "T_QY_JBXX", "XZQH"))]
    assert set(clean["XZQH"]) <= CURRENT_DIVISIONS
    for name in ("T_PX_KHHG", "T_TZZY_CZZ"):
        people = generated.table(name)
        key = people.columns[0]
        clean = people[~people[key].isin(_quirky(truth, name, "SFZH"))]
        assert clean["SFZH"].map(ric.is_valid).all(), name
    for target in DATE_AND_TIME_COLUMNS:
        name, column = target.split(".")
        rows = generated.table(name)
        key = rows.columns[0]
        values = rows.loc[~rows[key].isin(_quirky(truth, name, column)), column].dropna()
        assert values.map(lambda value: bool(ISO_DATE.match(value))).all(), target


def test_text_outside_the_truth_has_no_stray_spaces_or_full_width(generated: Generated) -> None:
    truth = generated.truth
    for target in ("T_QY_JBXX.QYMC", "T_QY_JBXX.ZCDZ", "T_PX_KHHG.XM", "T_BA_YJYA.YAMC"):
        name, column = target.split(".")
        rows = generated.table(name)
        key = rows.columns[0]
        values = rows.loc[~rows[key].isin(_quirky(truth, name, column)), column].dropna()
        assert values.map(
            lambda text: text == text.strip() and text.isprintable() and "\u3000" not in text
        ).all()
        assert not values.str.contains("[０-９Ａ-Ｚ（）]").any(), target
