"""The run's quality report as one self-contained HTML page for the data management centre's reviewers.

The page names no outside URL (DESIGN decision 3): style inline, charts drawn as inline SVG, no script, and
links only to the files written beside it (validation pages, the rectification workbook). It shows counts,
rates and the issue vocabulary's words, never a record's values, so no personal data can reach it.
"""

from __future__ import annotations

import collections
from html import escape

from catalog.export import RECEIVER_NAMES
from quality.issues import issue_kinds
from quality.report.charts import pass_rate_chart, quarantined_chart
from quality.report.data import (
    IssueCount,
    ReportData,
    ResourceSummary,
    district_order,
    pass_rate,
)
from quality.report.page import fmt_count, fmt_rate, fmt_time, render_page

MODE_NAMES = {"incremental": "增量", "snapshot": "全量比对", "full": "全量重算", "backfill": "补数"}
STATUS_NAMES = {"success": "成功", "failed": "失败", "running": "运行中"}
# Below these pass rates a resource is flagged amber and red: the thresholds the centre reviews against.
PASS_GOOD, PASS_WARN = 0.99, 0.95


def render_report_html(data: ReportData) -> str:
    """The whole report page of `data`'s run."""
    body = "\n".join(
        [
            _header(data),
            _overview(data),
            _summary_section(data),
            _trend_section(data),
            _issue_section(data.top_issues),
            _open_section(data),
            _reconciliation_section(data),
            _footer(data),
        ]
    )
    return render_page(f"数据质量报告 · {data.run.run_id}", body)


def rate_class(rate: float | None) -> str:
    """The CSS class that colours a pass rate: good, warn or bad (or none without a rate)."""
    if rate is None:
        return ""
    return "good" if rate >= PASS_GOOD else "warn" if rate >= PASS_WARN else "bad"


def _header(data: ReportData) -> str:
    run = data.run
    facts = [
        ("运行标识", run.run_id),
        ("业务日期", fmt_time(run.logical_date)),
        ("运行模式", MODE_NAMES.get(run.mode, run.mode)),
        ("运行状态", STATUS_NAMES.get(run.status, run.status)),
        ("开始时间", fmt_time(run.started_at)),
        ("结束时间", fmt_time(run.finished_at)),
    ]
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    return (
        '<header>\n<h1>数据质量报告</h1>\n<p class="lead">安全生产数据治理与交换 · 每次运行的抽取、标准化校验、'
        f'隔离、入库与交付情况</p>\n<dl class="facts">{items}</dl>\n</header>'
    )


def _overview(data: ReportData) -> str:
    res = data.resources
    extracted = sum(r.extracted for r in res)
    rate = pass_rate(extracted, sum(r.deleted for r in res), sum(r.valid for r in res))
    changed = sum(r.curated.get(k, 0) for r in res for k in ("inserted", "updated", "deleted"))
    delivered = sum(_sent(stats) for r in res for stats in r.delivered.values())
    cards = [
        ("资源", fmt_count(len(res)), ""),
        ("抽取记录", fmt_count(extracted), ""),
        ("通过率", fmt_rate(rate), rate_class(rate)),
        ("本次隔离", fmt_count(sum(r.quarantined for r in res)), ""),
        ("入库变更", fmt_count(changed), ""),
        ("交付记录", fmt_count(delivered), ""),
        ("待整改问题", fmt_count(len(data.open_quarantine)), ""),
    ]
    if data.reconciliation:
        differing = sum(r.differences for r in data.reconciliation)
        cards.append(("对账差异记录", fmt_count(differing), "bad" if differing else "good"))
    html = "".join(
        f'<div class="card"><div class="value {cls}">{escape(v)}</div><div class="label">{escape(k)}</div></div>'
        for k, v, cls in cards
    )
    return f'<section id="overview"><div class="cards">{html}</div></section>'


def _sent(stats: dict[str, int]) -> int:
    return stats.get("inserted", 0) + stats.get("updated", 0) + stats.get("deleted", 0)


def _summary_section(data: ReportData) -> str:
    if not data.resources:
        return '<section id="summary"><h2>各资源处理情况</h2><p class="muted">本次运行没有资源的处理记录。</p></section>'
    receivers = data.receivers
    head = (
        '<thead><tr><th rowspan="2">资源</th><th rowspan="2">抽取</th><th rowspan="2">标准化通过</th>'
        '<th rowspan="2">通过率</th><th rowspan="2">隔离</th><th rowspan="2">隔离原因（按规则）</th>'
        '<th colspan="4">入库</th>'
        + (f'<th colspan="{len(receivers)}">交付</th>' if receivers else "")
        + '<th rowspan="2">校验结果</th></tr><tr><th>新增</th><th>变更</th><th>删除</th><th>未变</th>'
        + "".join(f'<th class="receiver">{escape(RECEIVER_NAMES.get(r, r))}</th>' for r in receivers)
        + "</tr></thead>"
    )
    rows = [_summary_row(r, receivers, data.validation_pages.get(r.name)) for r in data.resources]
    rows.append(_total_row(data.resources, receivers))
    return (
        '<section id="summary"><h2>各资源处理情况</h2>'
        f'<div class="scroll"><table class="summary">{head}<tbody>{"".join(rows)}</tbody></table></div>'
        '<p class="note">通过率 = 标准化通过的记录 ÷ 抽取的记录，均不含源端删除的记录；'
        f"低于 {PASS_GOOD:.0%} 标黄，低于 {PASS_WARN:.0%} 标红。"
        "一条记录可能同时违反多条规则，故隔离原因之和可大于隔离数。</p></section>"
    )


def _num(value: int) -> str:
    return f'<td class="num">{fmt_count(value)}</td>'


def _rate_cell(rate: float | None) -> str:
    cls = rate_class(rate)
    width = 0 if rate is None else round(rate * 100, 1)
    return (
        f'<td class="num"><span class="rate {cls}">{fmt_rate(rate)}</span>'
        f'<div class="meter"><span class="{cls}" style="width:{width}%"></span></div></td>'
    )


def _reasons(by_issue: dict[str, int]) -> str:
    if not by_issue:
        return "<td></td>"
    kinds = issue_kinds()
    items = "".join(
        f"<li>{escape(kinds[code].message if code in kinds else code)} × {fmt_count(n)}</li>"
        for code, n in sorted(by_issue.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return f'<td class="reasons"><ul class="reasons">{items}</ul></td>'


def _gx_cell(res: ResourceSummary, page: str | None) -> str:
    if res.gx_success is None:
        badge = '<span class="badge none">未校验</span>'
    elif res.gx_success:
        badge = '<span class="badge good">通过</span>'
    else:
        failed = sum(1 for n in res.gx_unexpected.values() if n)
        badge = f'<span class="badge bad">{failed} 项未通过</span>'
    link = f' <a href="{escape(page)}">查看</a>' if page else ""
    return f"<td>{badge}{link}</td>"


def _summary_row(res: ResourceSummary, receivers: list[str], page: str | None) -> str:
    extracted = _num(res.extracted)
    if res.deleted:
        extracted = f'<td class="num">{fmt_count(res.extracted)}<span class="code">含删除 {fmt_count(res.deleted)}</span></td>'
    cur = res.curated
    return (
        f'<tr data-resource="{escape(res.name)}"><td class="name">{escape(res.title)}'
        f'<span class="code">{escape(res.name)}</span></td>{extracted}{_num(res.valid)}'
        f"{_rate_cell(res.pass_rate)}{_num(res.quarantined)}{_reasons(res.quarantined_by_issue)}"
        + "".join(_num(cur.get(k, 0)) for k in ("inserted", "updated", "deleted", "unchanged"))
        + "".join(_num(_sent(res.delivered[r])) if r in res.delivered else "<td></td>" for r in receivers)
        + _gx_cell(res, page)
        + "</tr>"
    )


def _total_row(resources: tuple[ResourceSummary, ...], receivers: list[str]) -> str:
    def total(key: str) -> int:
        return sum(r.curated.get(key, 0) for r in resources)

    extracted = sum(r.extracted for r in resources)
    rate = pass_rate(extracted, sum(r.deleted for r in resources), sum(r.valid for r in resources))
    by_issue: collections.Counter[str] = collections.Counter()
    for r in resources:
        by_issue.update(r.quarantined_by_issue)
    return (
        f'<tr class="total"><td>合计</td>{_num(extracted)}{_num(sum(r.valid for r in resources))}'
        f"{_rate_cell(rate)}{_num(sum(r.quarantined for r in resources))}{_reasons(dict(by_issue))}"
        + "".join(_num(total(k)) for k in ("inserted", "updated", "deleted", "unchanged"))
        + "".join(_num(sum(_sent(r.delivered.get(rc, {})) for r in resources)) for rc in receivers)
        + "<td></td></tr>"
    )


def _trend_section(data: ReportData) -> str:
    runs = data.history
    cards = []
    for res in data.resources:
        points = data.trends.get(res.name, ())
        cards.append(
            f'<div class="trend" data-resource="{escape(res.name)}"><h3>{escape(res.title)}</h3>'
            f'<div class="muted">通过率</div>{pass_rate_chart(res.name, res.title, points, runs)}'
            f'<div class="muted">本次抽取中被隔离的记录数</div>{quarantined_chart(res.name, res.title, points, runs)}'
            "</div>"
        )
    span = f"最近 {len(runs)} 次运行" if len(runs) > 1 else "仅本次运行（尚无历史）"
    return (
        f'<section id="trends"><h2>趋势（{escape(span)}）</h2>'
        f'<div class="trends">{"".join(cards)}</div>'
        '<p class="note">横轴为运行开始时间，每次运行一个位置；该次运行未处理的资源留空。'
        "将鼠标停在点或柱上可看到运行标识与数值。</p></section>"
    )


def _issue_section(issues: tuple[IssueCount, ...]) -> str:
    if not issues:
        return '<section id="rules"><h2>主要问题</h2><p class="muted">本次运行没有记录被隔离。</p></section>'
    rows = "".join(
        f'<tr><td class="num">{i}</td><td>{escape(it.message)}<span class="code">{escape(it.code)}</span></td>'
        f'{_num(it.records)}<td>{escape(_resources_hit(it))}</td><td class="fix">{escape(it.fix)}</td></tr>'
        for i, it in enumerate(issues, start=1)
    )
    return (
        '<section id="rules"><h2>主要问题（按隔离记录数）</h2><table class="issues"><thead><tr><th>序号</th>'
        "<th>问题</th><th>隔离记录数</th><th>涉及资源</th><th>整改要求</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def _resources_hit(issue: IssueCount, shown: int = 3) -> str:
    # Twenty resource titles in a cell bury the point: the few most hit, and how many more.
    text = "、".join(f"{title} {fmt_count(n)}" for title, n in issue.resources[:shown])
    rest = len(issue.resources) - shown
    return f"{text} 等 {len(issue.resources)} 个资源" if rest > 0 else text


def _open_section(data: ReportData) -> str:
    counts = collections.Counter(row.district for row in data.open_quarantine)
    name = data.workbook_name
    link = f'整改清单（按区县分页）：<a href="{escape(name)}">{escape(name)}</a>。' if name else ""
    if not counts:
        return (
            '<section id="open"><h2>待整改问题（按区县）</h2>'
            f'<p class="muted">目前没有待整改的问题。{link}</p></section>'
        )
    rows = "".join(
        f"<tr><td>{escape(d)}</td>{_num(counts[d])}</tr>" for d in sorted(counts, key=district_order)
    )
    return (
        '<section id="open"><h2>待整改问题（按区县）</h2>'
        '<table class="districts" style="width:auto"><thead><tr><th>区县</th><th>待整改问题数</th></tr></thead>'
        f"<tbody>{rows}{_total_open(len(data.open_quarantine))}</tbody></table>"
        f'<p class="note">截至本报告生成时仍未解决的隔离问题，每条记录的每个问题项计一次。{link}</p></section>'
    )


def _total_open(total: int) -> str:
    return f'<tr class="total"><td>合计</td>{_num(total)}</tr>'


def _reconciliation_section(data: ReportData) -> str:
    if not data.reconciliation:
        return (
            '<section id="reconciliation"><h2>交付对账</h2>'
            '<p class="muted">本次运行没有对账结果。</p></section>'
        )
    rows = "".join(
        f'<tr data-reconciled="{escape(r.resource)}"><td>{escape(RECEIVER_NAMES.get(r.receiver, r.receiver))}</td>'
        f'<td class="name">{escape(r.title)}<span class="code">{escape(r.table_name)}</span></td>'
        f"{_num(r.receiver_live)}{_num(r.ledger_live)}{_num(r.curated_live)}"
        f'<td><span class="badge {"good" if r.digests_agree else "bad"}">{"一致" if r.digests_agree else "不一致"}</span></td>'
        f"{_num(r.receiver_deleted)}{_num(r.waiting)}{_num(r.taken)}{_num(r.refused)}"
        f'<td class="num"><span class="rate {"bad" if r.differences else "good"}">{fmt_count(r.differences)}</span></td></tr>'
        for r in data.reconciliation
    )
    return (
        '<section id="reconciliation"><h2>交付对账</h2><div class="scroll"><table class="reconciliation">'
        '<thead><tr><th rowspan="2">接收方</th><th rowspan="2">资源（交换表）</th><th colspan="3">有效记录数</th>'
        '<th rowspan="2">摘要</th><th rowspan="2">已删除</th><th colspan="3">接收方处理状态</th>'
        '<th rowspan="2">差异记录</th></tr><tr><th>接收方</th><th>交付台账</th><th>入库数据</th>'
        "<th>待接收</th><th>已接收</th><th>已拒收</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
        '<p class="note">摘要为各方有效记录“记录标识:数据指纹”按标识排序后的 SM3 值，三方一致即接收方所持数据与交付台账、'
        "入库数据完全相同。差异记录的明细见入库库 sdx_reconciliation_diff 表；被拒收的记录已列入待整改问题。</p>"
        "</section>"
    )


def _footer(data: ReportData) -> str:
    return (
        f"<footer>报告生成于 {escape(fmt_time(data.generated_at))}。本页为离线页面，不引用任何外部资源；"
        "涉及个人信息的值均已脱敏，本页只列计数。</footer>"
    )
