"""The HTML report's content, read as text: facts, inputs, probabilities with SEs, charts, no network."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

import margincall
from margincall.analysis.results import SimulationResult
from margincall.model.scenario import Asset, Borrower, CashFlow, Lender, Loan, Scenario, Shock
from margincall.report import Chart, ReportSection, describe, input_tables, render_report, write_report
from margincall.report._format import binomial_se, percent, probability

Run = tuple[Scenario, str, SimulationResult]  # the fixtures of conftest.py: scenario, its text, result
BUNDLE_MARK = "* plotly.js (cartesian - minified) v"  # the licence header that opens the inlined plotly.js bundle


@pytest.fixture(scope="module")
def two_html(two_loans: Run) -> str:
    scenario, text, result = two_loans
    return render_report(result, scenario, scenario_text=text)


def test_write_report_to_a_file_or_a_folder(single: Run, tmp_path: Path) -> None:
    scenario, _, result = single
    file = write_report(result, scenario, tmp_path / "out" / "single.html")
    assert file == tmp_path / "out" / "single.html" and 1_000_000 < file.stat().st_size < 2_000_000
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
        assert f"{prefix}-probability" in ids
        assert (f"{prefix}-ltv" in ids) == loan.secured
        assert (f"{prefix}-first-call" in ids) == (loan.first_call_day["p50"] is not None)
        # the loss distribution where a path lost something, else a note that none did
        assert (f"{prefix}-loss" in ids) == (loan.p_loss > 0.0)
        assert (f'id="{prefix}-loss-missing"' in two_html) == (loan.p_loss == 0.0)
    assert {"fig-borrower-liquidity", "fig-borrower-cash", "fig-borrower-called-together", "fig-borrower-equity",
            "fig-system-sales", "fig-system-lenders"} <= ids
    for k, (loan_id, loan) in enumerate(two_loans[2].loans.items(), start=1):  # causes, where a path defaults
        assert (f"fig-loan{k}-{loan_id}-causes" in ids) == (loan.p_default > 0.0)
    assert ("fig-borrower-causes" in ids) == (two_loans[2].borrower.p_default > 0.0)
    assert {f"fig-system-price-{a}" for a in two_loans[0].assets} <= ids
    assert "Unsecured loan: it has no collateral and no LTV." in two_html
    assert "Unsecured loan: no margin call." in two_html  # the bond is never called
    assert "among paths with one" in two_html


def _graphs(html: str) -> list[tuple[str, dict]]:
    """(div id, figure JSON) of every plotly chart of a page."""
    out = []
    for div_id, data, layout in re.findall(
            r'<div id="([^"]+)" class="plotly-graph-div".*?Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*(\{.*?\}),\s*\{"displaylogo"',
            html, re.DOTALL):
        out.append((div_id, {"data": json.loads(data), "layout": json.loads(layout)}))
    return out


def test_every_chart_has_a_caption_under_it(two_html: str) -> None:
    charts = re.findall(r'<figure class="chart" id="([^"]+)-chart">(.*?)</figure>', two_html, re.DOTALL)
    ids = re.findall(r'<div id="(fig-[^"]+)" class="plotly-graph-div"', two_html)
    assert len(charts) == len(ids) >= 10
    for div_id, body in charts:
        caption = re.search(r'<figcaption class="caption">(.*?)</figcaption>', body, re.DOTALL)
        assert caption is not None, div_id
        assert body.index("plotly-graph-div") < body.index("<figcaption"), f"{div_id}: the caption is under the chart"
        words = re.sub(r"<[^>]+>", " ", caption.group(1)).split()
        assert len(words) >= 30, f"{div_id}: a caption says what the chart shows and how to read it"


def test_report_is_under_2_mb_with_plotly_inlined_once(two_html: str) -> None:
    size = len(two_html.encode("utf-8"))
    assert size < 2_000_000, f"report of {size:,} bytes"
    assert two_html.count("plotly.js (cartesian - minified) v") == 1
    assert '"template":{"layout"' in two_html.replace(" ", "") and "plotly_white" not in two_html


def test_time_axes_show_dates_when_the_scenario_has_a_start_date(two_loans: Run, two_html: str, single: Run) -> None:
    scenario = two_loans[0]
    graphs = dict(_graphs(two_html))
    start = np.datetime64(scenario.start_date, "D")
    for div_id in ("fig-loan1-acme-loan-ltv", "fig-loan1-acme-loan-probability", "fig-borrower-cash"):
        figure = graphs[div_id]
        assert figure["layout"]["xaxis"]["title"]["text"].startswith("date")
        x = figure["data"][-1]["x"]
        assert x[0] == str(start)
        # business days from start_date, as Scenario.day_number counts them
        assert all(scenario.day_number(dt.date.fromisoformat(d)) >= 0 for d in x)
        days = [scenario.day_number(dt.date.fromisoformat(d)) for d in x]
        assert days == sorted(days) and days[-1] == scenario.horizon
    plain = dict(_graphs(render_report(single[2], single[0])))
    assert single[0].start_date is None
    assert plain["fig-loan1-acme-loan-ltv"]["layout"]["xaxis"]["title"]["text"] == "trading day"
    assert plain["fig-loan1-acme-loan-ltv"]["data"][-1]["x"][0] == 0


def test_one_number_format(two_loans: Run, two_html: str) -> None:
    text = re.sub(r"<script\b[^>]*>.*?</script>", "", two_html, flags=re.DOTALL)
    text = re.sub(r"<[^>]+>", " ", text)
    assert not re.search(r"\d\.?\d*e[+-]\d", text), "no exponent notation in tables or notes"
    assert not re.search(r"\d(B|T|G|bn|tn)\b", text), "amounts as 'USD 1.2 bn', with a space and the currency"
    assert "USD 45 " in text  # the acme loan's principal, in the report's format
    for _, figure in _graphs(two_html):
        for axis in ("xaxis", "yaxis"):
            title = (figure["layout"].get(axis) or {}).get("title", {}).get("text", "")
            assert "B)" not in title and "e+" not in title
        for trace in figure["data"]:
            template = trace.get("hovertemplate") or ""
            assert ":,.4g" not in template and "%{y}" not in template.replace("%{y:", "")


def test_co_call_matrix_labels_its_diagonal(two_loans: Run, two_html: str) -> None:
    result = two_loans[2]
    graphs = dict(_graphs(two_html))
    heat = graphs["fig-borrower-called-together"]["data"][0]
    secured = [k for k, r in result.loans.items() if r.secured]
    assert heat["x"] == secured and heat["y"] == secured  # the unsecured bond is never called: not in the matrix
    for i, a in enumerate(secured):
        for j, b in enumerate(secured):
            z = heat["z"][i][j]
            assert z == pytest.approx(result.borrower.called_together[a][b], abs=1e-4)
            if i == j:
                assert heat["text"][i][j].startswith("P(called)")
                assert heat["customdata"][i][j].startswith(f"P({a} called)")
                assert z == pytest.approx(result.loans[a].p_margin_call, abs=1e-4)
            else:
                assert heat["customdata"][i][j].startswith(f"P({a} and {b} both called)")
                assert z <= min(result.loans[a].p_margin_call, result.loans[b].p_margin_call) + 1e-12


def test_ltv_chart_marks_call_and_liquidation_levels(two_loans: Run, two_html: str) -> None:
    for loan in two_loans[0].loans.values():
        if loan.secured:
            assert f'"y0":{loan.margin_call_ltv},' in two_html and f'"y0":{loan.liquidation_ltv},' in two_html


def test_inputs_cover_every_field_of_the_schema(two_loans: Run, two_html: str) -> None:
    scenario = two_loans[0]
    tables = {t.title: t for t in input_tables(scenario)}
    keys = {row[0] for t in tables.values() for row in t.rows}
    for model, skip in ((Asset, set()), (Loan, set()), (Borrower, {"cash_flows"}), (Lender, set()),
                        (Scenario, {"assets", "correlation", "shocks", "borrower", "borrowers", "lenders", "loans"})):
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
    # every input shows its value: none is a bare dash, a derived default shows the value used
    for table in tables.values():
        for row in table.rows:
            assert "—" not in row[1:-2], f"{table.title}: {row[0]} shows no value"
    settings = {row[0]: row[1] for row in tables["Run settings"].rows}
    assert settings["horizon_days"] == "252"
    no_horizon = scenario.model_copy(update={"horizon_days": None})
    derived = {row[0]: row[1] for row in input_tables(no_horizon)[0].rows}
    assert derived["horizon_days"].startswith(f"{no_horizon.horizon:,} ")
    lender = {row[0]: row[1:] for row in loans.rows}["lender"]
    assert all(v != "none" for v in lender)
    assets = {row[0]: row[1:] for row in tables["Assets (the borrower's holdings)"].rows}
    assert assets["value"][:2] == ["USD 100", "USD 120"] and assets["adv"][0] == "USD 4"
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
    chart = Chart("fig-extra-bar", go.Figure(go.Bar(x=["a"], y=[1])), "A bar of height one, to read as such.")
    extra = ReportSection("Stress results", html="<p id='stress-note'>from the stress command</p>", charts=[chart])
    html = render_report(single[2], single[0], extra_sections=[extra])
    assert "<p id='stress-note'>from the stress command</p>" in html
    assert 'id="fig-extra-bar"' in html and html.count(BUNDLE_MARK) == 1
    assert "A bar of height one, to read as such." in html


def test_inputs_and_words_of_a_book() -> None:
    """A scenario as a book: each borrower, each lender and the cash flows of all borrowers shown."""
    import margincall

    scenario = margincall.load_scenario(Path(__file__).parent / "data" / "book.yaml")
    tables = {t.title: t for t in input_tables(scenario)}
    assert tables["Borrowers"].header[1:3] == ["alpha", "beta"]
    assert tables["Lenders"].header[1:3] == ["bank", "fund"]
    holdings = {row[0]: row[1:3] for row in tables["Borrowers"].rows}["holdings"]
    assert holdings == ["acme: 100,000,000, co: 1,000,000", "acme: 20,000,000"]
    flows = tables["Scheduled cash flows"]
    assert flows.header[1] == "borrower" and flows.rows[0][1] == "beta"
    loans = {row[0]: row[1:3] for row in tables["Loans and their covenants"].rows}
    assert loans["borrower"] == ["alpha", "beta"] and loans["lender"] == ["bank", "fund"]
    text = " ".join(describe(scenario))
    assert "alpha holds 2 stakes worth USD 1.05 bn" in text and "beta has USD 50 m of cash" in text
    assert "LTV on day 0, before shocks: 60.0%" in text  # 300 m on half of 100 m shares at 10


def test_causes_add_up_to_p_default_with_their_errors(two_loans: Run, two_html: str) -> None:
    result = two_loans[2]
    graphs = dict(_graphs(two_html))
    for k, (loan_id, loan) in enumerate(result.loans.items(), start=1):
        if loan.p_default == 0.0:
            continue
        (bar,) = graphs[f"fig-loan{k}-{loan_id}-causes"]["data"]
        assert sum(bar["x"]) == pytest.approx(loan.p_default, rel=1e-3)  # each default counted once, by first cause
        assert all(e > 0.0 for e in bar["error_x"]["array"])


def test_lenders_chart_orders_lenders_by_expected_loss(two_loans: Run, two_html: str) -> None:
    result = two_loans[2]
    graphs = dict(_graphs(two_html))
    el = graphs["fig-system-lenders"]["data"][0]
    names = {r.name or k: r for k, r in result.lenders.items()}
    assert set(el["x"]) == set(names)
    losses = [names[n].expected_loss for n in el["x"]]
    assert losses == sorted(losses, reverse=True)


def test_reality_check_table_where_the_borrower_has_a_rating() -> None:
    """The built-in scenario states SBG's rating and CDS: the report sets the model beside both."""
    scenario = margincall.default_scenario()
    result = margincall.simulate(scenario, paths=1024, seed=2)
    html = render_report(result, scenario)
    table = html[html.index("Reality check of"):]
    table = table[:table.index("</table>")]
    assert "S&amp;P BB+ (BB row)" in table and "CDS 302 bp" in table
    check = result.borrower.reality_check
    assert percent(check["historical"][1]) in table  # 3.46%, the BB 3-year rate


def test_contagion_chart_of_a_book_counts_borrowers_in_default() -> None:
    scenario = margincall.load_scenario(Path(__file__).parent / "data" / "book.yaml")
    result = margincall.simulate(scenario, paths=1024, seed=4)
    graphs = dict(_graphs(render_report(result, scenario)))
    bars = graphs["fig-system-contagion"]["data"][0]
    assert sum(bars["y"]) == pytest.approx(1.0, abs=1e-3)  # P(k borrowers in default) over k = 0, 1, 2
    assert bars["x"][0] == 0 and len(bars["x"]) <= len(result.borrowers) + 1


def test_a_large_book_charts_its_riskiest_members_and_stays_under_2_mb() -> None:
    scenario = margincall.load_scenario("pledge-spiral")
    result = margincall.simulate(scenario, paths=1024, seed=5)
    html = render_report(result, scenario)
    assert len(html.encode("utf-8")) < 2_000_000
    sections = re.findall(r'<section id="loan-\d+" class="loan">\s*<h2>Loan ([^<]+)</h2>', html)
    assert len(sections) == 5 < len(result.loans)
    by_risk = sorted(result.loans, key=lambda k: (-result.loans[k].expected_loss, -result.loans[k].p_default,
                                                  -result.loans[k].p_margin_call))
    assert set(sections) == set(by_risk[:5])
    assert "the 5 loans of the largest expected loss" in html and f"of {len(result.loans)}" in html
    headline = html[html.index("<h2>The scenario in words</h2>"):html.index('<section id="loan-1"')]
    assert all(loan_id in headline for loan_id in result.loans)  # every loan is in the headline table
