"""The stress report and the sensitivities page: every comparison drawn per run with ± SE error
bars, in the report's theme, with captions; a ranked tornado and one table; each under 2 MB."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from margincall.analysis.results import SimulationResult
from margincall.analysis.sensitivities import sensitivities
from margincall.analysis.stress import StressRun, parse_stress, run_stresses
from margincall.model.scenario import Scenario
from margincall.report import render_sensitivity_report, write_sensitivity_report, write_stress_report
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
    assert f"<figcaption>Headline — {BASE_CASE}</figcaption>" in stress_html
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


@pytest.fixture(scope="module")
def sensitivity_report(two_loans: Run):
    return sensitivities(two_loans[0], paths=2048, seed=2, kinds=["volatility", "trigger"])


def test_sensitivities_page_has_a_ranked_tornado_and_one_table(two_loans: Run, sensitivity_report, tmp_path: Path) -> None:
    path = write_sensitivity_report(sensitivity_report, two_loans[0], tmp_path, metric="acme-loan.p_margin_call")
    assert path.name == "sensitivities.html" and path.stat().st_size < 2_000_000
    html = path.read_text(encoding="utf-8")
    graphs = _graphs(html)
    first = next(iter(graphs))
    assert first == "fig-tornado-acme-loan-p-margin-call"
    assert len(graphs) == len(sensitivity_report.metrics)
    tornado = graphs[first]
    lowered, raised = tornado["data"]
    ranked = sensitivity_report.ranked("acme-loan.p_margin_call")
    assert lowered["y"] == raised["y"] and len(lowered["y"]) == len(ranked)
    swings = [abs((u or 0) - (d or 0)) for d, u in zip(lowered["x"], raised["x"])]
    assert swings == sorted(swings, reverse=True) or max(abs(a - b) for a, b in zip(swings, sorted(swings, reverse=True))) < 0.02
    assert tornado["layout"]["xaxis"]["title"]["text"].endswith("(percentage points)")
    assert all(e >= 0 for e in raised["error_x"]["array"]) and raised["error_x"]["visible"]
    tables = re.findall(r'<figure class="table" id="sensitivity-table">(.*?)</figure>', html, re.DOTALL)
    assert len(tables) == 1
    rows = re.findall(r"<tr><th scope=\"row\">(\d+)</th><th scope=\"row\">([^<]+)</th>", tables[0])
    assert [name for _, name in rows] == [r.bump for r in ranked]
    assert html.count("How to read it.") == len(graphs)
    assert render_sensitivity_report(sensitivity_report, two_loans[0]).count("fig-tornado-borrower-p-default") >= 1
