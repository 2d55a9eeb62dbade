"""The catalogue exported for people and other systems: JSON, the guide's 编目 workbook, and one HTML page.

The workbook follows the catalogue-compilation layout of the 政务信息资源目录编制指南 (one row per resource,
one per data item, one per code); the HTML page is self-contained because the bureau's network is closed
(DESIGN decision 3): inline style and script, no outside URL of any kind.
"""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from catalog.loader import Catalog
from catalog.model import VALUE_TYPES, CodeList, Item, Resource, Rule

# The data types of the catalogue-compilation guide, by the letter VALUE_TYPES gives each value type.
GUIDE_TYPE_NAMES = {"C": "字符型", "D": "日期型", "I": "整型", "N": "数值型", "L": "逻辑型"}
PERSONAL_NAMES = {"name": "姓名", "id": "证件号码", "phone": "联系电话", "address": "地址"}
RULE_NAMES = {
    "date_order": "日期先后",
    "within_legal_validity": "法定有效期",
    "required_when_expiring": "有期限时必填",
    "status_from_dates": "按日期校正状态",
    "required_when": "条件必填",
    "null_unless": "条件之外为空",
}
RECEIVER_NAMES = {
    "bigdata_centre": "市大数据中心（前置库）",
    "service_network": "政务服务网",
    "province_supervision": "省安全生产监管平台",
    "province_hazchem": "省危险化学品监管平台",
}
RESOURCE_HEADER = (
    "资源分类", "资源名称", "资源代码", "资源提供方", "资源提供方代码", "资源摘要", "资源格式", "信息项数",
    "共享属性", "共享条件", "共享方式", "开放属性", "更新周期", "发布日期", "关联资源代码",
)  # fmt: skip
ITEM_HEADER = (
    "资源代码", "资源名称", "信息项序号", "信息项名称", "标识符", "数据类型", "数据长度", "必填", "代码表",
    "个人信息类别",
)  # fmt: skip
CODE_HEADER = ("代码表", "代码", "名称")
MAX_COLUMN_WIDTH = 60


# ---- shared ---------------------------------------------------------------------------------------------


def guide_type(item: Item) -> str:
    """The guide's data type of an item, letter and name, e.g. `C 字符型`; the raw type when unknown."""
    letter = VALUE_TYPES.get(item.type, {}).get("guide")
    return f"{letter} {GUIDE_TYPE_NAMES[letter]}" if letter in GUIDE_TYPE_NAMES else str(item.type)


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal or a spreadsheet cell: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def personal_name(item: Item) -> str:
    """The item's personal-data class in Chinese (姓名, 证件号码, …); empty when the item holds none."""
    return PERSONAL_NAMES.get(item.personal or "", item.personal or "")


def _text(value: Any) -> str:
    """A metadata value as one line of text (lists joined, missing values empty)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "、".join(_text(v) for v in value)
    return str(value)


def _sharing(resource: Resource) -> dict[str, Any]:
    sharing = resource.metadata.get("sharing")
    return sharing if isinstance(sharing, dict) else {}


def _related_codes(catalog: Catalog, resource: Resource) -> str:
    """The codes of the related resources; a name the catalogue lacks stays as written."""
    names = resource.metadata.get("related") or []
    return "、".join(
        catalog.resource_code(catalog.resources[n]) if n in catalog.resources else str(n) for n in names
    )


def _resources(catalog: Catalog) -> list[Resource]:
    """Resources in resource-code order, so that every export follows the classification (类/项/目/细目)."""
    return sorted(catalog.resources.values(), key=lambda r: (catalog.resource_code(r), r.name))


def _codelists(catalog: Catalog) -> list[CodeList]:
    return [catalog.codelists[name] for name in sorted(catalog.codelists)]


# ---- JSON -----------------------------------------------------------------------------------------------


def catalogue_data(catalog: Catalog) -> dict[str, Any]:
    """The whole catalogue as plain data: settings, resources (items, rules, receivers), code lists."""
    return {
        "settings": catalog.settings,
        "resources": [_resource_data(catalog, r) for r in _resources(catalog)],
        "codelists": [_codelist_data(cl) for cl in _codelists(catalog)],
    }


def _resource_data(catalog: Catalog, resource: Resource) -> dict[str, Any]:
    return {
        **resource.metadata,
        "name": resource.name,
        "title": resource.title,
        "summary": resource.summary,
        "source": resource.source,
        "permit_type": resource.permit_type,
        "asset_uri": resource.asset_uri,
        "resource_code": catalog.resource_code(resource),
        "items": [dataclasses.asdict(item) for item in resource.items],
        "rules": [_rule_data(rule) for rule in resource.rules],
        "receivers": resource.receivers,
    }


def _rule_data(rule: Rule) -> dict[str, Any]:
    return {"rule": rule.rule, **rule.params}


def _codelist_data(codelist: CodeList) -> dict[str, Any]:
    entries = [{**e.attributes, "code": e.code, "name": e.name} for e in codelist.entries]
    return {"name": codelist.name, "title": codelist.title, "entries": entries}


def export_json(catalog: Catalog) -> str:
    """The catalogue as JSON with sorted keys, so that two exports of the same files are byte-identical."""
    # default=str: YAML reads an unquoted 2026-12-01 as a date.
    data = catalogue_data(catalog)
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n"


# ---- the 编目 workbook ----------------------------------------------------------------------------------


def resource_rows(catalog: Catalog) -> list[tuple[Any, ...]]:
    """Sheet 信息资源目录: one row per resource, in RESOURCE_HEADER order."""
    provider = catalog.settings.get("provider") or {}
    rows = []
    for r in _resources(catalog):
        meta, sharing = r.metadata, _sharing(r)
        rows.append((
            _text(meta.get("classification")), r.title, catalog.resource_code(r), _text(provider.get("name")),
            _text(provider.get("code")), r.summary, _text(meta.get("format")), len(r.items),
            _text(sharing.get("attribute")), _text(sharing.get("condition")), _text(sharing.get("way")),
            _text(meta.get("opening")), _text(meta.get("update_cycle")), _text(meta.get("release_date")),
            _related_codes(catalog, r),
        ))  # fmt: skip
    return rows


def item_rows(catalog: Catalog) -> list[tuple[Any, ...]]:
    """Sheet 信息项: one row per data item of every resource, in ITEM_HEADER order."""
    rows = []
    for r in _resources(catalog):
        code = catalog.resource_code(r)
        for number, it in enumerate(r.items, start=1):
            rows.append((
                code, r.title, number, it.title, it.name, guide_type(it), it.length or "",
                "是" if it.required else "否", it.codelist or "", personal_name(it),
            ))  # fmt: skip
    return rows


def code_rows(catalog: Catalog) -> list[tuple[Any, ...]]:
    """Sheet 代码表: one row per code of every code list."""
    return [(cl.name, e.code, e.name) for cl in _codelists(catalog) for e in cl.entries]


def export_xlsx(catalog: Catalog, path: Path) -> Path:
    """Write the 编目 workbook (信息资源目录, 信息项, 代码表) to `path` and return it."""
    workbook = Workbook()
    # A new workbook comes with an empty sheet; the three sheets below take its place.
    workbook.remove(workbook.worksheets[0])
    _write_sheet(workbook, "信息资源目录", RESOURCE_HEADER, resource_rows(catalog))
    _write_sheet(workbook, "信息项", ITEM_HEADER, item_rows(catalog))
    _write_sheet(workbook, "代码表", CODE_HEADER, code_rows(catalog))
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _write_sheet(workbook: Workbook, title: str, header: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="center")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for index, column in enumerate(zip(header, *rows, strict=False), start=1):
        widest = max(display_width(_text(value)) for value in column)
        sheet.column_dimensions[get_column_letter(index)].width = min(widest + 2, MAX_COLUMN_WIDTH)


# ---- the HTML page --------------------------------------------------------------------------------------

STYLE = """
:root { --line: #d0d7de; --muted: #57606a; --accent: #0b5394; --bg-head: #f3f6f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.6 "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
       "WenQuanYi Micro Hei", system-ui, sans-serif; color: #1f2328; background: #fff; }
header { padding: 16px 24px; border-bottom: 3px solid var(--accent); background: var(--bg-head); }
header h1 { margin: 0 0 4px; font-size: 22px; color: var(--accent); }
header p { margin: 0; color: var(--muted); }
.layout { display: flex; align-items: flex-start; }
nav { position: sticky; top: 0; width: 300px; flex: none; max-height: 100vh; overflow: auto; padding: 16px;
      border-right: 1px solid var(--line); }
nav h2 { font-size: 15px; margin: 12px 0 4px; }
nav ol { margin: 0; padding-left: 20px; }
nav a { color: var(--accent); text-decoration: none; }
nav a:hover { text-decoration: underline; }
#filter { width: 100%; padding: 6px 8px; border: 1px solid var(--line); border-radius: 4px; font: inherit; }
main { flex: 1; min-width: 0; padding: 8px 24px 48px; }
section.resource, section.codelist { border-bottom: 1px solid var(--line); padding: 8px 0 20px; }
h2 { font-size: 19px; margin: 18px 0 8px; }
h3 { font-size: 15px; margin: 16px 0 6px; color: var(--muted); }
small, code { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 4px 0; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
thead th { background: var(--bg-head); position: sticky; top: 0; }
table.items th, table.items td:not(:nth-child(3)):not(:nth-child(9)) { white-space: nowrap; }
table.meta th { width: 9em; background: var(--bg-head); font-weight: normal; color: var(--muted); }
ul.rules { margin: 0; padding-left: 20px; }
[hidden] { display: none !important; }
@media print { nav { display: none; } thead th { position: static; } }
"""

# Hides every section (and its table-of-contents entry) whose text does not contain what is typed.
SCRIPT = """
(function () {
  var box = document.getElementById("filter");
  box.addEventListener("input", function () {
    var query = box.value.trim().toLowerCase();
    document.querySelectorAll("section[data-filter]").forEach(function (section) {
      var hide = query !== "" && section.textContent.toLowerCase().indexOf(query) < 0;
      section.hidden = hide;
      var entry = document.querySelector('li[data-for="' + section.id + '"]');
      if (entry) { entry.hidden = hide; }
    });
  });
})();
"""


def _e(value: Any) -> str:
    return escape(_text(value), quote=True)


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], css: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{_e(css)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _meta_table(pairs: Sequence[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in pairs)
    return f'<table class="meta"><tbody>{rows}</tbody></table>'


def metadata_pairs(catalog: Catalog, resource: Resource) -> list[tuple[str, str]]:
    """The resource's 编目 metadata as (label, text) pairs, in the guide's order; lists joined with 、."""
    provider = catalog.settings.get("provider") or {}
    meta, sharing = resource.metadata, _sharing(resource)
    pairs: list[tuple[str, Any]] = [
        ("资源代码", catalog.resource_code(resource)),
        ("资源分类", meta.get("classification")),
        ("资源提供方", f"{_text(provider.get('name'))}（{_text(provider.get('code'))}）"),
        ("资源摘要", resource.summary),
        ("资源格式", meta.get("format")),
        ("共享属性", sharing.get("attribute")),
        ("共享条件", sharing.get("condition")),
        ("共享方式", sharing.get("way")),
        ("开放属性", meta.get("opening")),
        ("更新周期", meta.get("update_cycle")),
        ("发布日期", meta.get("release_date")),
        ("关联资源", resource.metadata.get("related")),
        ("事项编码", resource.permit_type),
        ("数据来源", resource.source),
        ("记录粒度", meta.get("grain")),
        ("Airflow Asset", resource.asset_uri),
    ]
    return [(label, _text(value)) for label, value in pairs]


def _items_html(resource: Resource) -> str:
    header = ("序号", "标识符", "信息项名称", "数据类型", "长度", "必填", "代码表", "个人信息", "说明")
    rows = [
        (
            str(n),
            f"<code>{_e(it.name)}</code>",
            _e(it.title),
            _e(guide_type(it)),
            _e(it.length),
            "是" if it.required else "",
            f'<a href="#c-{_e(it.codelist)}">{_e(it.codelist)}</a>' if it.codelist else "",
            _e(personal_name(it)),
            _e(_item_notes(it)),
        )
        for n, it in enumerate(resource.items, start=1)
    ]
    return _table(header, rows, "items")


def _item_notes(item: Item) -> str:
    notes = [f"{key} {value}" for key, value in (("≥", item.min), ("≤", item.max)) if value is not None]
    if item.pattern:
        notes.append(f"格式 {item.pattern}")
    if item.description:
        notes.append(item.description)
    return "；".join(notes)


def _rules_html(resource: Resource) -> str:
    if not resource.rules:
        return "<p>无</p>"
    entries = []
    for rule in resource.rules:
        params = "，".join(f"{k} = {_text(v)}" for k, v in rule.params.items())
        label = RULE_NAMES.get(rule.rule, rule.rule)
        entries.append(f"<li>{_e(label)} <code>{_e(rule.rule)}</code>：{_e(params)}</li>")
    return f'<ul class="rules">{"".join(entries)}</ul>'


def _receivers_html(resource: Resource) -> str:
    if not resource.receivers:
        return "<p>无</p>"
    parts = []
    for name, settings in resource.receivers.items():
        settings = settings if isinstance(settings, dict) else {}
        parts.append(f"<h4>{_e(RECEIVER_NAMES.get(name, name))} <small>{_e(name)}</small></h4>")
        plain = [(k, v) for k, v in settings.items() if k != "fields"]
        if plain:
            parts.append(_meta_table(plain))
        fields = settings.get("fields")
        if isinstance(fields, dict):
            titles = {it.name: it.title for it in resource.items}
            rows = [
                (f"<code>{_e(f)}</code>", f"<code>{_e(i)}</code>", _e(titles.get(i, "")))
                for f, i in fields.items()
            ]
            parts.append(_table(("接收方字段", "信息项", "信息项名称"), rows, "fields"))
    return "".join(parts)


def _resource_html(catalog: Catalog, resource: Resource) -> str:
    return (
        f'<section class="resource" id="r-{_e(resource.name)}" data-filter>'
        f"<h2>{_e(resource.title)} <small>{_e(resource.name)}</small></h2>"
        f"{_meta_table(metadata_pairs(catalog, resource))}"
        f"<h3>信息项（{len(resource.items)}）</h3>{_items_html(resource)}"
        f"<h3>校验规则</h3>{_rules_html(resource)}"
        f"<h3>接收方</h3>{_receivers_html(resource)}"
        "</section>"
    )


def _codelist_html(codelist: CodeList) -> str:
    extra = sorted({key for e in codelist.entries for key in e.attributes})
    rows = [
        (f"<code>{_e(e.code)}</code>", _e(e.name), *(_e(e.attributes.get(k)) for k in extra))
        for e in codelist.entries
    ]
    return (
        f'<section class="codelist" id="c-{_e(codelist.name)}" data-filter>'
        f"<h3>{_e(codelist.title)} <small>{_e(codelist.name)}</small></h3>"
        f"{_table(('代码', '名称', *extra), rows, 'codes')}</section>"
    )


def _toc_entry(anchor: str, title: str, name: str) -> str:
    return (
        f'<li data-for="{_e(anchor)}"><a href="#{_e(anchor)}">{_e(title)}</a> <small>{_e(name)}</small></li>'
    )


def _toc_html(catalog: Catalog) -> str:
    resources = "".join(_toc_entry(f"r-{r.name}", r.title, r.name) for r in _resources(catalog))
    codelists = "".join(_toc_entry(f"c-{cl.name}", cl.title, cl.name) for cl in _codelists(catalog))
    return (
        '<nav><input id="filter" type="search" placeholder="筛选：资源、信息项、代码…" aria-label="筛选">'
        f"<h2>信息资源</h2><ol>{resources}</ol><h2>代码表</h2><ol>{codelists}</ol></nav>"
    )


def export_html(catalog: Catalog) -> str:
    """The catalogue as one self-contained HTML page: contents, every resource in full, every code list."""
    provider = catalog.settings.get("provider") or {}
    title = f"{_text(provider.get('name'))}信息资源目录"
    counts = f"{len(catalog.resources)} 个信息资源 · {len(catalog.codelists)} 个代码表"
    resources = "".join(_resource_html(catalog, r) for r in _resources(catalog))
    codelists = "".join(_codelist_html(cl) for cl in _codelists(catalog))
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>{_e(title)}</h1><p>{_e(provider.get('code'))} · {_e(counts)}</p></header>\n"
        f'<div class="layout">{_toc_html(catalog)}\n<main>{resources}'
        f'<h2 id="codelists">代码表</h2>{codelists}</main></div>\n'
        f"<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )
