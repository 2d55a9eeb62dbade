"""One resource's Great Expectations validation result, rendered in the project's own self-contained page.

GX's Data Docs load CSS and JavaScript from CDNs and an outside logo, which the bureau's closed network
cannot reach (DESIGN decision 3); this page shows the same result with inline style and nothing else.
A validation result lists sample failing values, so they are masked here: by the catalogue's personal class
of their column, and, whatever the column, wherever they look like a resident ID or a mobile number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from typing import Any

import pandas as pd

from catalog import Resource
from quality.issues import issue_kinds
from quality.quarantine import MASKS
from quality.report.page import fmt_count, render_page
from quality.standardize.person_ids import mask_phone, mask_resident_id

EXPECTATION_NAMES = {
    "expect_column_values_to_not_be_null": "值不为空",
    "expect_column_values_to_be_unique": "值不重复",
    "expect_column_pair_values_a_to_be_greater_than_b": "前一列不早于（不小于）后一列",
}
COLUMN_KWARGS = ("column", "column_A", "column_B", "column_list")
# quality.expectations compares a date against a bound it computes beside it, in a column of this prefix.
BOUND_PREFIX = "_legal_bound_"
RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
NULL_TEXT = "（空）"


def render_validation_html(
    gx_result: Mapping[str, Any],
    resource_title: str,
    *,
    resource: Resource | None = None,
    back_link: str | None = "quality_report.html",
) -> str:
    """The validation page of one resource; `resource` gives item titles and which columns are personal."""
    results = list(gx_result.get("results") or [])
    rows = "".join(_row(i, res, resource) for i, res in enumerate(results, start=1))
    back = f'<p><a href="{escape(back_link)}">← 返回质量报告</a></p>' if back_link else ""
    body = (
        f"<header>{back}<h1>校验结果 · {escape(resource_title)}</h1>"
        '<p class="lead">按资源目录规则生成的 Great Expectations 校验套件对本次运行数据批次的校验结果</p>'
        f"{_facts(gx_result)}</header>"
        '<section id="expectations"><h2>校验项</h2><table class="expectations"><thead><tr>'
        "<th>序号</th><th>校验项</th><th>列</th><th>对应规则</th><th>结果</th><th>校验记录数</th>"
        "<th>不符合数</th><th>不符合比例</th><th>部分不符合值</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        '<p class="note">不符合比例按非空值计算；部分不符合值最多列出 20 个，个人信息已脱敏。</p></section>'
        "<footer>本页为离线页面，不引用任何外部资源。</footer>"
    )
    return render_page(f"校验结果 · {resource_title}", body)


def _facts(gx_result: Mapping[str, Any]) -> str:
    stats = gx_result.get("statistics") or {}
    meta = gx_result.get("meta") or {}
    percent = stats.get("success_percent")
    facts = [
        ("校验套件", str(gx_result.get("suite_name") or "—")),
        ("总体结果", "通过" if gx_result.get("success") else "未通过"),
        ("校验项数", fmt_count(int(stats.get("evaluated_expectations") or 0))),
        ("通过项数", fmt_count(int(stats.get("successful_expectations") or 0))),
        ("未通过项数", fmt_count(int(stats.get("unsuccessful_expectations") or 0))),
        ("通过比例", "—" if percent is None else f"{float(percent):.1f}%"),
        ("数据批次", str((meta.get("active_batch_definition") or {}).get("data_asset_name") or "—")),
        ("GX 版本", str(meta.get("great_expectations_version") or "—")),
    ]
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    return f'<dl class="facts">{items}</dl>'


def _row(index: int, res: Mapping[str, Any], resource: Resource | None) -> str:
    config = res.get("expectation_config") or {}
    kwargs = config.get("kwargs") or {}
    result = res.get("result") or {}
    columns = _columns(kwargs)
    success = bool(res.get("success"))
    badge = '<span class="badge good">通过</span>' if success else '<span class="badge bad">未通过</span>'
    kind = str(config.get("type") or "")
    return (
        f'<tr class="{"ok" if success else "failed"}"><td class="num">{index}</td>'
        f'<td>{escape(_expectation_name(kind, kwargs))}<span class="code">{escape(kind)}</span></td>'
        f"<td>{_column_cell(columns, resource)}</td><td>{_rule_cell(config.get('meta') or {})}</td>"
        f"<td>{badge}{_exception(res)}</td>"
        f'<td class="num">{fmt_count(int(result.get("element_count") or 0))}</td>'
        f'<td class="num">{fmt_count(int(result.get("unexpected_count") or 0))}</td>'
        f'<td class="num">{_percent(result)}</td>'
        f"<td>{_values_cell(result, columns, resource)}</td></tr>"
    )


def _expectation_name(kind: str, kwargs: Mapping[str, Any]) -> str:
    name = EXPECTATION_NAMES.get(kind, kind)
    if kind == "expect_column_pair_values_a_to_be_greater_than_b" and not kwargs.get("or_equal"):
        name = "前一列晚于（大于）后一列"
    return name


def _columns(kwargs: Mapping[str, Any]) -> list[str]:
    columns: list[str] = []
    for key in COLUMN_KWARGS:
        value = kwargs.get(key)
        if isinstance(value, list):
            columns.extend(str(v) for v in value)
        elif value is not None:
            columns.append(str(value))
    return columns


def column_title(column: str, resource: Resource | None) -> str:
    """What a reader calls a validated column: the item's title, or the bound a rule computed from it."""
    if column.startswith(BOUND_PREFIX):
        return f"{column_title(column.removeprefix(BOUND_PREFIX), resource)}的法定最长期限"
    if column == "record_id":
        return "记录标识"
    if resource is not None:
        for item in resource.items:
            if item.name == column:
                return item.title
    return column


def _column_cell(columns: list[str], resource: Resource | None) -> str:
    return "".join(
        f'<div class="column">{escape(column_title(c, resource))}<span class="code">{escape(c)}</span></div>'
        for c in columns
    )


def _rule_cell(meta: Mapping[str, Any]) -> str:
    issue = meta.get("issue")
    kind = issue_kinds().get(str(issue)) if issue else None
    check = escape(str(meta.get("check") or ""))
    message = escape(kind.message) if kind else ""
    return f'{message}<span class="code">{check}</span>'


def _exception(res: Mapping[str, Any]) -> str:
    info = res.get("exception_info") or {}
    if not info.get("raised_exception"):
        return ""
    message = mask_patterns(str(info.get("exception_message") or "校验出错"))
    return f'<div class="bad">出错：{escape(message)}</div>'


def _percent(result: Mapping[str, Any]) -> str:
    value = result.get("unexpected_percent")
    return "—" if value is None else f"{float(value):.2f}%"


def _values_cell(result: Mapping[str, Any], columns: list[str], resource: Resource | None) -> str:
    counts = result.get("partial_unexpected_counts")
    if counts:
        lines = [f"{display_value(c.get('value'), columns, resource)} × {c.get('count', 0)}" for c in counts]
    else:
        lines = [display_value(v, columns, resource) for v in result.get("partial_unexpected_list") or []]
    if not lines:
        return ""
    return f'<pre class="values">{escape(chr(10).join(lines))}</pre>'


def display_value(value: Any, columns: list[str], resource: Resource | None) -> str:
    """A sample failing value as text, masked: a pair's parts by their own column, one value by the first."""
    if isinstance(value, list | tuple):
        parts = [
            _masked_text(v, columns[i] if i < len(columns) else None, resource) for i, v in enumerate(value)
        ]
        return " ｜ ".join(parts)
    return _masked_text(value, columns[0] if columns else None, resource)


def _masked_text(value: Any, column: str | None, resource: Resource | None) -> str:
    if value is None:
        return NULL_TEXT
    text = str(value)
    personal = _personal_class(column, resource)
    if personal is not None:
        mask = MASKS.get(personal)
        # A personal class without a masking rule of its own (an address) is hidden whole.
        text = str(mask(pd.Series([text])).iloc[0]) if mask else "***"
    return mask_patterns(text)


def _personal_class(column: str | None, resource: Resource | None) -> str | None:
    if column is None or resource is None:
        return None
    for item in resource.items:
        if item.name == column:
            return item.personal
    return None


def mask_patterns(text: str) -> str:
    """`text` with every resident-ID-like and mobile-like number masked, whatever column it came from."""
    text = RESIDENT_ID.sub(lambda m: str(mask_resident_id(m.group(0))), text)
    return MOBILE.sub(lambda m: str(mask_phone(m.group(0))), text)
