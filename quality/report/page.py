"""The page shell every report page shares: one HTML document with its style inline and no outside reference.

The bureau's network is closed (DESIGN decision 3): no stylesheet, script, font or image is loaded from
anywhere; the fonts are the reader's own system fonts, CJK ones first.
"""

from __future__ import annotations

import datetime as dt
from html import escape

STYLE = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9dee4; --head: #eef2f6; --accent: #1f5f99;
        --good: #1e7a46; --warn: #a86400; --bad: #b42318; --bar: #4b7fb3; }
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 24px 48px; color: var(--ink); background: #fff; font-size: 14px;
       line-height: 1.5; font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei",
       "PingFang SC", "WenQuanYi Micro Hei", "Noto Sans SC", sans-serif; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--accent); }
h3 { font-size: 14px; margin: 0 0 6px; }
p.lead, p.note, .muted { color: var(--muted); }
p.note { font-size: 12px; margin: 6px 0 0; }
a { color: var(--accent); }
dl.facts { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 4px 16px;
           margin: 12px 0 0; padding: 12px 16px; background: var(--head); border-radius: 4px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-weight: 600; word-break: break-all; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 16px; }
.card { flex: 1 1 140px; border: 1px solid var(--line); border-radius: 4px; padding: 10px 14px; }
.card .value { font-size: 22px; font-weight: 700; }
.card .label { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; vertical-align: top; }
th { background: var(--head); font-weight: 600; text-align: center; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { min-width: 180px; }
th.receiver { white-space: normal; min-width: 6em; }
td.reasons { min-width: 200px; }
td.fix { min-width: 14em; }
.scroll { overflow-x: auto; }
td.name .code, td .code { display: block; color: var(--muted); font-size: 11px; font-family: monospace; }
tr.total td { font-weight: 700; background: #fafbfc; }
tr.total ul.reasons { font-weight: 400; }
div.column + div.column { margin-top: 4px; }
ul.reasons { margin: 0; padding-left: 16px; font-size: 12px; }
.rate { font-weight: 700; }
.good { color: var(--good); } .warn { color: var(--warn); } .bad { color: var(--bad); }
.meter { height: 4px; background: var(--line); margin-top: 3px; min-width: 60px; }
.meter span { display: block; height: 4px; }
.meter .good { background: var(--good); } .meter .warn { background: var(--warn); }
.meter .bad { background: var(--bad); }
.badge { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 12px; color: #fff; }
.badge.good { background: var(--good); } .badge.bad { background: var(--bad); }
.badge.none { background: var(--muted); }
.trends { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 14px; }
.trend { border: 1px solid var(--line); border-radius: 4px; padding: 10px 12px; }
svg.chart { display: block; margin-top: 4px; }
svg.chart text { font-size: 10px; fill: var(--muted); }
svg.chart .axis { stroke: var(--line); stroke-width: 1; }
svg.chart .line { fill: none; stroke: var(--accent); stroke-width: 2; }
svg.chart .pt { fill: var(--accent); }
svg.chart .bar { fill: var(--bar); }
pre.values { margin: 0; font-size: 12px; white-space: pre-wrap; word-break: break-all; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line);
         padding-top: 8px; }
@media print { body { padding: 0; } .trends { grid-template-columns: 1fr 1fr; } }
"""


def render_page(title: str, body: str) -> str:
    """A complete zh-CN HTML document around `body` (already escaped), with the shared inline style."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def fmt_time(value: dt.datetime | dt.date | None) -> str:
    """A timestamp as the bureau writes it (`2026-11-29 02:00:05`), or a dash when unknown."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat()


def fmt_count(value: int) -> str:
    """A count with thousands separators."""
    return f"{value:,}"


def fmt_rate(value: float | None) -> str:
    """A share as a percentage with one decimal, or a dash when there was nothing to judge."""
    return "—" if value is None else f"{value * 100:.1f}%"
