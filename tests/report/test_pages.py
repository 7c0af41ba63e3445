"""The stress report: every comparison drawn per run with ± SE error bars, in the report's theme,
with captions, under 2 MB."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from margincall.analysis.results import SimulationResult
from margincall.analysis.stress import StressRun, parse_stress, run_stresses
from margincall.model.scenario import Scenario
from margincall.report import write_stress_report
from margincall.report._stress import BASE_CASE

Run = tuple[Scenario, str, SimulationResult]  # the fixtures of conftest.py: scenario, its text, result

CRASH = """
id: T1
name: listed-crash
description: The listed stake falls 40% over a week.
shocks:
  - {asset: acme, change: -0.4, day: 0, over_days: 5}
"""
MARKDOWN = """
id: T2
name: private-markdown
description: The private stake is marked down 50%.
shocks:
  - {asset: co, change: -0.5, day: 0}
"""


def _graphs(html: str) -> dict[str, dict]:
    out = {}
    for div_id, data, layout in re.findall(
            r'<div id="([^"]+)" class="plotly-graph-div".*?Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*(\{.*?\}),\s*\{"displaylogo"',
            html, re.DOTALL):
        out[div_id] = {"data": json.loads(data), "layout": json.loads(layout)}
    return out


@pytest.fixture(scope="module")
def stress_run(two_loans: Run) -> StressRun:
    return run_stresses(two_loans[0], [parse_stress(CRASH), parse_stress(MARKDOWN)], paths=2048, seed=3)


@pytest.fixture(scope="module")
def stress_html(two_loans: Run, stress_run: StressRun, tmp_path_factory) -> str:
    path = write_stress_report(stress_run, two_loans[0], tmp_path_factory.mktemp("stress") / "report.html",
                               scenario_text=two_loans[1])
    assert path.stat().st_size < 2_000_000
    return path.read_text(encoding="utf-8")


def test_stress_report_compares_every_run_with_error_bars(stress_run: StressRun, stress_html: str) -> None:
    graphs = _graphs(stress_html)
    stress_charts = {k: v for k, v in graphs.items() if k.startswith("fig-stress-")}
    assert {"fig-stress-p-call", "fig-stress-p-default", "fig-stress-expected-loss", "fig-stress-borrower"} <= set(stress_charts)
    runs = ["base", "T1", "T2"]
    for div_id in ("fig-stress-p-call", "fig-stress-p-default", "fig-stress-expected-loss", "fig-stress-borrower"):
        for trace in stress_charts[div_id]["data"]:
            assert trace["x"] == runs
            errors = trace["error_y"]
            assert errors["visible"] and len(errors["array"]) == 3 and any(e > 0 for e in errors["array"])
    default = stress_charts["fig-stress-p-default"]["data"]
    base, crash = stress_run.base.loans["acme-loan"], stress_run.results["listed-crash"].loans["acme-loan"]
    acme = next(t for t in default if t["name"] == "acme-loan")
    assert acme["y"] == pytest.approx([base.p_default, crash.p_default, stress_run.results["private-markdown"].loans["acme-loan"].p_default], abs=1e-4)
    assert acme["error_y"]["array"][1] == pytest.approx(crash.p_default_se, rel=1e-2)
    # every run drawn in the per-loan comparisons over time
    for loan_id in ("acme-loan", "co-loan"):
        assert [t["name"] for t in stress_charts[f"fig-stress-{loan_id}-ltv"]["data"]] == runs
        curves = stress_charts[f"fig-stress-{loan_id}-default-by-date"]["data"]
        assert [t["name"] for t in curves] == runs and all(any(e is not None for e in t["error_y"]["array"]) for t in curves)


def test_stress_report_says_which_case_each_chart_shows(stress_html: str) -> None:
    graphs = _graphs(stress_html)
    theme = None
    for div_id, figure in graphs.items():
        title = figure["layout"]["title"]["text"]
        if not div_id.startswith("fig-stress-"):
            assert title.endswith(f"— {BASE_CASE}"), div_id
        template = figure["layout"]["template"]
        theme = theme or template
        assert template == theme, f"{div_id}: one theme throughout"
    assert f"<h2>Loan acme-loan — {BASE_CASE}</h2>" in stress_html and f"<h2>Borrower — {BASE_CASE}</h2>" in stress_html
    captions = re.findall(r'<figure class="chart" id="([^"]+)-chart">.*?<figcaption class="caption">(.*?)</figcaption>',
                          stress_html, re.DOTALL)
    assert len(captions) == len(graphs)
    for div_id, caption in captions:
        if not div_id.startswith("fig-stress-"):
            assert BASE_CASE[0].upper() + BASE_CASE[1:] in caption, div_id
        elif div_id.endswith("-ltv"):  # medians: quantiles without a standard error, and said so
            assert "without an error bar" in caption and "common random numbers" in caption
        else:
            assert "standard error" in caption and "common random numbers" in caption
    assert stress_html.index('id="extra-1"') < stress_html.index('id="loan-1"')  # the comparison comes first
