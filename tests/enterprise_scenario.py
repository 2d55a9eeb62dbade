"""The enterprise master and the resources built from legacy tables: checks and changes the flow tests share."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa
from stdnum.cn import uscc

from exchange.context import shanghai_now
from sandbox.legacy import LEGACY_TABLES
from schemas.manifest import manifests

# Each resource and the legacy table whose rows are its source rows.
SOURCE_TABLES = {
    "enterprises": "T_QY_JBXX",
    "cases": "T_XK_SQ",
    "industry_enterprises": "T_HY_JGXX",
    "integrity_declarations": "T_WH_CXSB",
}
QY = LEGACY_TABLES["T_QY_JBXX"]


def _frame(url: str, sql: str) -> pd.DataFrame:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return pd.DataFrame(conn.execute(sa.text(sql)).mappings().all())
    finally:
        engine.dispose()


def _keys(url: str, sql: str) -> set[str]:
    found = _frame(url, sql)
    return set(found.iloc[:, 0].astype(str)) if len(found) else set()


def check_every_row_accounted(legacy_url: str, curated_url: str, stats: dict[str, Any]) -> None:
    """Every source row of each resource was read, and is curated, quarantined or a soft delete."""
    for resource, table in SOURCE_TABLES.items():
        manifest = manifests()[resource]
        key = manifest.key_column
        std = stats[resource]["standardize"]
        legacy = _keys(legacy_url, f"SELECT {key} FROM {table}")
        assert std["extracted"] == len(legacy) > 0, resource
        assert std["valid"] + std["quarantined"] == std["extracted"], resource
        deleted = _keys(legacy_url, f"SELECT {key} FROM {table} WHERE SCBZ = '1'")
        quarantined = _keys(
            curated_url, f"SELECT DISTINCT source_key FROM sdx_quarantine WHERE resource = '{resource}'"
        )
        if manifest.merge is not None:
            curated = _keys(
                curated_url,
                f"SELECT source_key FROM sdx_merged_row WHERE resource = '{resource}' AND deleted = false",
            )
        else:
            curated = _keys(
                curated_url, f"SELECT sdx_source_key FROM cur_{resource} WHERE sdx_deleted = false"
            )
        assert legacy == curated | quarantined | deleted, resource
        assert not curated & quarantined, resource
        assert not curated & deleted, resource


def _item_columns(source: str) -> set[str]:
    return {column.split(".", 1)[1] for item in manifests()[source].items.values() for column in item.columns}


def check_enterprises_against_truth(legacy_url: str, curated_url: str, truth: pd.DataFrame) -> None:
    """The enterprise master holds one record per enterprise of the truth file that has a usable live row."""
    truth = truth[truth["table"] == "T_QY_JBXX"]
    rows = _frame(legacy_url, "SELECT QYID, SCBZ FROM T_QY_JBXX")
    deleted = set(rows.loc[rows["SCBZ"].astype(str) == "1", "QYID"])
    refused = truth[(truth["outcome"] == "quarantined") & truth["column"].isin(_item_columns("enterprises"))]
    expected_q = {(k, i) for k, i in zip(refused["key"], refused["issue"], strict=True) if k not in deleted}
    found = _frame(curated_url, "SELECT source_key, issue FROM sdx_quarantine WHERE resource = 'enterprises'")
    quarantined = set(zip(found["source_key"], found["issue"], strict=True))
    # Enterprise codes exactly as the truth file says; other refusals only where it says so too (on the
    # retired 320421 武进县 the truth file expects a refusal where the division standardizer follows the
    # code's single successor, as the standards say).
    on_codes = {(k, i) for k, i in expected_q if i.startswith("uscc.")}
    assert {(k, i) for k, i in quarantined if i.startswith("uscc.")} == on_codes
    assert quarantined <= expected_q

    # Old codes the truth file says a twin row resolves carry the twin's USCC.
    resolved = truth[(truth["column"] == "TYSHXYDM") & (truth["note"].fillna("").str.startswith("resolved"))]
    assert len(resolved) > 0
    merged = _frame(curated_url, "SELECT source_key, group_key FROM sdx_merged_row")
    groups = dict(zip(merged["source_key"], merged["group_key"], strict=True))
    assert {k: groups.get(k) for k in resolved["key"]} == dict(
        zip(resolved["key"], resolved["expected"], strict=True)
    )

    # One record per enterprise (a first row and its twins) with at least one live row that passed.
    twins = truth[truth["quirk"] == "enterprise.duplicate"]
    first_of = dict(zip(twins["key"], twins["expected"], strict=True))
    usable = set(rows["QYID"]) - deleted - {k for k, _ in quarantined}
    expected = {first_of.get(k, k) for k in usable}
    records = _frame(curated_url, "SELECT record_id, tyshxydm FROM cur_enterprises WHERE sdx_deleted = false")
    assert len(records) == len(expected) > 0
    assert all(records["record_id"] == "QY-" + records["tyshxydm"])
    assert all(uscc.is_valid(code) or code[8:10] == "M0" for code in records["tyshxydm"])  # pilot codes


def check_cases(curated_url: str, permit_types: dict[str, dict[str, Any]]) -> None:
    """Cases carry the item code and name of their type's code list entry."""
    cases = _frame(curated_url, "SELECT sxbm, item_code, item_name FROM cur_cases WHERE sdx_deleted = false")
    assert len(cases) > 0
    for row in cases.itertuples(index=False):
        assert (row.item_code, row.item_name) == (
            permit_types[row.sxbm]["item_code"],
            permit_types[row.sxbm]["name"],
        )


# --- changes to the enterprise rows between two runs ------------------------------------------------


@dataclass
class EnterpriseChanges:
    """What each change must leave in the curated master: record id → expected canonical QYID (or deleted)."""

    canonical: dict[str, str] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    phones: dict[str, str] = field(default_factory=dict)


def _groups(curated_url: str, size: int, n: int) -> list[tuple[str, list[str]]]:
    members = _frame(
        curated_url,
        "SELECT group_key, source_key FROM sdx_merged_row WHERE resource = 'enterprises' AND deleted = false",
    )
    sizes = members.groupby("group_key")["source_key"].agg(sorted)
    chosen = [(g, keys) for g, keys in sizes.items() if len(keys) == size][:n]
    assert len(chosen) == n, "the generated database is too small for the scenario"
    return chosen


def _canonical_key(curated_url: str, group: str) -> str:
    found = _frame(curated_url, f"SELECT sdx_source_key FROM cur_enterprises WHERE record_id = 'QY-{group}'")
    return str(found.iloc[0, 0])


def apply_enterprise_changes(legacy_url: str, curated_url: str) -> EnterpriseChanges:
    """Insert twins (one with an old code), update a twin, soft-delete a twin, delete all rows of one USCC."""
    now = shanghai_now().replace(tzinfo=None, microsecond=0)
    singles = _groups(curated_url, 1, 2)
    pairs = _groups(curated_url, 2, 3)
    expected = EnterpriseChanges()
    legacy = sa.create_engine(legacy_url)
    with legacy.begin() as conn:
        # A twin entered by the city bureau, its code in lower case: it is the newest, so it speaks.
        (group, [key]), (old_group, [old_key]) = singles
        original = conn.execute(sa.select(QY).where(key == QY.c.QYID)).mappings().one()
        conn.execute(QY.insert().values({**original, "QYID": "NEWTWIN00000000000000000000001",
                                         "TYSHXYDM": group.lower(), "LRDW": "320400", "GXSJ": now,
                                         "FDDBRDH": "13900002222", "SCBZ": None}))  # fmt: skip
        expected.canonical["QY-" + group] = "NEWTWIN00000000000000000000001"
        expected.phones["QY-" + group] = "13900002222"
        # A twin carrying only the organisation code, its name without the city prefix: resolved through
        # the merged rows, since the incremental run does not read the unchanged first row.
        original = conn.execute(sa.select(QY).where(old_key == QY.c.QYID)).mappings().one()
        conn.execute(QY.insert().values({**original, "QYID": "NEWTWIN00000000000000000000002",
                                         "TYSHXYDM": old_group[8:17], "LRDW": "320400", "GXSJ": now,
                                         "QYMC": str(original["QYMC"]).replace("常州市", "") + " ",
                                         "SCBZ": None}))  # fmt: skip
        expected.canonical["QY-" + old_group] = "NEWTWIN00000000000000000000002"
        # Update the twin that does not speak for its enterprise: being the newest now, it does.
        (updated, keys), (halved, halved_keys), (gone, gone_keys) = pairs
        other = next(k for k in keys if k != _canonical_key(curated_url, updated))
        conn.execute(QY.update().where(other == QY.c.QYID).values(FDDBRDH="13900001111", GXSJ=now))
        expected.canonical["QY-" + updated], expected.phones["QY-" + updated] = other, "13900001111"
        # Soft-delete the twin that speaks: the enterprise stays, the other row speaks.
        speaking = _canonical_key(curated_url, halved)
        conn.execute(QY.update().where(speaking == QY.c.QYID).values(SCBZ="1", GXSJ=now))
        expected.canonical["QY-" + halved] = next(k for k in halved_keys if k != speaking)
        # Soft-delete every row of one USCC: the enterprise is deleted.
        conn.execute(QY.update().where(QY.c.QYID.in_(gone_keys)).values(SCBZ="1", GXSJ=now))
        expected.deleted.add("QY-" + gone)
    legacy.dispose()
    return expected


def check_enterprise_changes(curated_url: str, expected: EnterpriseChanges) -> None:
    """The curated master after the changes: whose data each enterprise holds, and which are deleted."""
    ids = sorted({*expected.canonical, *expected.deleted})
    found = _frame(
        curated_url,
        "SELECT * FROM cur_enterprises WHERE record_id IN (" + ", ".join(f"'{i}'" for i in ids) + ")",
    ).set_index("record_id")
    rows = _frame(curated_url, "SELECT source_key, data FROM sdx_merged_row WHERE resource = 'enterprises'")
    data = {key: json.loads(text) for key, text in zip(rows["source_key"], rows["data"], strict=True)}
    for record_id, key in expected.canonical.items():
        assert not found.at[record_id, "sdx_deleted"], record_id
        # The record holds the canonical row's data (its key is written only when the data differs).
        for item in ("tyshxydm", "qymc", "fddbrdh", "jydz", "xzqhdm"):
            value, wanted = found.at[record_id, item], data[key][item]
            assert value == wanted or (pd.isna(value) and wanted is None), (record_id, item, value, wanted)
    for record_id, phone in expected.phones.items():
        assert found.at[record_id, "fddbrdh"] == phone
        assert found.at[record_id, "sdx_source_key"] == expected.canonical[record_id]
    for record_id in expected.deleted:
        assert found.at[record_id, "sdx_deleted"], record_id


def hard_delete_enterprise(legacy_url: str, curated_url: str) -> str:
    """Remove every row of one single-row enterprise (only a full read sees it); return its record id."""
    (group, [key]) = _groups(curated_url, 1, 1)[0]
    legacy = sa.create_engine(legacy_url)
    with legacy.begin() as conn:
        conn.execute(QY.delete().where(key == QY.c.QYID))
    legacy.dispose()
    return "QY-" + group


def check_declarations(legacy_url: str, curated_url: str) -> None:
    """Each declared chemical of the legacy text ('；' or ';' between them) is one item of the curated list."""
    legacy = _frame(legacy_url, "SELECT SBID, ZYWHP FROM T_WH_CXSB")
    texts = dict(zip(legacy["SBID"], legacy["ZYWHP"], strict=True))
    curated = _frame(curated_url, "SELECT sdx_source_key, zywhp FROM cur_integrity_declarations")
    full_width = 0
    for key, listed in zip(curated["sdx_source_key"], curated["zywhp"], strict=True):
        parts = [p for p in str(texts[key]).replace("；", ";").split(";") if p.strip()]
        assert [item["mc"] for item in json.loads(listed)] == [p.strip().rsplit("(", 1)[0] for p in parts]
        full_width += "；" in str(texts[key])
    assert full_width > 0
