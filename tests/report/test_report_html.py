"""The HTML report's content, read as text: facts, inputs, probabilities with SEs, charts, no network."""

from __future__ import annotations

import re
from pathlib import Path

import plotly.graph_objects as go
import pytest

from margincall.analysis.results import SimulationResult
from margincall.model.scenario import Asset, Borrower, CashFlow, Loan, Scenario, Shock
from margincall.report import ReportSection, describe, input_tables, render_report, write_report
from margincall.report._format import binomial_se, probability

Run = tuple[Scenario, str, SimulationResult]  # the fixtures of conftest.py: scenario, its text, result
BUNDLE_MARK = "* plotly.js v"  # the licence header that opens the inlined plotly.js bundle


@pytest.fixture(scope="module")
def two_html(two_loans: Run) -> str:
    scenario, text, result = two_loans
    return render_report(result, scenario, scenario_text=text)


def test_write_report_to_a_file_or_a_folder(single: Run, tmp_path: Path) -> None:
    scenario, _, result = single
    file = write_report(result, scenario, tmp_path / "out" / "single.html")
    assert file == tmp_path / "out" / "single.html" and file.stat().st_size > 1_000_000
    folder = write_report(result, scenario, tmp_path / "reports")
    assert folder == tmp_path / "reports" / "report.html" and folder.is_file()
    assert not list((tmp_path / "out").glob(".report-*"))  # no temporary file left behind


def test_run_facts(two_loans: Run, two_html: str) -> None:
    r = two_loans[2]
    facts = re.search(r'<dl class="facts" id="run-facts">(.*?)</dl>', two_html, re.DOTALL)
    assert facts is not None
    text = re.sub(r"<[^>]+>", " ", facts.group(1))
    for expected in (r.scenario, f"{r.paths:,}", str(r.seed), r.version, f"{r.elapsed_seconds:.2f} s", "UTC"):
        assert expected in text
    assert re.search(r"written at\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", text)


def test_plotly_is_inlined_once_before_the_first_chart_and_nothing_is_fetched(two_html: str) -> None:
    assert two_html.count(BUNDLE_MARK) == 1
    assert two_html.index(BUNDLE_MARK) < two_html.index("Plotly.newPlot")
    assert not re.search(r"<script[^>]+\bsrc=", two_html)
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", two_html, flags=re.DOTALL)  # the page less its scripts
    assert not re.search(r"<(link|iframe|img|object|embed)\b", markup)
    assert not re.search(r"""(src|href|action)=["']?(https?:)?//""", markup)
    assert "url(" not in markup and "@import" not in markup
    assert "Content-Security-Policy" in two_html and "default-src 'none'" in two_html


def test_every_probability_has_its_standard_error(two_loans: Run, two_html: str) -> None:
    r = two_loans[2]
    for loan in r.loans.values():
        for p, se in ((loan.p_margin_call, loan.p_margin_call_se), (loan.p_default, loan.p_default_se),
                      (loan.p_loss, loan.p_loss_se)):
            assert probability(p, se) in two_html
        for p in loan.events.values():
            assert probability(p, binomial_se(p, r.paths)) in two_html
    b = r.borrower
    for p, se in ((b.p_default, b.p_default_se), (b.p_forced_sale, b.p_forced_sale_se), (b.p_cascade, b.p_cascade_se)):
        assert probability(p, se) in two_html
    # every table row of a probability, P(...), shows a ± SE in each of its cells
    rows = re.findall(r'<tr><th scope="row">(P\([^<]*)</th>(.*?)</tr>', two_html)
    assert len(rows) >= 3 * len(r.loans) + 3
    for label, cells in rows:
        assert all("±" in cell for cell in re.findall(r"<td>([^<]*%[^<]*)</td>", cells)), label


def test_a_chart_per_loan_and_for_the_borrower(two_loans: Run, two_html: str) -> None:
    ids = set(re.findall(r'<div id="(fig-[^"]+)"', two_html))
    for k, (loan_id, loan) in enumerate(two_loans[2].loans.items(), start=1):
        prefix = f"fig-loan{k}-{loan_id}"
        assert {f"{prefix}-probability", f"{prefix}-loss"} <= ids
        assert (f"{prefix}-ltv" in ids) == loan.secured
        assert (f"{prefix}-first-call" in ids) == (loan.first_call_day["p50"] is not None)
    assert {"fig-borrower-liquidity", "fig-borrower-cash", "fig-borrower-sales", "fig-borrower-called-together",
            "fig-borrower-equity"} <= ids
    assert "Unsecured loan: no LTV." in two_html
    assert "No path had a margin call" in two_html  # the bond is never called
    assert "conditional on a call" in two_html


def test_ltv_chart_marks_call_and_liquidation_levels(two_loans: Run, two_html: str) -> None:
    for loan in two_loans[0].loans.values():
        if loan.secured:
            assert f'"y0":{loan.margin_call_ltv},' in two_html and f'"y0":{loan.liquidation_ltv},' in two_html


def test_inputs_cover_every_field_of_the_schema(two_loans: Run, two_html: str) -> None:
    scenario = two_loans[0]
    tables = {t.title: t for t in input_tables(scenario)}
    keys = {row[0] for t in tables.values() for row in t.rows}
    for model, skip in ((Asset, set()), (Loan, set()), (Borrower, {"cash_flows"}),
                        (Scenario, {"assets", "correlation", "shocks", "borrower", "loans"})):
        for name in model.model_fields:
            if name in skip:
                continue
            assert name in keys or any(k.startswith(name + ".") for k in keys), f"{model.__name__}.{name} not shown"
    shocks = tables["Shocks"].header + tables["Borrower's scheduled cash flows"].header
    for name in set(Shock.model_fields) | set(CashFlow.model_fields):
        assert any(name.split("_")[0] in h for h in shocks), name
    assert len(tables["Borrower's scheduled cash flows"].rows) == 2
    assert tables["Shocks"].rows[0][2] == str(scenario.day_number(scenario.shocks[0].day))
    loans = tables["Loans and their covenants"]
    units = {row[0]: row[-2] for row in loans.rows}
    assert units["principal"] == "USD" and units["margin_call_ltv"].startswith("LTV")
    assert units["cure_days"] == "trading days"
    assert "0.0355 + 0.0425 = 0.078 (index + spread)" in two_html
    assert "Scenario file as run" in two_html and "investment tranche" in two_html


def test_scenario_in_words(two_loans: Run) -> None:
    scenario = two_loans[0]
    text = " ".join(describe(scenario))
    for name in [*scenario.assets, *scenario.loans, "HoldCo", "bank-a", "unsecured"]:
        assert name in text
    assert "LTV on day 0, before shocks: 50.0%" in text  # 45 / (100 * 0.9)


def test_scenario_text_is_escaped(single: Run) -> None:
    scenario, text, result = single
    html = render_report(result, scenario, scenario_text="# <script>alert(1)</script>\n" + text)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_extra_sections(single: Run) -> None:
    extra = ReportSection("Stress results", html="<p id='stress-note'>from the stress command</p>",
                          figures=[go.Figure(go.Bar(x=["a"], y=[1]))])
    html = render_report(single[2], single[0], extra_sections=[extra])
    assert "<p id='stress-note'>from the stress command</p>" in html
    assert 'id="fig-extra-1-1"' in html and html.count(BUNDLE_MARK) == 1
