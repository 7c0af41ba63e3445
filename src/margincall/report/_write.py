"""Assemble and write the HTML report: one self-contained file, plotly.js inlined once, no network."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup

from margincall._version import __version__
from margincall.analysis.results import BorrowerResult, LoanResult, SimulationResult
from margincall.model.scenario import Scenario
from margincall.report import _charts as charts
from margincall.report._format import binomial_se, money, money_se, number, percent, probability
from margincall.report._inputs import Table, input_tables
from margincall.report._words import day0_ltv, describe

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "showSendToCloud": False}


@dataclass(frozen=True)
class ReportSection:
    """An extra section after the built-in ones: `html` is trusted markup, `figures` plotly figures."""

    title: str
    html: str = ""
    figures: Sequence[go.Figure] = ()


@dataclass(frozen=True)
class _LoanView:
    loan_id: str
    summary: Table
    events: Table
    figures: list[tuple[str, go.Figure | None, str]] = field(default_factory=list)  # (div id, figure, note if none)


class _Plotter:
    """Renders figures in document order; the first one carries the plotly.js bundle."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, fig: go.Figure, div_id: str | None = None) -> Markup:
        self.count += 1
        html = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=self.count == 1,
            include_mathjax=False,
            config=PLOTLY_CONFIG,
            div_id=div_id or f"figure-{self.count}",
            default_height=f"{fig.layout.height or 380}px",
        )
        return Markup(html)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("margincall.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(
    result: SimulationResult,
    scenario: Scenario,
    *,
    scenario_text: str | None = None,
    extra_sections: Sequence[ReportSection] | None = None,
    written_at: dt.datetime | None = None,
) -> str:
    """The report as one HTML string (see `write_report`)."""
    written_at = written_at or dt.datetime.now(dt.UTC)
    cur = result.currency
    days: Sequence[float | None] = result.borrower.cash_quantiles.get("day") or list(range(result.horizon_days + 1))
    loans = [
        _loan_view(index, loan_id, loan_result, scenario, result, days)
        for index, (loan_id, loan_result) in enumerate(result.loans.items())
    ]
    borrower = result.borrower
    context = {
        "title": f"margincall report — {result.scenario}",
        "result": result,
        "facts": _facts(result, written_at),
        "words": describe(scenario),
        "headline": _headline(result),
        "loans": loans,
        "borrower_summary": _borrower_table(borrower, result.paths, cur),
        "borrower_figures": [
            ("fig-borrower-liquidity", charts.liquidity_chart(borrower, scenario.borrower, cur), ""),
            ("fig-borrower-cash", charts.cash_fan(borrower, cur), ""),
            ("fig-borrower-sales", charts.sales_chart(borrower, cur), "Nothing was sold on any path."),
            ("fig-borrower-called-together", charts.called_together_heatmap(borrower, result.paths), ""),
            ("fig-borrower-equity", charts.equity_chart(borrower, cur), "Equity quantiles are not available."),
        ],
        "sold_by_asset": Table(
            title="Value sold by asset (expected per path)",
            header=["asset", f"sold ({cur})"],
            rows=[[a, money(v, cur)] for a, v in borrower.sold_value_by_asset.items()],
        ),
        "inputs": input_tables(scenario),
        "scenario_text": scenario_text,
        "extra_sections": list(extra_sections or ()),
        "plot": _Plotter(),
    }
    return _environment().get_template("report.html.j2").render(context)


def write_report(
    result: SimulationResult,
    scenario: Scenario,
    path: str | os.PathLike[str],
    *,
    scenario_text: str | None = None,
    extra_sections: Sequence[ReportSection] | None = None,
) -> Path:
    """Write the HTML report of `result` (a run of `scenario`) and return its path.

    `path` ending in .html/.htm is the file; any other path is a folder (created) that gets
    `report.html`. The file is self-contained (about 5 MB: plotly.js is inlined once) and makes
    no network request. `scenario_text` (the YAML run) is shown verbatim when given.
    """
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        target = target / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    html = render_report(result, scenario, scenario_text=scenario_text, extra_sections=extra_sections)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(html)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _facts(result: SimulationResult, written_at: dt.datetime) -> list[tuple[str, str]]:
    return [
        ("scenario", result.scenario),
        ("paths", number(result.paths)),
        ("seed", str(result.seed)),
        ("horizon", f"{result.horizon_days} trading days ({_years(result.horizon_days, result.days_per_year)})"),
        ("currency", result.currency),
        ("engine version", result.version),
        ("report written by", f"margincall {__version__}"),
        ("run time", f"{result.elapsed_seconds:.2f} s"),
        ("written at", written_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")),
    ]


def _headline(result: SimulationResult) -> Table:
    cur = result.currency
    rows = [
        [loan_id, r.lender, money(r.principal, cur), probability(r.p_margin_call, r.p_margin_call_se),
         probability(r.p_default, r.p_default_se), probability(r.p_loss, r.p_loss_se),
         money_se(r.expected_loss, r.expected_loss_se, cur), money(r.loss_var_99, cur), money(r.loss_es_99, cur)]
        for loan_id, r in result.loans.items()
    ]
    b = result.borrower
    rows.append(["borrower", "—", "—", "—", probability(b.p_default, b.p_default_se), "—", "—", "—", "—"])
    return Table(
        title="Headline",
        header=["", "lender", "principal", "P(margin call)", "P(default)", "P(loss)", "expected loss",
                "loss VaR 99%", "loss ES 99%"],
        rows=rows,
        note=f"Probabilities: share of the {result.paths:,} paths on which the event happens at least once within "
             "the horizon, ± one standard error sqrt(p(1 − p)/paths). Means ± their standard error.",
    )


def _loan_view(index: int, loan_id: str, r: LoanResult, scenario: Scenario, result: SimulationResult,
               days: Sequence[float | None]) -> _LoanView:
    cur = result.currency
    loan = scenario.loans.get(loan_id)
    paths = result.paths
    q = r.first_call_day
    first_call = " / ".join(number(q.get(k)) for k in ("p5", "p25", "p50", "p75", "p95"))
    rows = [
        ["lender", r.lender],
        ["principal", money(r.principal, cur)],
        ["secured", "yes" if r.secured else "no"],
        ["P(margin call)", probability(r.p_margin_call, r.p_margin_call_se)],
        ["P(default / liquidation)", probability(r.p_default, r.p_default_se)],
        ["P(loss)", probability(r.p_loss, r.p_loss_se)],
        ["expected loss", money_se(r.expected_loss, r.expected_loss_se, cur)],
        ["loss VaR / ES 95%", f"{money(r.loss_var_95, cur)} / {money(r.loss_es_95, cur)}"],
        ["loss VaR / ES 99%", f"{money(r.loss_var_99, cur)} / {money(r.loss_es_99, cur)}"],
        ["first call day given a call, 5/25/50/75/95%", first_call],
        ["expected cash paid to cure", money(r.expected_cure_paid, cur)],
        ["collateral growth that pays the interest", percent(r.breakeven_growth) + " a year"
         if r.breakeven_growth is not None else "—"],
    ]
    if loan is not None and loan.secured:
        rows.insert(3, ["LTV on day 0, before shocks", percent(day0_ltv(scenario, loan), 1)])
        levels = (loan.cure_ltv, loan.margin_call_ltv, loan.liquidation_ltv)
        rows.insert(4, ["cure / call / liquidation LTV", " / ".join(percent(level, 1) for level in levels)])
    summary = Table(title=f"{loan_id}", header=["measure", "value"], rows=rows)
    events = Table(
        title="Events: share of paths on which each happens at least once",
        header=["event", "P ± SE"],
        rows=[[name.replace("_", " "), probability(p, binomial_se(p, paths))] for name, p in r.events.items()],
    )
    slug = f"loan{index + 1}-{_slug(loan_id)}"
    figures: list[tuple[str, go.Figure | None, str]] = []
    if loan is not None:
        figures.append((f"fig-{slug}-ltv", charts.ltv_fan(loan_id, r, loan), "Unsecured loan: no LTV."))
    every_day = list(range(len(r.p_margin_call_by_day)))  # the curves are daily (0 .. horizon)
    figures += [
        (f"fig-{slug}-probability", charts.probability_curves(loan_id, every_day, r, paths), ""),
        (f"fig-{slug}-first-call", charts.first_call_box(loan_id, r),
         "No path had a margin call: no first-call day to show."),
        (f"fig-{slug}-loss", charts.loss_chart(loan_id, r, cur), ""),
    ]
    return _LoanView(loan_id=loan_id, summary=summary, events=events, figures=figures)


def _borrower_table(b: BorrowerResult, paths: int, cur: str) -> Table:
    rows = [
        ["P(borrower default)", probability(b.p_default, b.p_default_se)],
        ["P(forced sale)", probability(b.p_forced_sale, b.p_forced_sale_se)],
        ["P(cascade: two or more loans called)", probability(b.p_cascade, b.p_cascade_se)],
        ["liquidity at risk 50%", money(b.liquidity_at_risk_50, cur)],
        ["liquidity at risk 95%", money(b.liquidity_at_risk_95, cur)],
        ["liquidity at risk 99%", money(b.liquidity_at_risk_99, cur)],
        ["expected cash used to cure", money(b.expected_liquidity_used, cur)],
        ["expected value sold", money_se(b.expected_sold_value, b.expected_sold_value_se, cur)],
        ["expected price-impact cost of sales", money(b.expected_impact_cost, cur)],
        ["expected block-discount cost of sales", money(b.expected_discount_cost, cur)],
        ["equity on day 0", money(b.equity_day0, cur)],
        ["expected equity at the horizon", money(b.expected_equity, cur)],
        *[[f"equity at the horizon, {k[1:]}th percentile", money(b.equity_quantiles.get(k), cur)]
          for k in ("p5", "p25", "p50", "p75", "p95")],
        ["collateral growth that pays all interest", percent(b.breakeven_growth) + " a year"
         if b.breakeven_growth is not None else "—"],
        ["largest accounting residual (a check; ≈ 0)", number(b.max_ledger_residual, 3)],
    ]
    return Table(title="Borrower", header=["measure", "value"], rows=rows,
                 note=f"Each probability ± one standard error over {paths:,} paths.")


def _years(days: int, per_year: int) -> str:
    years = days / per_year
    return f"{years:.3g} year{'' if years == 1 else 's'}"


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-") or "loan"
