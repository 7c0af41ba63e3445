"""The report of `margincall stress`: the base run's report with a section that compares the base
and every stress, chart by chart, in the report's theme and with ± one standard error.

    from margincall.report import write_stress_report
    write_stress_report(run, scenario, "out/report.html", scenario_text=text)

The base run's own sections (per loan, borrower) say in their titles that they show the base
case; the stress section draws every comparison per run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import plotly.graph_objects as go
from markupsafe import escape

from margincall.analysis.results import SimulationResult
from margincall.analysis.stress import StressRun
from margincall.model.scenario import Scenario
from margincall.report._format import (
    is_number,
    money,
    money_axis_title,
    money_hover,
    money_scale,
    money_se,
    percent,
    probability,
    rounded,
)
from margincall.report._inputs import Table
from margincall.report._theme import CALL, DEFAULT, PALETTE, RUN_COLORS, Chart, TimeAxis, layout, thin
from margincall.report._write import ReportSection, write_report

BASE_CASE = "base case (no stress)"
COMPARE_POINTS = 50  # points of each run's curve over time: one page holds the curves of every run and loan
COMMON = ("Every run uses the same seed and paths: each path sees the same market draws in every run (common random "
          "numbers), so the difference between two runs is the stress's effect, not noise.")


def _runs(run: StressRun) -> dict[str, SimulationResult]:
    return {"base": run.base, **run.results}


def _label(run: StressRun, name: str) -> str:
    """`base`, or the stress's id (`S1`) where it has one: short enough for an axis."""
    return "base" if name == "base" else (run.applied[name].stress.id or name)


def _who(result: SimulationResult, borrower_id: str) -> str:
    return "borrower" if len(result.borrowers) == 1 else f"borrower {borrower_id}"


def _borrower_getter(borrower_id: str, metric: str) -> Callable[[SimulationResult], tuple[float, float]]:
    def get(r: SimulationResult) -> tuple[float, float]:
        b = r.borrowers[borrower_id]
        return float(getattr(b, metric)), float(getattr(b, f"{metric}_se"))

    return get


def stress_table(run: StressRun) -> Table:
    """One row per run and loan, and per run for the borrower: the figures of `margincall stress`."""
    cur = run.base.currency
    rows = []
    for name, result in _runs(run).items():
        label = _label(run, name)
        for loan_id, r in result.loans.items():
            rows.append([label, loan_id, probability(r.p_margin_call, r.p_margin_call_se) if r.secured else "unsecured",
                         probability(r.p_default, r.p_default_se), probability(r.p_loss, r.p_loss_se),
                         money_se(r.expected_loss, r.expected_loss_se, cur), money(r.loss_var_99, cur), "—", "—"])
        for borrower_id, b in result.borrowers.items():
            rows.append([label, _who(result, borrower_id), "—", probability(b.p_default, b.p_default_se), "—", "—", "—",
                         money(b.liquidity_at_risk_95, cur), probability(b.p_cascade, b.p_cascade_se)])
    return Table(
        title=f"Base and stresses: {run.base.paths:,} paths each, seed {run.base.seed}",
        header=["run", "loan / borrower", "P(margin call)", "P(default)", "P(loss)", "expected loss", "loss VaR 99%",
                "liquidity at risk 95%", "P(cascade)"],
        rows=rows,
        key_columns=2,
        note=f"{COMMON} Probabilities ± one standard error; expected losses ± their standard error.",
        css_id="stress-table",
    )


def _bars(run: StressRun, title: str, series: Sequence[tuple[str, Callable[[SimulationResult], tuple[float, float]]]],
          *, money_unit: str | None = None, div_id: str, caption: str) -> Chart:
    """Grouped bars: one group per run, one bar per series, each with a ± 1 SE error bar."""
    runs = _runs(run)
    x = [_label(run, name) for name in runs]
    values = {label: [get(r) for r in runs.values()] for label, get in series}
    size, suffix = (money_scale(v for pairs in values.values() for v, _ in pairs) if money_unit else (1.0, ""))
    fig = go.Figure()
    for k, (label, pairs) in enumerate(values.items()):
        y = rounded([v / size if is_number(v) else None for v, _ in pairs])
        err = rounded([s / size if is_number(s) else 0.0 for _, s in pairs], 3)
        hover = (f"{label}, %{{x}}: {money_hover(money_unit, suffix)} ± %{{error_y.array:.3~r}} {suffix}<extra></extra>"
                 if money_unit else f"{label}, %{{x}}: %{{y:.2%}} ± %{{error_y.array:.2%}}<extra></extra>")
        fig.add_trace(go.Bar(x=x, y=y, name=label, marker={"color": PALETTE[k % len(PALETTE)]},
                             error_y={"type": "data", "array": err, "visible": True, "thickness": 1.2, "width": 4},
                             hovertemplate=hover))
    layout(fig, title, x="run (base, then each stress)",
           y=money_axis_title("amount", money_unit, suffix) if money_unit else "probability", height=380, hovermode="closest")
    fig.update_layout(barmode="group")
    if not money_unit:
        fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return Chart(div_id, fig, f"{caption} {COMMON} Error bars: ± one standard error.")


def _ltv_medians(run: StressRun, loan_id: str, scenario: Scenario, axis: TimeAxis) -> Chart:
    """The median LTV path of one loan in every run, with the loan's call and liquidation levels."""
    fig = go.Figure()
    for k, (name, result) in enumerate(_runs(run).items()):
        q = result.loans[loan_id].ltv_quantiles
        if q is None:
            continue
        keep = thin(len(q["day"]), COMPARE_POINTS)
        fig.add_trace(go.Scatter(
            x=axis.x([q["day"][i] for i in keep]), y=rounded([q["p50"][i] for i in keep]), mode="lines",
            name=_label(run, name), line={"color": RUN_COLORS[k % len(RUN_COLORS)], "width": 2.5 if name == "base" else 1.5},
            hovertemplate=f"{_label(run, name)}: median LTV %{{y:.1%}}<extra></extra>",
        ))
    loan = scenario.loans[loan_id]
    for level, label, color in ((loan.margin_call_ltv, "margin call", CALL), (loan.liquidation_ltv, "liquidation", DEFAULT)):
        if level is not None:
            fig.add_hline(y=level, line={"color": color, "dash": "dash", "width": 1.5},
                          annotation_text=f"{label} {percent(level, 1)}", annotation_position="top left")
    layout(fig, f"{loan_id}: median LTV over time, base and each stress", y="LTV (debt / lending value)")
    axis.style(fig)
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    caption = ("The median across paths of the loan's LTV over time in each run (the base case thicker), against its margin-call "
               "and liquidation levels. A stress that moves prices on day 0 starts above the base; one that plays out over "
               "time bends away from it later. A median is a quantile, drawn without an error bar (the result carries "
               f"none for it); the probabilities above carry theirs. {COMMON}")
    return Chart(f"fig-stress-{loan_id}-ltv", fig, caption)


def _default_curves(run: StressRun, loan_id: str, axis: TimeAxis) -> Chart:
    """P(default by each date) of one loan in every run, with ± 1 SE error bars every few points."""
    fig = go.Figure()
    for k, (name, result) in enumerate(_runs(run).items()):
        curve = result.loans[loan_id].p_default_by_day
        keep = thin(len(curve), COMPARE_POINTS)
        p = [curve[i] for i in keep]
        se = [((v * (1.0 - v)) / result.paths) ** 0.5 for v in p]
        every = max(len(keep) // 8, 1)
        bars = [s if (j % every == every - 1 or j == len(keep) - 1) else None for j, s in enumerate(rounded(se, 2))]
        color = RUN_COLORS[k % len(RUN_COLORS)]
        fig.add_trace(go.Scatter(
            x=axis.x(keep), y=rounded(p), mode="lines", name=_label(run, name),
            line={"color": color, "width": 2.5 if name == "base" else 1.5},
            error_y={"type": "data", "array": bars, "visible": True, "thickness": 1, "width": 3, "color": color},
            customdata=rounded(se, 2),
            hovertemplate=f"{_label(run, name)}: P(default) %{{y:.2%}} ± %{{customdata:.2%}}<extra></extra>",
        ))
    layout(fig, f"{loan_id}: probability of a default by each date, base and each stress (±1 SE)",
           y="probability (cumulative)")
    axis.style(fig)
    fig.update_yaxes(tickformat=".1%", rangemode="tozero")
    caption = ("The share of paths on which the loan has defaulted by each date, in each run (the base case thicker); the "
               "error bars, drawn every few points, are ± one standard error (the hover gives it at every point). Where a "
               "stress's curve leaves the base shows when its damage arrives; the right edge is P(default) within the "
               f"horizon. {COMMON}")
    return Chart(f"fig-stress-{loan_id}-default-by-date", fig, caption)


def stress_section(run: StressRun, scenario: Scenario) -> ReportSection:
    """The section comparing the base and the stresses: what each stress does, one table, and every
    comparison chart with error bars."""
    cur = run.base.currency
    axis = TimeAxis(scenario.start_date)
    described = "".join(
        f"<li><b>{escape(a.stress.id or name)}</b> {escape(name)}: {escape(a.stress.description)} "
        f"<i>Applied:</i> {escape('; '.join(a.changes))}"
        + (f" <i>Notes:</i> {escape('; '.join(a.notes))}" if a.notes else "")
        + "</li>"
        for name, a in run.applied.items()
    )
    html = (f"<p>The base scenario and each named stress, simulated with the same {run.base.paths:,} paths and seed "
            f"{run.base.seed}. The charts of this section compare the runs; the sections after it (each loan, the "
            f"borrower) show the {escape(BASE_CASE)} only.</p><ul>{described}</ul>")
    loans = list(run.base.loans)
    secured = [loan_id for loan_id, r in run.base.loans.items() if r.secured]
    charts: list[Chart] = []
    if secured:
        charts.append(_bars(
            run, "P(margin call) by run and loan", [(loan_id, _getter(loan_id, "p_margin_call")) for loan_id in secured],
            div_id="fig-stress-p-call",
            caption="For each run (the base, then each stress), the probability that each secured loan is called within the horizon."))
    borrower_ids = list(run.base.borrowers)
    charts.append(_bars(
        run, "P(default) by run: each loan and the borrower",
        [*((loan_id, _getter(loan_id, "p_default")) for loan_id in loans),
         *((_who(run.base, b), _borrower_getter(b, "p_default")) for b in borrower_ids)],
        div_id="fig-stress-p-default",
        caption="For each run, the probability that each loan, and the borrower, defaults within the horizon."))
    charts.append(_bars(
        run, "Expected loss by run and loan", [(loan_id, _getter(loan_id, "expected_loss")) for loan_id in loans],
        money_unit=cur, div_id="fig-stress-expected-loss",
        caption="For each run, each lender's expected loss on its loan (the average over all paths, zero where there is no loss)."))
    several = len(borrower_ids) > 1
    charts.append(_bars(
        run, "Borrower by run: forced sales and cascades",
        [*((f"P(forced sale){f' {b}' if several else ''}", _borrower_getter(b, "p_forced_sale")) for b in borrower_ids),
         *((f"P(cascade: 2+ loans called){f' {b}' if several else ''}", _borrower_getter(b, "p_cascade")) for b in borrower_ids)],
        div_id="fig-stress-borrower",
        caption="For each run, the probability that the borrower is forced to sell holdings, and that two or more of its loans "
                "are called on one path (a cascade)."))
    for loan_id in secured:
        charts.append(_ltv_medians(run, loan_id, scenario, axis))
    for loan_id in loans:
        charts.append(_default_curves(run, loan_id, axis))
    return ReportSection(title="Stresses", html=html, tables=[stress_table(run)], charts=charts)


def _getter(loan_id: str, metric: str) -> Callable[[SimulationResult], tuple[float, float]]:
    def get(r: SimulationResult) -> tuple[float, float]:
        loan = r.loans[loan_id]
        return float(getattr(loan, metric)), float(getattr(loan, f"{metric}_se"))

    return get


def write_stress_report(run: StressRun, scenario: Scenario, path: str | os.PathLike[str], *,
                        scenario_text: str | None = None) -> Path:
    """The base run's report, its sections marked as the base case, with the stress section first."""
    return write_report(run.base, scenario, path, scenario_text=scenario_text, extra_sections=[stress_section(run, scenario)],
                        case=BASE_CASE)
