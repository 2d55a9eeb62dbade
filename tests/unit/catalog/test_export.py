"""The catalogue exports: JSON, the 编目 workbook, and the self-contained HTML page rendered in Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from html import escape
from pathlib import Path

import pytest
from openpyxl import load_workbook

from catalog import default_catalog
from catalog.export import ITEM_HEADER, RESOURCE_HEADER, export_html, export_json, export_xlsx
from exchange import cli

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip


def test_json_holds_every_resource_with_its_items():
    catalog = default_catalog()
    data = json.loads(export_json(catalog))
    assert sorted(r["name"] for r in data["resources"]) == sorted(catalog.resources)
    codes = [r["resource_code"] for r in data["resources"]]
    assert codes == sorted(codes)
    for exported in data["resources"]:
        resource = catalog.resource(exported["name"])
        assert [it["name"] for it in exported["items"]] == resource.item_names
        assert len(exported["rules"]) == len(resource.rules)
        assert exported["receivers"] == resource.receivers
    assert {cl["name"] for cl in data["codelists"]} == set(catalog.codelists)
    assert data["settings"]["provider"] == catalog.settings["provider"]


def test_json_is_byte_stable():
    assert export_json(default_catalog()) == export_json(default_catalog())


def test_xlsx_has_the_three_sheets_one_row_per_resource_item_and_code(tmp_path: Path):
    catalog = default_catalog()
    path = export_xlsx(catalog, tmp_path / "catalogue.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["信息资源目录", "信息项", "代码表"]
    resources, items, codes = (book[name] for name in book.sheetnames)
    assert [c.value for c in resources[1]] == list(RESOURCE_HEADER)
    assert [c.value for c in items[1]] == list(ITEM_HEADER)
    assert resources.max_row - 1 == len(catalog.resources)
    assert items.max_row - 1 == sum(len(r.items) for r in catalog.resources.values())
    assert codes.max_row - 1 == sum(len(cl.entries) for cl in catalog.codelists.values())
    for sheet in (resources, items, codes):
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.bold for cell in sheet[1])
        assert sheet.column_dimensions["A"].width and sheet.column_dimensions["A"].width > 8
    titles = {row[1] for row in resources.iter_rows(min_row=2, values_only=True)}
    assert titles == {r.title for r in catalog.resources.values()}


def test_xlsx_item_rows_carry_the_guide_data_type(tmp_path: Path):
    book = load_workbook(export_xlsx(default_catalog(), tmp_path / "catalogue.xlsx"))
    kinds = {row[5] for row in book["信息项"].iter_rows(min_row=2, values_only=True)}
    assert "C 字符型" in kinds and kinds <= {"C 字符型", "D 日期型", "I 整型", "N 数值型", "L 逻辑型"}


def test_html_is_self_contained_and_names_every_resource():
    catalog = default_catalog()
    page = export_html(catalog)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page and 'charset="utf-8"' in page
    for outside in ("http://", "https://", "//cdn"):
        assert outside not in page
    for resource in catalog.resources.values():
        assert escape(resource.title) in page
        assert f'id="r-{resource.name}"' in page and f'href="#r-{resource.name}"' in page
    for codelist in catalog.codelists.values():
        assert f'id="c-{codelist.name}"' in page


def test_cli_export_writes_each_format_and_prints_the_path(tmp_path: Path, capsys):
    for fmt in ("json", "xlsx", "html"):
        out = tmp_path / "out" / f"catalogue.{fmt}"
        assert cli.main(["catalog", "export", "--format", fmt, "--out", str(out)]) == 0
        assert capsys.readouterr().out.strip() == str(out)
        assert out.stat().st_size > 0


def test_cli_export_defaults_to_var_catalog(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["catalog", "export", "--format", "json"]) == 0
    assert capsys.readouterr().out.strip() == str(Path("var") / "catalog" / "catalogue.json")
    assert (tmp_path / "var" / "catalog" / "catalogue.json").exists()


# ---- in a real browser ----------------------------------------------------------------------------------


def _chromium() -> str:
    """The chromium binary; skips without it on a developer's machine, fails without it in CI."""
    found = shutil.which("chromium")
    if found:
        return found
    reason = "chromium is not installed (`make browser` installs it)"
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{reason}; CI must run the browser tests")
    pytest.skip(reason)


def _run_chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


@pytest.mark.browser
def test_html_renders_in_headless_chromium(tmp_path: Path):
    chromium = _chromium()
    catalog = default_catalog()
    page = tmp_path / "catalogue.html"
    page.write_text(export_html(catalog), encoding="utf-8")
    screenshot = tmp_path / "page.png"

    shot = _run_chromium(
        chromium, tmp_path / "profile", f"--screenshot={screenshot}", "--window-size=1280,2000", page.as_uri()
    )
    assert screenshot.exists(), f"no screenshot; chromium said:\n{shot.stderr[-2000:]}"
    assert screenshot.stat().st_size > 10_000
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    dom = _run_chromium(chromium, tmp_path / "profile-dom", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    first = catalog.resource(sorted(catalog.resources)[0])
    assert first.title in dom.stdout
    # The filter box's script ran without breaking the page: every section is still shown.
    assert "<section" in dom.stdout and 'hidden=""' not in dom.stdout
