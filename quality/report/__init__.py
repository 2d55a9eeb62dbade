"""The quality report of a run: its data from the curated database, the HTML pages, the rectification workbook."""

from quality.report.data import ReportData, load_report_data
from quality.report.html import render_report_html
from quality.report.validation_html import render_validation_html
from quality.report.workbook import write_rectification_workbook

__all__ = [
    "ReportData",
    "load_report_data",
    "render_report_html",
    "render_validation_html",
    "write_rectification_workbook",
]
