"""Assemble and write the HTML report: one self-contained file, plotly.js inlined once, no network."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2
import plotly.io as pio
from markupsafe import Markup

from margincall._version import __version__
from margincall.analysis.results import BorrowerResult, LoanResult, SimulationResult
from margincall.model.scenario import Scenario
from margincall.report import _bundle
from margincall.report import _charts as charts
from margincall.report import _credit_charts as credit_charts
from margincall.report._format import (
    FORMAT_NOTE,
    binomial_se,
    money,
    money_se,
    number,
    percent,
    probability,
)
from margincall.report._inputs import Table, input_tables
from margincall.report._theme import Chart, TimeAxis
from margincall.report._words import day0_ltv, describe

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "showSendToCloud": False}


@dataclass(frozen=True)
class ReportSection:
    """An extra section after the built-in ones: `html` is trusted markup, then its tables and its
    charts (each with the caption printed under it)."""

    title: str
    html: str = ""
    tables: Sequence[Table] = ()
    charts: Sequence[Chart] = ()


@dataclass(frozen=True)
class _LoanView:
    loan_id: str
    summary: Table
    events: Table
    charts: list[Chart] = field(default_factory=list)


def plot(fig: Any, div_id: str) -> Markup:
    """A figure's `<div>` and script; plotly.js itself is inlined once in the page's head."""
    html = pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        config=PLOTLY_CONFIG,
        div_id=div_id,
        default_height=f"{fig.layout.height or 380}px",
        validate=False,
    )
    return Markup(html)


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("margincall.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page_context(title: str, facts: list[tuple[str, str]], currency: str) -> dict[str, Any]:
    """What every page template needs: title, facts, plotly.js, the number-format note."""
    return {
        "title": title,
        "facts": facts,
        "plotly_js": Markup(_bundle.script()),
        "plot": plot,
        "format_note": FORMAT_NOTE.format(cur=currency),
        "version": __version__,
    }


def render_report(
    result: SimulationResult,
    scenario: Scenario,
    *,
    scenario_text: str | None = None,
    extra_sections: Sequence[ReportSection] | None = None,
    written_at: dt.datetime | None = None,
    case: str | None = None,
) -> str:
    """The report as one HTML string (see `write_report`). `case` names what the run is (say
    "base case, no stress") where a page holds other cases too: every section and chart title of
    the run then says so."""
    written_at = written_at or dt.datetime.now(dt.UTC)
    cur = result.currency
    axis = TimeAxis(scenario.start_date)
    shown_loans = _most_at_risk({k: (r.expected_loss, r.p_default, r.p_margin_call) for k, r in result.loans.items()})
    loans = [
        _loan_view(index, loan_id, loan_result, scenario, result, axis, case)
        for index, (loan_id, loan_result) in enumerate(result.loans.items()) if loan_id in shown_loans
    ]
    book = scenario.book()
    shown_borrowers = _most_at_risk({k: (b.p_default, b.expected_sold_value, b.liquidity_at_risk_99) for k, b in result.borrowers.items()})
    borrowers = [
        _borrower_view(index, borrower_id, r, scenario, result, axis, case)
        for index, (borrower_id, r) in enumerate(result.borrowers.items()) if borrower_id in shown_borrowers
    ]
    detail_note = _detail_note(len(result.loans), len(loans), len(result.borrowers), len(borrowers))
    system = result.system
    system_charts = [credit_charts.lenders_loss_chart(result.lenders, cur)]
    if len(result.borrowers) > 1:
        system_charts.append(credit_charts.contagion_chart(system, result.paths, len(result.borrowers)))
    system_charts.append(charts.sales_chart(system, cur, axis))
    system_charts += [charts.price_fan(asset_id, q, axis) for asset_id, q in system.price_quantiles.items()]
    context = {
        **page_context(f"margincall report — {result.scenario}", _facts(result, scenario, written_at, case), cur),
        "result": result,
        "case": case,
        "words": describe(scenario),
        "headline": _headline(result, case, detail_note),
        "loans": loans,
        "borrowers": borrowers,
        "lenders": _lender_table(result, book, cur),
        "system_charts": [_labelled(replace(c, div_id=f"fig-{c.div_id}"), case) for c in system_charts],
        "sold_by_asset": Table(
            title="Value sold by asset (expected per path: the borrowers' sales and the lenders' liquidations)",
            header=["asset", f"sold ({cur})"],
            rows=[[a, money(v, cur)] for a, v in system.sold_value_by_asset.items()],
        ),
        "inputs": input_tables(scenario),
        "scenario_text": scenario_text,
        "extra_sections": list(extra_sections or ()),
    }
    return environment().get_template("report.html.j2").render(context)


def write_html(html: str, path: str | os.PathLike[str], default_name: str = "report.html") -> Path:
    """Write a page atomically (a temporary file renamed): `path` ending in .html/.htm is the file,
    any other path a folder (created) that gets `default_name`."""
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        target = target / default_name
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(html)
        os.chmod(tmp, 0o644)  # a page to share, not a secret (mkstemp makes it 0600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_report(
    result: SimulationResult,
    scenario: Scenario,
    path: str | os.PathLike[str],
    *,
    scenario_text: str | None = None,
    extra_sections: Sequence[ReportSection] | None = None,
    case: str | None = None,
) -> Path:
    """Write the HTML report of `result` (a run of `scenario`) and return its path.

    `path` ending in .html/.htm is the file; any other path is a folder (created) that gets
    `report.html`. The file is self-contained (under 2 MB: plotly.js's cartesian bundle is
    inlined once) and makes no network request. `scenario_text` (the YAML run) is shown
    verbatim when given.
    """
    html = render_report(result, scenario, scenario_text=scenario_text, extra_sections=extra_sections, case=case)
    return write_html(html, path)


def _labelled(chart: Chart, case: str | None) -> Chart:
    """The chart with the case it shows in its title and caption (pages with several cases)."""
    if not case or chart.figure is None:
        return chart
    figure = chart.figure
    title = figure.layout.title.text or ""
    figure.update_layout(title_text=f"{title} — {case}")
    return replace(chart, figure=figure, caption=f"{case[0].upper()}{case[1:]}. {chart.caption}")


def _facts(result: SimulationResult, scenario: Scenario, written_at: dt.datetime, case: str | None) -> list[tuple[str, str]]:
    start = f", from {scenario.start_date.isoformat()}" if scenario.start_date else ""
    facts = [
        ("scenario", result.scenario),
        ("paths", number(result.paths)),
        ("seed", str(result.seed)),
        ("horizon", f"{result.horizon_days:,} trading days ({_years(result.horizon_days, result.days_per_year)}){start}"),
        ("currency", result.currency),
        ("engine version", result.version),
        ("report written by", f"margincall {__version__}"),
        ("run time", f"{result.elapsed_seconds:.2f} s"),
        ("written at", written_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")),
    ]
    if case:
        facts.insert(1, ("charts and tables above the stresses show", case))
    return facts


def _headline(result: SimulationResult, case: str | None = None, detail_note: str = "") -> Table:
    cur = result.currency
    rows = [
        [loan_id, r.lender, money(r.principal, cur),
         probability(r.p_margin_call, r.p_margin_call_se) if r.secured else "unsecured",
         probability(r.p_default, r.p_default_se), probability(r.p_loss, r.p_loss_se),
         money_se(r.expected_loss, r.expected_loss_se, cur), money(r.loss_var_99, cur), money(r.loss_es_99, cur)]
        for loan_id, r in result.loans.items()
    ]
    for borrower_id, b in result.borrowers.items():
        label = "borrower" if len(result.borrowers) == 1 else f"borrower {borrower_id}"
        rows.append([label, "—", "—", "—", probability(b.p_default, b.p_default_se), "—", "—", "—", "—"])
    return Table(
        title=f"Headline — {case}" if case else "Headline",
        header=["", "lender", "principal", "P(margin call)", "P(default)", "P(loss)", "expected loss",
                "loss VaR 99%", "loss ES 99%"],
        rows=rows,
        note=f"Probabilities: share of the {result.paths:,} paths on which the event happens at least once within the "
             "horizon, ± one standard error sqrt(p(1 − p)/paths). Means ± their standard error."
             + (f" {detail_note}" if detail_note else ""),
    )


DETAIL_LIMIT = 5  # loans, and borrowers, given a section of charts each; the headline table lists all


def _most_at_risk(keys: dict[str, tuple[float, ...]], limit: int = DETAIL_LIMIT) -> set[str]:
    """The ids of the `limit` entities with the largest risk keys (compared in order); all when fewer."""
    ranked = sorted(keys, key=lambda k: tuple(-v for v in keys[k]))
    return set(ranked[:limit])


def _detail_note(loans: int, shown_loans: int, borrowers: int, shown_borrowers: int) -> str:
    """What the headline table says when a large book's sections cover only its riskiest members."""
    parts = []
    if shown_loans < loans:
        parts.append(f"the {shown_loans} loans of the largest expected loss (then P(default), P(call)) of {loans}")
    if shown_borrowers < borrowers:
        parts.append(f"the {shown_borrowers} borrowers of the largest P(default) (then value sold) of {borrowers}")
    if not parts:
        return ""
    return ("Every loan and borrower is in this table and in result.json; the sections below chart "
            + " and ".join(parts) + ", to keep the page small.")


def _loan_view(index: int, loan_id: str, r: LoanResult, scenario: Scenario, result: SimulationResult,
               axis: TimeAxis, case: str | None) -> _LoanView:
    cur = result.currency
    loan = scenario.loans.get(loan_id)
    paths = result.paths
    q = r.first_call_day
    first_call = " / ".join(axis.date(int(q[k])) if q.get(k) is not None else "—" for k in ("p5", "p25", "p50", "p75", "p95"))
    rows = [
        ["lender", r.lender],
        ["principal", money(r.principal, cur)],
        ["secured", "yes" if r.secured else "no"],
        ["P(margin call)", probability(r.p_margin_call, r.p_margin_call_se) if r.secured else "unsecured: no call"],
        ["P(default / liquidation)", probability(r.p_default, r.p_default_se)],
        ["P(loss)", probability(r.p_loss, r.p_loss_se)],
        ["expected loss", money_se(r.expected_loss, r.expected_loss_se, cur)],
        ["loss VaR / ES 95%", f"{money(r.loss_var_95, cur)} / {money(r.loss_es_95, cur)}"],
        ["loss VaR / ES 99%", f"{money(r.loss_var_99, cur)} / {money(r.loss_es_99, cur)}"],
        ["first call, given a call: 5/25/50/75/95%", first_call],
        ["expected cash paid to cure", money(r.expected_cure_paid, cur)],
        ["collateral growth that pays the interest", percent(r.breakeven_growth) + " a year"
         if r.breakeven_growth is not None else "—"],
    ]
    if loan is not None and loan.secured:
        rows.insert(3, ["LTV on day 0, before shocks", percent(day0_ltv(scenario, loan, loan_id), 1)])
        levels = (loan.cure_ltv, loan.margin_call_ltv, loan.liquidation_ltv)
        rows.insert(4, ["cure / call / liquidation LTV", " / ".join(percent(level, 1) for level in levels)])
    summary = Table(title=f"{loan_id}", header=["measure", "value"], rows=rows)
    causes = [[f"default, first cause: {name.replace('_', ' ')}", probability(p, r.p_default_by_cause_se.get(name))]
              for name, p in r.p_default_by_cause.items() if p > 0.0]
    events = Table(
        title="Events: share of paths on which each happens at least once",
        header=["event", "P ± SE"],
        rows=[[name.replace("_", " "), probability(p, binomial_se(p, paths))] for name, p in r.events.items()] + causes,
    )
    slug = f"loan{index + 1}-{_slug(loan_id)}"
    found = []
    if loan is not None:
        found.append(charts.ltv_fan(loan_id, r, loan, axis))
    found += [
        charts.probability_curves(loan_id, r, paths, axis),
        charts.first_call_chart(loan_id, r, axis),
        charts.loss_chart(loan_id, r, cur, paths),
        credit_charts.causes_chart(f"{loan_id}-causes", loan_id, r.p_default_by_cause, r.p_default_by_cause_se),
    ]
    views = [_labelled(replace(c, div_id=f"fig-{slug}-{c.div_id.removeprefix(loan_id + '-')}"), case) for c in found]
    return _LoanView(loan_id=loan_id, summary=summary, events=events, charts=views)


@dataclass(frozen=True)
class _BorrowerView:
    borrower_id: str
    title: str
    tables: list[Table]
    charts: list[Chart] = field(default_factory=list)


def _borrower_view(index: int, borrower_id: str, r: BorrowerResult, scenario: Scenario, result: SimulationResult,
                   axis: TimeAxis, case: str | None) -> _BorrowerView:
    cur = result.currency
    book = scenario.book()
    own_secured = [loan_id for loan_id, loan in result.loans.items() if loan.secured and loan.borrower == borrower_id]
    found = [
        charts.liquidity_chart(r, book.borrowers[borrower_id], cur),
        charts.cash_fan(r, cur, axis),
        charts.called_together_heatmap(r, result.paths, own_secured),
        charts.equity_chart(r, cur),
        credit_charts.causes_chart("borrower-causes", r.name or borrower_id, r.p_default_by_cause, r.p_default_by_cause_se),
    ]
    slug = "borrower" if len(result.borrowers) == 1 else f"borrower{index + 1}-{_slug(borrower_id)}"
    views = [_labelled(replace(c, div_id=f"fig-{slug}-{c.div_id.removeprefix('borrower-')}"), case) for c in found]
    title = "Borrower" if len(result.borrowers) == 1 else f"Borrower {r.name or borrower_id}"
    tables = [_borrower_table(r, result.paths, cur)]
    if r.reality_check is not None:
        tables.append(_reality_table(r.name or borrower_id, r.reality_check))
    return _BorrowerView(borrower_id=borrower_id, title=title, tables=tables, charts=views)


def _reality_table(name: str, check: dict[str, Any]) -> Table:
    """The model's cumulative P(default) beside the rating's historical default rate and the CDS-implied one."""
    header = ["cumulative P(default) within", *(f"{y} year{'s' if y > 1 else ''}" for y in check["years"])]
    rows = [["model (this run)", *("beyond the horizon" if p is None else probability(p, se)
                                   for p, se in zip(check["model"], check["model_se"], strict=True))]]
    if check.get("historical") is not None:
        rows.append([f"S&P {check['rating']} ({check['rating_category']} row), 1981–2020 average",
                     *(percent(p) for p in check["historical"])])
    if check.get("cds_implied") is not None:
        rows.append([f"CDS {check['cds_bp']:.0f} bp, recovery {percent(check['cds_recovery'], 0)} (risk-neutral)",
                     *(percent(p) for p in check["cds_implied"])])
    note = ("The model's P(default) is a liquidity default of the loans and holdings in the scenario; the rating's row "
            "is a historical frequency and the CDS row a risk-neutral, market-priced figure (hazard = spread ÷ (1 − recovery)), "
            "so the CDS figure is an upper reference. " + (f"Source of the historical rates: {check['historical_source']}."
                                                        if check.get("historical_source") else ""))
    return Table(title=f"Reality check of {name}'s P(default): the model beside its rating and its CDS",
                 header=header, rows=rows, note=note)


def _lender_table(result: SimulationResult, book: Any, cur: str) -> Table:
    rows = []
    for lender_id, r in result.lenders.items():
        over = ""
        if r.p_loss_over_capital:
            over = "; ".join(f"> {percent(float(k), 0)}: {probability(v, (r.p_loss_over_capital_se or {}).get(k))}"
                             for k, v in r.p_loss_over_capital.items())
        rows.append([r.name or lender_id, ", ".join(r.loans), probability(r.p_loss, r.p_loss_se),
                     money_se(r.expected_loss, r.expected_loss_se, cur), money(r.loss_var_99, cur), money(r.loss_es_99, cur),
                     money(r.capital, cur) if r.capital is not None else "not given", over or "—"])
    return Table(
        title="Lenders: the loss on all their loans together",
        header=["lender", "loans", "P(loss)", "expected loss", "loss VaR 99%", "loss ES 99%", "capital",
                "P(loss over a share of capital)"],
        rows=rows,
        note="A lender's loss is the sum of its loans' losses on the same path; probabilities ± one standard error.",
        css_id="lenders",
    )


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
        ["largest accounting residual (a check; ≈ 0)", money(b.max_ledger_residual, cur)],
    ]
    return Table(title=b.name or "Borrower", header=["measure", "value"], rows=rows,
                 note=f"Each probability ± one standard error over {paths:,} paths.")


def _years(days: int, per_year: int) -> str:
    years = days / per_year
    return f"{years:.3g} year{'' if years == 1 else 's'}"


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-") or "loan"
