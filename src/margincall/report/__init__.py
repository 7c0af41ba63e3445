"""The HTML report of a run: one self-contained file (plotly.js inlined once) that makes no
network request.

    from margincall.report import write_report
    write_report(result, scenario, "out/report.html", scenario_text=text)
"""

from margincall.report._inputs import Table, input_tables
from margincall.report._words import describe
from margincall.report._write import ReportSection, render_report, write_report

__all__ = ["ReportSection", "Table", "describe", "input_tables", "render_report", "write_report"]
