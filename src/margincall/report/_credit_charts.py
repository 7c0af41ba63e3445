"""Charts of why and where defaults land: P(default) by first cause, each lender's loss, and how
many borrowers default together (the contagion across a book)."""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

from margincall.analysis.results import LenderResult, SystemResult
from margincall.report._format import (
    binomial_se,
    money,
    money_axis_title,
    money_hover,
    money_scale,
    percent,
    probability,
    rounded,
)
from margincall.report._theme import CALL, DEFAULT, GREY, Chart, layout


def causes_chart(div_id: str, who: str, p_by_cause: Mapping[str, float], se_by_cause: Mapping[str, float]) -> Chart:
    """Bars: P(default) by first cause, with ± 1 SE error bars; the causes that never occur are left out."""
    causes = {k: p for k, p in p_by_cause.items() if p > 0.0}
    if not causes:
        return Chart(div_id, None, "", missing=f"{who} defaults on no path: there are no causes to show.")
    names = [k.replace("_", " ") for k in causes]
    values = list(causes.values())
    errors = [se_by_cause.get(k, 0.0) for k in causes]
    fig = go.Figure(go.Bar(
        x=rounded(values), y=names, orientation="h", marker_color=DEFAULT,
        error_x={"type": "data", "array": rounded(errors), "visible": True, "color": "black", "thickness": 1},
        text=[probability(p, s) for p, s in zip(values, errors, strict=True)], textposition="outside",
        customdata=names, hovertemplate="%{customdata}: %{text}<extra></extra>",
    ))
    layout(fig, f"{who}: P(default) by first cause (± 1 SE)", x="probability over the horizon", hovermode="closest",
           height=max(220, 80 + 40 * len(names)))
    fig.update_xaxes(tickformat=".1%", rangemode="tozero")
    fig.update_yaxes(autorange="reversed")
    caption = (
        f"Each path on which {who} defaults counts once, by the first thing that went wrong on it: a call not cured "
        "by its deadline, the LTV gapping past the liquidation level, a maturity or a refinancing refused and not "
        "repaid within its grace, unpaid interest or a scheduled payment, a cross-default or acceleration from another "
        "loan, or the borrower's own default. The bars add up to P(default); `margincall explain` tells the story of "
        "such paths day by day."
    )
    return Chart(div_id, fig, caption)


def lenders_loss_chart(lenders: Mapping[str, LenderResult], currency: str) -> Chart:
    """Each lender's expected loss (± 1 SE) beside its 99% VaR and ES, lenders ordered by expected loss."""
    div_id = "system-lenders"
    if not lenders or all(r.loss_es_99 <= 0.0 for r in lenders.values()):
        return Chart(div_id, None, "", missing="No lender loses anything on any path.")
    order = sorted(lenders, key=lambda k: lenders[k].expected_loss, reverse=True)
    names = [lenders[k].name or k for k in order]
    size, suffix = money_scale([v for r in lenders.values() for v in (r.expected_loss, r.loss_var_99, r.loss_es_99)])
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=names, y=rounded([lenders[k].expected_loss / size for k in order]), name="expected loss",
        error_y={"type": "data", "array": rounded([lenders[k].expected_loss_se / size for k in order]), "visible": True},
        marker_color=DEFAULT, hovertemplate=f"expected loss: {money_hover(currency, suffix)}<extra></extra>",
    ))
    fig.add_trace(go.Bar(x=names, y=rounded([lenders[k].loss_var_99 / size for k in order]), name="loss VaR 99%",
                         marker_color=CALL, hovertemplate=f"VaR 99%: {money_hover(currency, suffix)}<extra></extra>"))
    fig.add_trace(go.Bar(x=names, y=rounded([lenders[k].loss_es_99 / size for k in order]), name="loss ES 99%",
                         marker_color=GREY, hovertemplate=f"ES 99%: {money_hover(currency, suffix)}<extra></extra>"))
    layout(fig, "Lenders' losses over all their loans, largest expected loss first",
           y=money_axis_title("loss", currency, suffix), hovermode="x unified")
    fig.update_layout(barmode="group")
    worst = lenders[order[0]]
    caption = (
        "For each lender, the loss summed over its loans on the same path: the mean (with ± 1 SE), the 99% value at "
        "risk (the loss exceeded on 1 path in 100) and the 99% expected shortfall (the mean of the worst 1%). Lenders "
        "on the same collateral sell into the same market: whoever sells first gets the better price, so the order of "
        "the bars is the order in which speed and method paid off. Largest expected loss: "
        f"{worst.name or order[0]}, {money(worst.expected_loss, currency)}."
    )
    return Chart(div_id, fig, caption)


def contagion_chart(system: SystemResult, paths: int, borrowers: int) -> Chart:
    """P(exactly k borrowers default) for k = 0 … n, with ± 1 SE error bars."""
    div_id = "system-contagion"
    if borrowers < 2:
        return Chart(div_id, None, "", missing="One borrower: no default can spread to another.")
    dist = {int(k): p for k, p in system.borrowers_in_default.items()}
    ks = list(range(max([*dist, 0]) + 1))
    ps = [dist.get(k, 0.0) for k in ks]
    fig = go.Figure(go.Bar(
        x=ks, y=rounded(ps), marker_color=DEFAULT,
        error_y={"type": "data", "array": rounded([binomial_se(p, paths) for p in ps]), "visible": True},
        text=[percent(p, 2) for p in ps], textposition="outside",
        hovertemplate="%{x} borrowers in default: %{text}<extra></extra>",
    ))
    layout(fig, "How many borrowers default together (± 1 SE)", x="borrowers in default within the horizon",
           y="probability", hovermode="closest")
    fig.update_xaxes(dtick=1)
    fig.update_yaxes(type="log", tickformat=".1%")
    caption = (
        f"The probability that exactly k of the book's {borrowers} borrowers default within the horizon (log scale). "
        "Independent defaults would make a steeply falling staircase; a fat right tail means defaults come together, "
        "through a shared market fall and the price impact of one borrower's forced sales on another's collateral. "
        f"P(at least one default) = {probability(system.p_any_default, system.p_any_default_se)}; expected number "
        f"in default = {system.expected_defaults:.3g} ± {system.expected_defaults_se:.2g}."
    )
    return Chart(div_id, fig, caption)
