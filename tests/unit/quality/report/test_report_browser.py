"""The quality report in headless Chromium: it renders, and it logs no error and asks for nothing outside."""

from __future__ import annotations

from pathlib import Path

import pytest
from headless_chromium import (
    chromium_or_skip,
    dump_dom,
    page_problems,
    png_distinct_bytes,
    png_size,
    screenshot,
)
from report_runs import ReportedRuns

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium() -> str:
    """The Chromium executable (skipped without one unless CI is set)."""
    return chromium_or_skip()


def test_report_renders_to_a_non_trivial_screenshot(
    chromium: str, reported_runs: ReportedRuns, tmp_path: Path
) -> None:
    page = Path(reported_runs.second["quality_report"])
    target = tmp_path / "report.png"
    screenshot(chromium, page.as_uri(), target, tmp_path / "profile")
    data = target.read_bytes()
    assert png_size(data) == (1280, 2400)
    # A blank or unstyled page compresses to a few kilobytes of a handful of byte values.
    assert len(data) > 30_000
    assert png_distinct_bytes(data) > 50


def test_report_dom_is_the_report_and_the_console_stays_clean(
    chromium: str, reported_runs: ReportedRuns, tmp_path: Path
) -> None:
    page = Path(reported_runs.second["quality_report"])
    dom, console_errors = dump_dom(chromium, page.as_uri(), tmp_path / "profile")
    assert "数据质量报告" in dom and 'data-metric="pass_rate"' in dom
    assert console_errors == []


def test_pages_have_no_console_error_and_request_nothing_outside(
    chromium: str, reported_runs: ReportedRuns, tmp_path: Path
) -> None:
    pages = [Path(reported_runs.second["quality_report"])]
    pages += [Path(p) for p in reported_runs.second["validation"].values()]
    for index, page in enumerate(pages):
        assert page_problems(chromium, page.as_uri(), tmp_path / f"profile{index}") == [], page.name
