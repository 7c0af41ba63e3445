"""The report's charts as plotly figures, one function a chart. Each takes result objects and
returns a `go.Figure`, or None when there is nothing to draw (say an unsecured loan's LTV).

Days are trading days from day 0; money is in the scenario's currency; LTV and probabilities
are fractions shown as percentages.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go

from margincall.analysis.results import BorrowerResult, LoanResult
from margincall.model.scenario import Borrower, Loan
from margincall.report._format import binomial_se, money, percent, probability

BAND_OUTER = "rgba(31, 119, 180, 0.15)"
BAND_INNER = "rgba(31, 119, 180, 0.35)"
MEDIAN = "rgb(31, 119, 180)"
CALL = "rgb(255, 127, 14)"
DEFAULT = "rgb(214, 39, 40)"
CURE = "rgb(44, 160, 44)"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _layout(fig: go.Figure, title: str, *, x: str = "", y: str = "", height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        template="plotly_white",
        height=height,
        margin={"l": 70, "r": 30, "t": 60, "b": 50},
        legend={"orientation": "h", "y": -0.18},
        font={"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
        hovermode="x unified",
    )
    fig.update_xaxes(title_text=x)
    fig.update_yaxes(title_text=y)
    return fig


def _fan(fig: go.Figure, days: Sequence[float | None], q: dict[str, list[float | None]], name: str, hover: str) -> None:
    """p5-p95 and p25-p75 bands and the median line."""
    line = {"width": 0}
    fig.add_trace(go.Scatter(x=days, y=q["p5"], line=line, hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=days, y=q["p95"], line=line, fill="tonexty", fillcolor=BAND_OUTER,
                             name=f"{name} 5th–95th percentile", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=days, y=q["p25"], line=line, hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=days, y=q["p75"], line=line, fill="tonexty", fillcolor=BAND_INNER,
                             name=f"{name} 25th–75th percentile", hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=days, y=q["p50"], line={"color": MEDIAN, "width": 2}, name=f"{name} median",
        customdata=list(zip(q["p5"], q["p25"], q["p75"], q["p95"], strict=True)),
        hovertemplate=hover,
    ))


def ltv_fan(loan_id: str, result: LoanResult, loan: Loan) -> go.Figure | None:
    """LTV quantiles over time with the cure, call and liquidation levels."""
    q = result.ltv_quantiles
    if q is None:
        return None
    fig = go.Figure()
    hover = ("median %{y:.1%}<br>25–75%: %{customdata[1]:.1%} – %{customdata[2]:.1%}"
             "<br>5–95%: %{customdata[0]:.1%} – %{customdata[3]:.1%}<extra></extra>")
    _fan(fig, q["day"], q, "LTV", hover)
    levels = ((loan.cure_ltv, "cure target", CURE, "dot"), (loan.margin_call_ltv, "margin call", CALL, "dash"),
              (loan.liquidation_ltv, "liquidation", DEFAULT, "dash"))
    for level, label, color, dash in levels:
        if level is not None:
            fig.add_hline(y=level, line={"color": color, "dash": dash, "width": 1.5},
                          annotation_text=f"{label} {percent(level, 1)}", annotation_position="top left")
    _layout(fig, f"{loan_id}: loan-to-value over time (quantiles across paths)", x="trading day",
            y="LTV (debt / lending value)")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return fig


def probability_curves(loan_id: str, days: Sequence[float | None], result: LoanResult, paths: int) -> go.Figure:
    """P(margin call) and P(default) by each day, cumulated, with a ±1 SE band."""
    fig = go.Figure()
    curves = (("margin call", result.p_margin_call_by_day, CALL, "rgba(255, 127, 14, 0.2)"),
              ("default", result.p_default_by_day, DEFAULT, "rgba(214, 39, 40, 0.2)"))
    for label, curve, color, band in curves:
        se = [binomial_se(p, paths) for p in curve]
        low = [p - s for p, s in zip(curve, se, strict=True)]
        high = [p + s for p, s in zip(curve, se, strict=True)]
        fig.add_trace(go.Scatter(x=days, y=low, line={"width": 0}, hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(x=days, y=high, line={"width": 0}, fill="tonexty", fillcolor=band,
                                 hoverinfo="skip", showlegend=False))
        final = curve[-1] if curve else float("nan")
        fig.add_trace(go.Scatter(
            x=days, y=curve, line={"color": color, "width": 2},
            name=f"P({label} by day) — at the horizon {probability(final, binomial_se(final, paths))}",
            customdata=se, hovertemplate=f"P({label}) %{{y:.2%}} ± %{{customdata:.2%}}<extra></extra>",
        ))
    _layout(fig, f"{loan_id}: probability of a first margin call and of a default by each day (±1 SE band)",
            x="trading day", y="probability (cumulative)")
    fig.update_yaxes(tickformat=".1%", rangemode="tozero")
    return fig


def first_call_box(loan_id: str, result: LoanResult) -> go.Figure | None:
    """Quantiles of the first call's day, among paths with a call: a box (25-75%), whiskers 5-95%."""
    q = result.first_call_day
    if any(q.get(k) is None for k in ("p5", "p25", "p50", "p75", "p95")):
        return None
    fig = go.Figure(go.Box(
        y=[loan_id], q1=[q["p25"]], median=[q["p50"]], q3=[q["p75"]], lowerfence=[q["p5"]], upperfence=[q["p95"]],
        orientation="h", name="first call day", marker={"color": CALL}, boxpoints=False,
        hovertemplate="%{x}<extra></extra>",
    ))
    fig.add_trace(go.Scatter(
        x=[q[k] for k in ("p5", "p25", "p50", "p75", "p95")], y=[loan_id] * 5, mode="markers+text",
        text=["5%", "25%", "median", "75%", "95%"], textposition="top center", marker={"color": "black", "size": 7},
        name="quantiles", hovertemplate="day %{x}<extra>%{text}</extra>",
    ))
    _layout(fig, f"{loan_id}: day of the first margin call, conditional on a call "
                 f"(P(call) = {probability(result.p_margin_call, result.p_margin_call_se)}); "
                 "whiskers 5th–95th percentile",
            x="trading day", height=260)
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig


def loss_chart(loan_id: str, result: LoanResult, currency: str) -> go.Figure:
    """The lender's loss: expected loss (± SE), VaR and expected shortfall at 95% and 99%."""
    labels = ["expected loss", "VaR 95%", "ES 95%", "VaR 99%", "ES 99%"]
    values = [result.expected_loss, result.loss_var_95, result.loss_es_95, result.loss_var_99, result.loss_es_99]
    errors = [result.expected_loss_se, 0.0, 0.0, 0.0, 0.0]
    fig = go.Figure(go.Bar(
        x=labels, y=values, error_y={"type": "data", "array": errors, "visible": True},
        marker={"color": ["#7f7f7f", CALL, DEFAULT, CALL, DEFAULT]},
        text=[money(v, currency) for v in values], textposition="outside",
        hovertemplate="%{x}: %{y:,.4g}<extra></extra>",
    ))
    title = (f"{loan_id}: lender's loss — P(loss) {probability(result.p_loss, result.p_loss_se)}, "
             f"expected loss {money(result.expected_loss, currency)} ± {money(result.expected_loss_se, currency)}")
    _layout(fig, title, y=f"loss ({currency})", height=340)
    fig.update_layout(hovermode="closest")
    fig.update_yaxes(rangemode="tozero")
    return fig


def liquidity_chart(result: BorrowerResult, borrower: Borrower, currency: str) -> go.Figure:
    """Liquidity at risk (cash needed to cure, 50/95/99%) against the borrower's cash."""
    labels = ["expected use", "LaR 50%", "LaR 95%", "LaR 99%"]
    values = [result.expected_liquidity_used, result.liquidity_at_risk_50, result.liquidity_at_risk_95,
              result.liquidity_at_risk_99]
    fig = go.Figure(go.Bar(x=labels, y=values, marker={"color": ["#7f7f7f", MEDIAN, CALL, DEFAULT]},
                           text=[money(v, currency) for v in values], textposition="outside",
                           hovertemplate="%{x}: %{y:,.4g}<extra></extra>"))
    fig.add_hline(y=borrower.cash, line={"color": "black", "dash": "dash"},
                  annotation_text=f"cash on day 0 {money(borrower.cash, currency)}", annotation_position="top left")
    if borrower.cash_reserve:
        free = borrower.cash - borrower.cash_reserve
        fig.add_hline(y=free, line={"color": CURE, "dash": "dot"},
                      annotation_text=f"cash above the reserve {money(free, currency)}",
                      annotation_position="bottom left")
    _layout(fig, "Liquidity at risk: cash spent curing calls, quantiles across paths", y=f"{currency}", height=340)
    fig.update_layout(hovermode="closest")
    top = max([borrower.cash, *(v for v in values if math.isfinite(v))])
    fig.update_yaxes(range=[0.0, 1.2 * top if top > 0 else 1.0])
    return fig


def cash_fan(result: BorrowerResult, currency: str) -> go.Figure:
    """The borrower's cash over time: quantiles across paths."""
    q = result.cash_quantiles
    fig = go.Figure()
    hover = ("median %{y:,.4g}<br>25–75%: %{customdata[1]:,.4g} – %{customdata[2]:,.4g}"
             "<br>5–95%: %{customdata[0]:,.4g} – %{customdata[3]:,.4g}<extra></extra>")
    _fan(fig, q["day"], q, "cash", hover)
    _layout(fig, "Borrower's cash over time (quantiles across paths)", x="trading day", y=f"cash ({currency})")
    return fig


def sales_chart(result: BorrowerResult, currency: str) -> go.Figure | None:
    """Expected value sold in each recording interval, by asset (borrower and lender sales), and in total."""
    by_day = result.sold_value_by_day
    days = by_day["day"]
    assets = [a for a in by_day if a != "day"]
    if not days or all(not any(by_day[a]) for a in assets):
        return None
    fig = go.Figure()
    for k, asset in enumerate(assets):
        total = result.sold_value_by_asset.get(asset, math.fsum(by_day[asset]))
        fig.add_trace(go.Bar(x=days, y=by_day[asset], name=f"{asset} (in all {money(total, currency)})",
                             marker={"color": PALETTE[k % len(PALETTE)]},
                             hovertemplate=f"{asset}: %{{y:,.4g}}<extra></extra>"))
    running, cumulative = 0.0, []
    for values in zip(*(by_day[a] for a in assets), strict=True):
        running += math.fsum(values)
        cumulative.append(running)
    fig.add_trace(go.Scatter(x=days, y=cumulative, name="cumulative, all assets", yaxis="y2",
                             line={"color": "black", "width": 1.5}))
    costs = (f"expected price-impact cost {money(result.expected_impact_cost, currency)}, "
             f"block-discount cost {money(result.expected_discount_cost, currency)}")
    _layout(fig, "Expected value sold per path, by day and asset (sales to cure, to meet obligations, and by "
                 f"lenders after a default)<br><sup>{costs}</sup>",
            x="trading day (end of the interval)", y=f"sold ({currency})")
    fig.update_layout(barmode="stack", yaxis2={"overlaying": "y", "side": "right", "title": f"cumulative ({currency})",
                                               "rangemode": "tozero", "showgrid": False})
    return fig


def called_together_heatmap(result: BorrowerResult, paths: int) -> go.Figure:
    """P(loans i and j both called within the horizon); the diagonal is P(call) of each loan."""
    ids = list(result.called_together)
    z = [[result.called_together[a].get(b, 0.0) for b in ids] for a in ids]
    text = [[probability(p, binomial_se(p, paths)) for p in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=ids, y=ids, text=text, texttemplate="%{text}", colorscale="Oranges", zmin=0.0,
        colorbar={"title": "P", "tickformat": ".0%"},
        hovertemplate="%{y} and %{x} both called: %{text}<extra></extra>",
    ))
    size = 220 + 60 * len(ids)
    _layout(fig, "Loans called together: P(both called within the horizon) ± SE", height=max(size, 320))
    fig.update_layout(hovermode="closest")
    fig.update_yaxes(autorange="reversed")
    return fig


def equity_chart(result: BorrowerResult, currency: str) -> go.Figure | None:
    """Equity left at the horizon: quantiles (box 25-75%, whiskers 5-95%), mean and day-0 equity."""
    q = result.equity_quantiles
    if any(q.get(k) is None for k in ("p5", "p25", "p50", "p75", "p95")):
        return None
    fig = go.Figure(go.Box(
        y=["equity"], q1=[q["p25"]], median=[q["p50"]], q3=[q["p75"]], lowerfence=[q["p5"]], upperfence=[q["p95"]],
        orientation="h", name="at the horizon", boxpoints=False, marker={"color": MEDIAN},
    ))
    fig.add_trace(go.Scatter(x=[result.expected_equity], y=["equity"], mode="markers", name="mean at the horizon",
                             marker={"symbol": "diamond", "size": 11, "color": CALL}))
    fig.add_trace(go.Scatter(x=[result.equity_day0], y=["equity"], mode="markers", name="day 0",
                             marker={"symbol": "x", "size": 11, "color": "black"}))
    _layout(fig, "Borrower's equity at the horizon (holdings + cash − debt): quantiles across paths",
            x=f"equity ({currency})", height=280)
    fig.update_layout(hovermode="closest")
    return fig
