"""The HTML reports: one self-contained file each (plotly.js inlined once, no network request).

    from margincall.report import write_report, write_stress_report, write_sensitivity_report
    write_report(result, scenario, "out/report.html", scenario_text=text)
    write_explain_report(explanation, scenario, "out/explain.html")
"""

from margincall.report._explain import render_explain_report, write_explain_report
from margincall.report._inputs import Table, input_tables
from margincall.report._sensitivities import (
    bump_label,
    change_text,
    is_count,
    metric_label,
    render_sensitivity_report,
    sensitivity_table,
    tornado_chart,
    write_sensitivity_report,
)
from margincall.report._stress import stress_section, write_stress_report
from margincall.report._theme import Chart
from margincall.report._words import describe
from margincall.report._write import ReportSection, render_report, write_report

__all__ = [
    "Chart",
    "ReportSection",
    "Table",
    "bump_label",
    "change_text",
    "describe",
    "input_tables",
    "is_count",
    "metric_label",
    "render_explain_report",
    "render_report",
    "render_sensitivity_report",
    "sensitivity_table",
    "stress_section",
    "tornado_chart",
    "write_explain_report",
    "write_report",
    "write_sensitivity_report",
    "write_stress_report",
]
