"""The rectification workbook (整改清单): the open quarantine, one sheet per district, for the district clerks.

Each district's clerks get their own sheet of records to fix, with the clerk's words for the problem and the
fix; the first sheet counts them per district and issue. Values come masked from the quarantine table.
Written in openpyxl's write-only mode: the open quarantine of the whole city can run to a hundred thousand rows.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from catalog.export import display_width
from quality.report.data import OpenQuarantine, ReportData, district_order

SUMMARY_SHEET = "汇总"
RECORD_HEADER = (
    "资源", "记录标识", "来源表", "来源主键", "问题项", "问题", "当前值", "整改要求", "首次发现", "最近发现",
)  # fmt: skip
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
MIN_WIDTH, MAX_WIDTH = 8, 60


def write_rectification_workbook(data: ReportData, path: Path) -> Path:
    """Write the workbook of `data`'s open quarantine to `path` (its folder created) and return `path`."""
    by_district: dict[str, list[OpenQuarantine]] = collections.defaultdict(list)
    for row in data.open_quarantine:
        by_district[row.district].append(row)
    districts = sorted(by_district, key=district_order)
    workbook = Workbook(write_only=True)
    _summary_sheet(workbook, data, districts, by_district)
    for name in districts:
        _district_sheet(workbook, name, by_district[name])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def record_row(row: OpenQuarantine) -> tuple[Any, ...]:
    """One open quarantine row as the cells of a district sheet, in `RECORD_HEADER` order."""
    return (
        row.resource_title, row.record_id, row.source_table, row.source_key, row.item_title, row.message,
        row.value_masked or "", row.fix, row.first_seen, row.last_seen,
    )  # fmt: skip


def _district_sheet(workbook: Workbook, name: str, rows: list[OpenQuarantine]) -> None:
    sheet = workbook.create_sheet(title=name)
    body = [record_row(r) for r in rows]
    _prepare(sheet, RECORD_HEADER, body)
    sheet.append(_header_cells(sheet, RECORD_HEADER))
    for values in body:
        sheet.append([_cell(sheet, v) for v in values])


def _summary_sheet(
    workbook: Workbook, data: ReportData, districts: list[str], by_district: dict[str, list[OpenQuarantine]]
) -> None:
    sheet = workbook.create_sheet(title=SUMMARY_SHEET)
    header = ("问题", "问题代码", *districts, "合计")
    body = _summary_rows(districts, by_district)
    _prepare(sheet, header, body)
    sheet.append(_header_cells(sheet, header))
    for values in body:
        sheet.append(list(values))
    sheet.append([])
    sheet.append(["运行标识", data.run.run_id])
    sheet.append(["生成时间", _cell(sheet, data.generated_at)])
    sheet.append(["说明", "各区县工作表列出截至生成时仍未解决的隔离问题；个人信息已脱敏。"])


def _summary_rows(
    districts: list[str], by_district: dict[str, list[OpenQuarantine]]
) -> list[tuple[Any, ...]]:
    """Per issue: its message, code, the count in each district and the total; a total row last."""
    counts: dict[tuple[str, str], collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for district, rows in by_district.items():
        for row in rows:
            counts[(row.issue, row.message)][district] += 1
    ordered = sorted(counts.items(), key=lambda kv: (-sum(kv[1].values()), kv[0][0]))
    body: list[tuple[Any, ...]] = [
        (message, issue, *(c[d] for d in districts), sum(c.values())) for (issue, message), c in ordered
    ]
    totals = [len(by_district[d]) for d in districts]
    body.append(("合计", "", *totals, sum(totals)))
    return body


def _prepare(sheet: WriteOnlyWorksheet, header: Sequence[str], body: Sequence[Sequence[Any]]) -> None:
    # Write-only sheets take their layout before the first row is appended.
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(body) + 1}"
    for index, title in enumerate(header, start=1):
        width = max([display_width(title)] + [display_width(_text(r[index - 1])) for r in body])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, MIN_WIDTH), MAX_WIDTH)


def _header_cells(sheet: WriteOnlyWorksheet, header: Sequence[str]) -> list[WriteOnlyCell]:
    cells = []
    for title in header:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cells.append(cell)
    return cells


def _cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, str) and value.startswith("="):
        # A legacy value like `=HYPERLINK(...)` would become a live formula: keep it text.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)
