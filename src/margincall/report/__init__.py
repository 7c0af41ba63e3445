"""The HTML reports: one self-contained file each (plotly.js inlined once, no network request).

    from margincall.report import write_report, write_stress_report
    write_report(result, scenario, "out/report.html", scenario_text=text)
"""

from margincall.report._inputs import Table, input_tables
from margincall.report._stress import stress_section, write_stress_report
from margincall.report._theme import Chart
from margincall.report._words import describe
from margincall.report._write import ReportSection, render_report, write_report

__all__ = [
    "Chart",
    "ReportSection",
    "Table",
    "describe",
    "input_tables",
    "render_report",
    "stress_section",
    "write_report",
    "write_stress_report",
]
