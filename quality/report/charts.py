"""Trend charts as inline SVG drawn here: the report loads no charting library (the network is closed).

Every chart of a page shares the same x axis, one slot per run of the history, so that charts of different
resources line up; a run that did not process the resource leaves its slot empty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from quality.report.data import RunInfo, TrendPoint
from quality.report.page import fmt_count, fmt_rate

WIDTH, HEIGHT = 360, 120
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 8, 22


@dataclass(frozen=True)
class Frame:
    """The plotting area of a chart and the runs on its x axis."""

    runs: tuple[RunInfo, ...]

    @property
    def plot_width(self) -> float:
        """Width of the plotting area."""
        return WIDTH - LEFT - RIGHT

    @property
    def plot_height(self) -> float:
        """Height of the plotting area."""
        return HEIGHT - TOP - BOTTOM

    def slot(self) -> float:
        """Width of one run's slot."""
        return self.plot_width / max(len(self.runs), 1)

    def x(self, run_id: str) -> float:
        """Centre of a run's slot."""
        index = [r.run_id for r in self.runs].index(run_id)
        return LEFT + (index + 0.5) * self.slot()

    def y(self, value: float, low: float, high: float) -> float:
        """Vertical position of `value` on a scale from `low` (bottom) to `high` (top)."""
        share = (value - low) / (high - low) if high > low else 0.0
        return TOP + (1 - share) * self.plot_height


def _n(value: float) -> str:
    # One decimal: enough for a screen, and no long digit runs that could look like an ID or a phone.
    return f"{value:.1f}"


def _svg(metric: str, resource: str, label: str, content: list[str]) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{escape(label)}" data-metric="{metric}" '
        f'data-resource="{escape(resource)}" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}">' + "".join(content) + "</svg>"
    )


def _axes(frame: Frame, top_label: str, bottom_label: str) -> list[str]:
    bottom = TOP + frame.plot_height
    parts = [
        f'<line class="axis" x1="{LEFT}" y1="{_n(bottom)}" x2="{WIDTH - RIGHT}" y2="{_n(bottom)}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{_n(bottom)}"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end">{escape(top_label)}</text>',
        f'<text x="{LEFT - 4}" y="{_n(bottom)}" text-anchor="end">{escape(bottom_label)}</text>',
    ]
    if frame.runs:
        first, last = frame.runs[0], frame.runs[-1]
        parts.append(f'<text x="{LEFT}" y="{HEIGHT - 6}">{first.started_at:%m-%d %H:%M}</text>')
        if len(frame.runs) > 1:
            parts.append(
                f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end">{last.started_at:%m-%d %H:%M}</text>'
            )
    return parts


def rate_scale(points: Sequence[TrendPoint]) -> tuple[float, float]:
    """The pass-rate axis: up to 100 %, down to a round step below the lowest rate (0 % at the least)."""
    rates = [p.pass_rate for p in points if p.pass_rate is not None]
    if not rates:
        return 0.0, 1.0
    # Rates cluster near 100 %: starting the axis at 0 would flatten every change a reviewer looks for.
    low = math.floor((min(rates) - 0.02) * 10) / 10
    return max(low, 0.0), 1.0


def _segments(frame: Frame, present: set[str]) -> list[list[str]]:
    """Runs of consecutive slots that have a value: the line breaks where a run has none, not bridging it."""
    segments: list[list[str]] = [[]]
    for run in frame.runs:
        if run.run_id in present:
            segments[-1].append(run.run_id)
        elif segments[-1]:
            segments.append([])
    return [s for s in segments if len(s) > 1]


def pass_rate_chart(resource: str, title: str, points: Sequence[TrendPoint], runs: Sequence[RunInfo]) -> str:
    """A line of the resource's pass rate per run, one marked point per run that judged live records."""
    frame = Frame(tuple(runs))
    low, high = rate_scale(points)
    parts = _axes(frame, fmt_rate(high), fmt_rate(low))
    known = [p for p in points if p.pass_rate is not None]
    coords = {p.run_id: (frame.x(p.run_id), frame.y(p.pass_rate or 0.0, low, high)) for p in known}
    for segment in _segments(frame, set(coords)):
        path = " ".join(f"{_n(coords[r][0])},{_n(coords[r][1])}" for r in segment)
        parts.append(f'<polyline class="line" points="{path}"/>')
    for point in known:
        x, y = coords[point.run_id]
        tip = f"{point.run_id}：通过率 {fmt_rate(point.pass_rate)}"
        parts.append(
            f'<circle class="pt" cx="{_n(x)}" cy="{_n(y)}" r="3.5"><title>{escape(tip)}</title></circle>'
        )
    return _svg("pass_rate", resource, f"{title} 通过率趋势", parts)


def quarantined_chart(
    resource: str, title: str, points: Sequence[TrendPoint], runs: Sequence[RunInfo]
) -> str:
    """A bar per run of how many of the records the run read were quarantined."""
    frame = Frame(tuple(runs))
    high = max([p.quarantined for p in points] + [1])
    parts = _axes(frame, fmt_count(high), "0")
    width = max(min(frame.slot() * 0.6, 24.0), 2.0)
    bottom = TOP + frame.plot_height
    for point in points:
        x, y = frame.x(point.run_id), frame.y(point.quarantined, 0, high)
        tip = f"{point.run_id}：隔离 {fmt_count(point.quarantined)} 条"
        parts.append(
            f'<rect class="bar" x="{_n(x - width / 2)}" y="{_n(y)}" width="{_n(width)}" '
            f'height="{_n(bottom - y)}"><title>{escape(tip)}</title></rect>'
        )
    return _svg("quarantined", resource, f"{title} 隔离记录数趋势", parts)
