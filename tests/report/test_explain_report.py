"""explain.html: the causes of default and each story's chart and day-by-day table, self-contained."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import margincall
from margincall.analysis.explain import explain
from margincall.cli.main import app
from margincall.report import render_explain_report, write_explain_report

PATHS = 2000
SEED = 3


@pytest.fixture(scope="module")
def explained():
    scenario = margincall.load_scenario("softbank-openai")
    return scenario, explain(scenario, paths=PATHS, seed=SEED)


def _graphs(html: str) -> dict[str, list]:
    return {
        div_id: json.loads(data)
        for div_id, data, _layout in re.findall(
            r'<div id="([^"]+)" class="plotly-graph-div".*?Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*(\{.*?\}),\s*\{"displaylogo"',
            html, re.DOTALL)
    }


def test_the_page_draws_the_causes_and_each_story(explained, tmp_path: Path) -> None:
    scenario, explanation = explained
    path = write_explain_report(explanation, scenario, tmp_path)
    assert path == tmp_path / "explain.html"
    html = path.read_text(encoding="utf-8")
    graphs = _graphs(html)
    causes = graphs["fig-causes"][0]
    assert [name.replace(" ", "_") for name in causes["y"]] == list(explanation.causes)
    assert causes["x"] == pytest.approx(list(explanation.causes.values()))
    for i, story in enumerate(explanation.stories):
        traces = graphs[f"fig-story-{i}"]
        lines = [t for t in traces if t.get("mode") == "lines"]
        assert {t["name"] for t in lines} == set(story.prices)
        for t in lines:
            assert t["y"][0] == pytest.approx(1.0)  # prices over day 0
        assert f"(path {story.path})" in html
        for _, _, text in story.lines[:5]:
            assert text.replace("'", "&#39;") in html or text in html
    assert "How to read it." in html
    assert len(html.encode()) < 2_000_000
    assert "https://" not in re.sub(r"<script.*?</script>", "", html, flags=re.DOTALL)  # no request leaves the page


def test_a_run_without_defaults_says_so(tmp_path: Path) -> None:
    calm = margincall.parse_scenario(
        """
name: calm
horizon_days: 20
assets: {acme: {kind: public, value: 100.0, volatility: 0.01, adv: 1.0e+9}}
borrower: {cash: 10.0}
loans: {l: {principal: 10.0, rate: 0.0, term_days: 30, collateral: {acme: 1.0}, margin_call_ltv: 0.9, cure_ltv: 0.8, cure_days: 2, liquidation_ltv: 0.95}}
"""
    )
    html = render_explain_report(explain(calm, paths=64, seed=1), calm)
    assert "No path defaults" in html and "fig-story-0" not in html


def test_explain_out_writes_the_json_and_the_page(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["explain", "--paths", "1500", "--seed", "3", "--out", str(tmp_path), "--no-store"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "explain.json").read_text(encoding="utf-8"))
    assert data["paths"] == 1500 and data["stories"]
    assert "fig-causes" in (tmp_path / "explain.html").read_text(encoding="utf-8")
    assert "A typical defaulting path" in result.output and "[bold]" not in result.output
