"""Report: write a run's quality report, its validation pages and the rectification workbook under SDX_HOME.

Everything is read from the curated database except each resource's GX validation result, which only the
staging area keeps (`<run>/<resource>/gx_result.json`); a resource whose staging is gone gets no page.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from catalog import Catalog, default_catalog
from exchange import settings, staging
from exchange.context import RunContext
from quality.report import (
    ReportData,
    load_report_data,
    render_report_html,
    render_validation_html,
    write_rectification_workbook,
)

log = logging.getLogger(__name__)

REPORT_PAGE = "quality_report.html"
# Run ids may be 250 characters; with a prefix and suffix a file name would pass the usual 255-byte limit.
MAX_STEM = 120


def report_dir(run_id: str) -> Path:
    """The folder of a run's report files (not created)."""
    return settings.home() / "reports" / staging.safe_name(run_id)


def file_stem(run_id: str) -> str:
    """`run_id` as part of a file name: sanitised as staging does, shortened with a hash when long."""
    name = staging.safe_name(run_id)
    if len(name) <= MAX_STEM:
        return name
    digest = hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:12]
    return f"{name[: MAX_STEM - 13]}_{digest}"


def report_run(
    source: RunContext | sa.Engine,
    run_id: str | None = None,
    *,
    catalog: Catalog | None = None,
    history: int = 30,
) -> dict[str, Any]:
    """Write the report files of `run_id` (default: the context's run) and return their paths.

    Args:
        source: the run's context (its curated hook and catalogue are used) or a curated-database engine.
        run_id: the run to report; required with an engine.
        catalog: the catalogue for titles; default the context's, or the shipped one with an engine.
        history: how many runs, this one included, the trend charts cover.

    Returns:
        `quality_report` and `rectification` paths, and `validation`: resource → page path, as text (an
        Airflow task returns them as its XCom).
    """
    if isinstance(source, RunContext):
        engine = source.curated.get_conn()
        run_id = run_id or source.run_id
        catalog = catalog or source.catalog
    else:
        engine = source
        catalog = catalog or default_catalog()
    if not run_id:
        raise ValueError("report_run needs a run id when given an engine")
    data = load_report_data(engine, run_id, catalog, history=history)
    folder = report_dir(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    pages = _write_validation_pages(folder, data, catalog)
    workbook = folder / f"rectification_{file_stem(run_id)}.xlsx"
    _replace_atomically(workbook, lambda tmp: write_rectification_workbook(data, tmp))
    data = dataclasses.replace(
        data, validation_pages={name: path.name for name, path in pages.items()}, workbook_name=workbook.name
    )
    page = folder / REPORT_PAGE
    _write_text(page, render_report_html(data))
    log.info("report %s: %s", run_id, folder)
    return {
        "run_id": run_id,
        "quality_report": str(page),
        "rectification": str(workbook),
        "validation": {name: str(path) for name, path in pages.items()},
    }


def _write_validation_pages(folder: Path, data: ReportData, catalog: Catalog) -> dict[str, Path]:
    pages: dict[str, Path] = {}
    for res in data.resources:
        # Not staging.path(): it creates folders, and a report must not add to a run's staging.
        source = staging.run_dir(data.run.run_id) / res.name / "gx_result.json"
        if not source.exists():
            continue
        result = json.loads(source.read_text(encoding="utf-8"))
        html = render_validation_html(
            result, res.title, resource=catalog.resources.get(res.name), back_link=REPORT_PAGE
        )
        target = folder / f"validation_{staging.safe_name(res.name)}.html"
        _write_text(target, html)
        pages[res.name] = target
    return pages


def _replace_atomically(target: Path, write: Callable[[Path], object]) -> None:
    # A reviewer opening the file mid-write sees the old version or the new one, never half of one.
    tmp = target.with_name(f".{target.name}.tmp")
    write(tmp)
    os.replace(tmp, target)


def _write_text(target: Path, text: str) -> None:
    _replace_atomically(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))
