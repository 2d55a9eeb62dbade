"""The quality report and the rectification workbook of real pipeline runs on a small generated legacy DB."""

from __future__ import annotations

import argparse
import collections
import json
import re
from html import escape
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from report_runs import FIRST_RUN, SECOND_RUN, ReportedRuns

from catalog import Item, Resource, default_catalog
from exchange.report_commands import add_report_command
from quality.report.validation_html import render_validation_html

# A resident ID (address code, birth date, sequence, check) and a mobile number, unmasked.
RESIDENT_ID = re.compile(
    r"(?<![0-9A-Za-z])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9A-Za-z])"
)
ANY_ID = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
# Every place a page may name another resource: attributes and CSS url(...).
REFERENCE = re.compile(
    r"""(?:href|src|action|srcset|xlink:href)\s*=\s*["']([^"']*)["']|url\(\s*["']?([^"')]*)"""
)
DISTRICTS = {
    "320402": "天宁区", "320404": "钟楼区", "320411": "新北区", "320412": "武进区", "320413": "金坛区",
    "320481": "溧阳市", "320400": "市本级",
}  # fmt: skip


def _query(url: str, sql: str) -> list[sa.Row]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql)))
    finally:
        engine.dispose()


def _pages(written: dict) -> list[Path]:
    return [Path(written["quality_report"]), *(Path(p) for p in written["validation"].values())]


def _chart(html: str, metric: str, resource: str) -> str:
    found = re.search(rf'<svg [^>]*data-metric="{metric}" data-resource="{resource}".*?</svg>', html, re.S)
    assert found, f"no {metric} chart for {resource}"
    return found.group(0)


def test_report_names_the_run_and_every_resource_it_processed(reported_runs: ReportedRuns) -> None:
    html = Path(reported_runs.second["quality_report"]).read_text(encoding="utf-8")
    assert escape(SECOND_RUN) in html
    assert '<html lang="zh-CN">' in html
    processed = {r.resource for r in _query(reported_runs.urls["curated"], f"SELECT DISTINCT resource FROM sdx_run_step WHERE run_id = '{SECOND_RUN}'")}  # fmt: skip
    assert processed, "the run processed no resource"
    catalog = default_catalog()
    for name in processed:
        assert escape(catalog.resource(name).title) in html
        assert f'data-resource="{name}"' in html


def test_pages_name_no_outside_url_and_link_only_files_beside_them(reported_runs: ReportedRuns) -> None:
    for page in _pages(reported_runs.second):
        html = page.read_text(encoding="utf-8")
        assert "http://" not in html and "https://" not in html, page
        assert "<script" not in html and "<link" not in html and "@import" not in html, page
        for groups in REFERENCE.findall(html):
            target = next(g for g in groups if g)
            assert "//" not in target and ":" not in target, f"{page.name} refers to {target}"
            assert (page.parent / target).is_file(), f"{page.name} links to a missing file {target}"


def test_report_links_each_validation_page_and_the_workbook(reported_runs: ReportedRuns) -> None:
    written = reported_runs.second
    html = Path(written["quality_report"]).read_text(encoding="utf-8")
    assert written["validation"], "no validation page was written"
    for path in written["validation"].values():
        assert f'href="{Path(path).name}"' in html
    assert f'href="{Path(written["rectification"]).name}"' in html


def test_validation_page_lists_every_expectation(reported_runs: ReportedRuns) -> None:
    from exchange import staging

    for resource, path in reported_runs.second["validation"].items():
        result = json.loads((reported_runs.home / "staging" / staging.safe_name(SECOND_RUN) / resource / "gx_result.json").read_text())  # fmt: skip
        html = Path(path).read_text(encoding="utf-8")
        assert html.count("<tr class=") == len(result["results"])
        assert escape(default_catalog().resource(resource).title) in html


def test_no_unmasked_id_number_or_mobile_in_pages_or_workbook(reported_runs: ReportedRuns) -> None:
    for page in _pages(reported_runs.first) + _pages(reported_runs.second):
        html = page.read_text(encoding="utf-8")
        assert not RESIDENT_ID.findall(html), page
        assert not ANY_ID.findall(html), page
        assert not MOBILE.findall(html), page
    book = load_workbook(reported_runs.second["rectification"])
    for sheet in book.worksheets[1:]:
        header = [c.value for c in sheet[1]]
        for (value,) in sheet.iter_rows(min_row=2, min_col=header.index("当前值") + 1, max_col=header.index("当前值") + 1, values_only=True):  # fmt: skip
            assert not RESIDENT_ID.search(str(value or "")), (sheet.title, value)
            assert not MOBILE.search(str(value or "")), (sheet.title, value)


def _open_rows_by_district(curated_url: str) -> collections.Counter[str]:
    rows = _query(curated_url, "SELECT division, COUNT(*) AS n FROM sdx_quarantine WHERE resolved_at IS NULL GROUP BY division")  # fmt: skip
    counts: collections.Counter[str] = collections.Counter()
    for division, n in rows:
        counts[DISTRICTS.get(division or "", "区县未识别")] += n
    return counts


def test_workbook_has_a_summary_and_one_sheet_per_district_with_its_open_rows(
    reported_runs: ReportedRuns,
) -> None:
    expected = _open_rows_by_district(reported_runs.urls["curated"])
    assert sum(expected.values()) > 0, "the generated data should leave open quarantine rows"
    book = load_workbook(reported_runs.second["rectification"])
    assert book.sheetnames[0] == "汇总"
    assert set(book.sheetnames[1:]) == set(expected)
    for sheet in book.worksheets[1:]:
        rows = [r for r in sheet.iter_rows(min_row=2, values_only=True) if any(v is not None for v in r)]
        assert len(rows) == expected[sheet.title], sheet.title
        assert [c.value for c in sheet[1]] == [
            "资源", "记录标识", "来源表", "来源主键", "问题项", "问题", "当前值", "整改要求", "首次发现", "最近发现",
        ]  # fmt: skip
        assert all(c.font.b for c in sheet[1])
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:J{len(rows) + 1}"
        assert all(sheet.column_dimensions[col].width for col in "ABCDEFGHIJ")
    summary = book["汇总"]
    header = [c.value for c in summary[1]]
    total_row = next(r for r in summary.iter_rows(min_row=2, values_only=True) if r[0] == "合计")
    assert {d: total_row[header.index(d)] for d in expected} == dict(expected)
    assert total_row[header.index("合计")] == sum(expected.values())


def test_trend_has_one_point_per_run(reported_runs: ReportedRuns) -> None:
    first = Path(reported_runs.first["quality_report"]).read_text(encoding="utf-8")
    second = Path(reported_runs.second["quality_report"]).read_text(encoding="utf-8")
    processed = [r.resource for r in _query(reported_runs.urls["curated"], f"SELECT DISTINCT resource FROM sdx_run_step WHERE run_id = '{SECOND_RUN}'")]  # fmt: skip
    for name in processed:
        assert _chart(first, "pass_rate", name).count("<circle") == 1
        assert _chart(second, "pass_rate", name).count("<circle") == 2
        assert _chart(second, "quarantined", name).count("<rect") == 2


def test_report_command_writes_the_latest_run_and_prints_the_paths(
    reported_runs: ReportedRuns, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in reported_runs.connection_env().items():
        monkeypatch.setenv(key, value)
    parser = argparse.ArgumentParser(prog="sdx")
    add_report_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report"])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert SECOND_RUN in out and FIRST_RUN not in out
    paths = re.findall(r"(/\S+\.(?:html|xlsx))", out)
    assert len(paths) == 2 + len(reported_runs.second["validation"])
    assert all(Path(p).is_file() for p in paths)


def test_report_command_refuses_an_unknown_run(
    reported_runs: ReportedRuns, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in reported_runs.connection_env().items():
        monkeypatch.setenv(key, value)
    parser = argparse.ArgumentParser(prog="sdx")
    add_report_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", "--run", "no-such-run"])
    assert args.handler(args) == 1
    assert "no-such-run" in capsys.readouterr().err


def test_validation_page_masks_personal_values_whatever_the_column() -> None:
    resource = Resource(
        name="people", title="从业人员", summary="", source="people",
        items=(
            Item(name="xm", title="姓名", type="text", personal="name"),
            Item(name="sfzhm", title="身份证号码", type="resident_id", personal="id"),
            Item(name="lxdh", title="联系电话", type="phone", personal="phone"),
            Item(name="bz", title="备注", type="text"),
        ),
        rules=(), receivers={}, asset_uri="sdx://curated/people",
    )  # fmt: skip

    def failing(column: str, values: list[object]) -> dict:
        config = {"type": "expect_column_values_to_be_unique", "kwargs": {"column": column}, "meta": {}}
        result = {"element_count": 9, "unexpected_count": len(values), "partial_unexpected_list": values}
        return {"success": False, "expectation_config": config, "result": result}

    result = {
        "success": False,
        "results": [
            failing("xm", ["张三丰"]),
            failing("sfzhm", ["320402199001010017"]),
            failing("lxdh", ["13912345678"]),
            failing("bz", ["联系人身份证320402199001010017，手机13912345678"]),
        ],
    }
    html = render_validation_html(result, "从业人员", resource=resource)
    assert "张三丰" not in html and "张**" in html
    assert "320402199001010017" not in html and "13912345678" not in html
    assert not ANY_ID.search(html) and not MOBILE.search(html)
    assert "http" not in html


def _generated_personal_numbers(legacy_url: str) -> set[str]:
    """Every ID number and phone number the generated legacy database holds, in the forms a page could show."""
    from sandbox.legacy import LEGACY_TABLES

    found: set[str] = set()
    engine = sa.create_engine(legacy_url)
    try:
        with engine.connect() as conn:
            for table, columns in (("T_PX_KHHG", ["SFZH"]), ("T_TZZY_CZZ", ["SFZH", "ZH"]), ("T_QY_JBXX", ["FDDBRDH", "AQFZRDH"])):  # fmt: skip
                source = LEGACY_TABLES[table]
                for row in conn.execute(sa.select(*(source.c[c] for c in columns))):
                    found.update(str(v) for v in row if v)
            kz = LEGACY_TABLES["T_XK_KZ"]
            found.update(v for (v,) in conn.execute(sa.select(kz.c.SXZ).where(kz.c.SXMC == "联系电话")) if v)
    finally:
        engine.dispose()
    numbers = set()
    for value in found:
        # Several phones in one field, brackets, +86: every number alone, with and without its area code.
        for part in re.split(r"[/、;；,，\s]+", value):
            digits = re.sub(r"[^0-9Xx]", "", part).upper()
            digits = digits[2:] if digits.startswith("86") and len(digits) == 13 else digits
            numbers.update({digits, digits.removeprefix("0519"), part.strip().upper()})
    return {n for n in numbers if len(re.sub(r"[^0-9]", "", n)) >= 7}


def test_no_generated_id_number_or_phone_appears_unmasked(reported_runs: ReportedRuns) -> None:
    numbers = _generated_personal_numbers(reported_runs.urls["legacy"])
    assert len(numbers) > 1000, "the generated data should hold many ID and phone numbers"
    for page in _pages(reported_runs.first) + _pages(reported_runs.second):
        text = re.sub(r"[-\s]", "", page.read_text(encoding="utf-8")).upper()
        leaked = sorted(n for n in numbers if re.sub(r"[-\s]", "", n) in text)
        assert not leaked, (page.name, leaked[:3])
    for written in (reported_runs.first, reported_runs.second):
        book = load_workbook(written["rectification"])
        cells = " ".join(str(v).upper() for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v is not None)  # fmt: skip
        cells = re.sub(r"[-\s]", "", cells)
        leaked = sorted(n for n in numbers if re.sub(r"[-\s]", "", n) in cells)
        assert not leaked, leaked[:3]


def test_each_resource_row_shows_its_counts_and_quarantine_reasons(reported_runs: ReportedRuns) -> None:
    from quality.issues import issue_kinds
    from quality.report.page import fmt_count

    html = Path(reported_runs.first["quality_report"]).read_text(encoding="utf-8")
    steps = _query(reported_runs.urls["curated"], f"SELECT resource, stats FROM sdx_run_step WHERE run_id = '{FIRST_RUN}' AND step = 'standardize'")  # fmt: skip
    assert steps
    reasons_seen = 0
    for resource, stats_text in steps:
        stats = json.loads(stats_text)
        row = re.search(rf'<tr data-resource="{resource}">(.*?)</tr>', html, re.S)
        assert row, resource
        cells = re.findall(r'<td class="num">([^<]*)', row.group(1))
        # extracted, valid, pass rate, quarantined: the first cells of the row, as the run counted them.
        assert cells[0] == fmt_count(stats["extracted"]) and cells[1] == fmt_count(stats["valid"]), resource
        assert fmt_count(stats["quarantined"]) in cells, resource
        for code, n in stats["quarantined_by_issue"].items():
            assert f"{escape(issue_kinds()[code].message)} × {fmt_count(n)}" in row.group(1), (resource, code)
            reasons_seen += 1
    assert reasons_seen > 0, "the generated data should quarantine records for some reason"
