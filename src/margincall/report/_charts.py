"""The base run's charts, one function a chart. Each takes result objects and returns a `Chart`:
the plotly figure (None when there is nothing to draw, say an unsecured loan's LTV) with the
caption printed under it.

Time axes show calendar dates when the scenario has a start date (`TimeAxis`); amounts are in the
scenario's currency, one scale per axis (`USD bn`); probabilities and LTVs are fractions shown as
percentages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from margincall.analysis.results import BorrowerResult, LoanResult, SystemResult
from margincall.model.scenario import Borrower, Loan
from margincall.report._format import (
    binomial_se,
    is_number,
    money,
    money_axis_title,
    money_hover,
    money_scale,
    percent,
    probability,
    rounded,
)
from margincall.report._theme import (
    BAND_INNER,
    BAND_OUTER,
    CALL,
    CURE,
    DEFAULT,
    GREY,
    MEDIAN,
    PALETTE,
    Chart,
    TimeAxis,
    layout,
    thin,
)

QUANTILES = ("p5", "p25", "p50", "p75", "p95")


def _fan(fig: go.Figure, x: Sequence[Any], q: Mapping[str, Sequence[float | None]], name: str, hover: str,
         scale: float = 1.0, digits: int = 3) -> None:
    """p5-p95 and p25-p75 bands and the median line; the median's hover shows all five quantiles."""
    line = {"width": 0}
    data = {k: rounded([None if v is None else v / scale for v in q[k]], digits) for k in QUANTILES}
    fig.add_trace(go.Scatter(x=x, y=data["p5"], line=line, hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=x, y=data["p95"], line=line, fill="tonexty", fillcolor=BAND_OUTER,
                             name=f"{name} 5th–95th percentile", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=data["p25"], line=line, hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=x, y=data["p75"], line=line, fill="tonexty", fillcolor=BAND_INNER,
                             name=f"{name} 25th–75th percentile", hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=x, y=data["p50"], line={"color": MEDIAN, "width": 2}, name=f"{name} median",
        customdata=list(zip(data["p5"], data["p25"], data["p75"], data["p95"], strict=True)), hovertemplate=hover,
    ))


def _thinned(days: Sequence[Any], series: Mapping[str, Sequence[Any]]) -> tuple[list[Any], dict[str, list[Any]]]:
    keep = thin(len(days))
    return [days[i] for i in keep], {k: [v[i] for i in keep] for k, v in series.items()}


def ltv_fan(loan_id: str, result: LoanResult, loan: Loan, axis: TimeAxis) -> Chart:
    """LTV quantiles over time with the cure, call and liquidation levels."""
    div = f"{loan_id}-ltv"
    q = result.ltv_quantiles
    if q is None or not loan.secured:
        return Chart(div, None, "", "Unsecured loan: it has no collateral and no LTV.")
    days, series = _thinned(q["day"], {k: q[k] for k in QUANTILES})
    fig = go.Figure()
    hover = ("median %{y:.1%}<br>25–75%: %{customdata[1]:.1%} – %{customdata[2]:.1%}"
             "<br>5–95%: %{customdata[0]:.1%} – %{customdata[3]:.1%}<extra></extra>")
    _fan(fig, axis.x(days), series, "LTV", hover)
    levels = ((loan.cure_ltv, "cure target", CURE, "dot"), (loan.margin_call_ltv, "margin call", CALL, "dash"),
              (loan.liquidation_ltv, "liquidation", DEFAULT, "dash"))
    for level, label, color, dash in levels:
        if level is not None:
            fig.add_hline(y=level, line={"color": color, "dash": dash, "width": 1.5},
                          annotation_text=f"{label} {percent(level, 1)}", annotation_position="top left")
    layout(fig, f"{loan_id}: loan-to-value over time (quantiles across paths)", y="LTV (debt / lending value)")
    axis.style(fig)
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    caption = (
        "The loan's LTV (debt, principal and accrued interest, divided by the lending value of its collateral at the "
        "lender's prices) across the simulated paths, on the days the engine records. The line is the median path; the "
        "dark band holds the middle half of the paths (25th–75th percentile), the light band 90% of them (5th–95th). "
        f"Above the orange line ({percent(loan.margin_call_ltv, 1)}) a margin call opens and must be cured to the green line "
        f"({percent(loan.cure_ltv, 1)}) within {loan.cure_days} trading days; at the red line ({percent(loan.liquidation_ltv, 1)}) "
        "the loan defaults at once. Where the light band crosses the orange line, more than 5% of the paths are above "
        "the trigger on that day. After a default or repayment a path's LTV is no longer counted."
    )
    return Chart(div, fig, caption)


def probability_curves(loan_id: str, result: LoanResult, paths: int, axis: TimeAxis) -> Chart:
    """P(margin call) and P(default) by each day, cumulated, with a ±1 SE band."""
    fig = go.Figure()
    days = list(range(len(result.p_margin_call_by_day)))  # the curves are daily (0 .. horizon)
    keep = thin(len(days))
    x = axis.x([days[i] for i in keep])
    curves = (("margin call", result.p_margin_call_by_day, CALL, "rgba(255, 127, 14, 0.2)"),
              ("default", result.p_default_by_day, DEFAULT, "rgba(214, 39, 40, 0.2)"))
    for label, full, color, band in curves:
        if label == "margin call" and not result.secured:
            continue
        curve = [full[i] for i in keep]
        se = [binomial_se(p, paths) for p in curve]
        low = rounded([p - s for p, s in zip(curve, se, strict=True)])
        high = rounded([p + s for p, s in zip(curve, se, strict=True)])
        fig.add_trace(go.Scatter(x=x, y=low, line={"width": 0}, hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(x=x, y=high, line={"width": 0}, fill="tonexty", fillcolor=band,
                                 hoverinfo="skip", showlegend=False))
        final = full[-1] if full else float("nan")
        fig.add_trace(go.Scatter(
            x=x, y=rounded(curve), line={"color": color, "width": 2},
            name=f"P({label} by then) — within the horizon {probability(final, binomial_se(final, paths))}",
            customdata=rounded(se, 2), hovertemplate=f"P({label}) %{{y:.2%}} ± %{{customdata:.2%}}<extra></extra>",
        ))
    layout(fig, f"{loan_id}: probability of a first margin call and of a default by each date (±1 SE band)",
           y="probability (cumulative)")
    axis.style(fig)
    fig.update_yaxes(tickformat=".1%", rangemode="tozero")
    what = "a first margin call (orange) or a default (red)" if result.secured else "a default"
    caption = (
        f"The share of paths on which the loan has had {what} by each date, with a band of ± one standard error. "
        "The value at the right edge is the probability within the horizon (the table's figure). Steep steps show when "
        "the risk comes: valuation events of a private asset, scheduled payments, maturities."
    )
    return Chart(f"{loan_id}-probability", fig, caption)


def first_call_chart(loan_id: str, result: LoanResult, axis: TimeAxis) -> Chart:
    """Quantiles of the first call's date, among paths with a call: a thick bar 25-75%, a thin one 5-95%."""
    div = f"{loan_id}-first-call"
    q = result.first_call_day
    if not result.secured:
        return Chart(div, None, "", "Unsecured loan: no margin call.")
    if any(q.get(k) is None for k in QUANTILES):
        return Chart(div, None, "", "No path had a margin call: there is no first-call date to show.")
    x = axis.x([int(q[k]) for k in QUANTILES])  # type: ignore[arg-type]
    labels = ["5th percentile", "25th percentile", "median", "75th percentile", "95th percentile"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[x[0], x[4]], y=[loan_id, loan_id], mode="lines", line={"color": CALL, "width": 3},
                             name="5th–95th percentile", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[x[1], x[3]], y=[loan_id, loan_id], mode="lines", line={"color": CALL, "width": 18},
                             name="25th–75th percentile", hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=x, y=[loan_id] * 5, mode="markers+text", text=["5%", "25%", "median", "75%", "95%"], textposition="top center",
        marker={"color": "black", "size": 8}, name="quantiles", customdata=labels,
        hovertemplate="%{customdata}: %{x}<extra></extra>",
    ))
    layout(fig, f"{loan_id}: date of the first margin call, among paths with one "
                f"(P(call) = {probability(result.p_margin_call, result.p_margin_call_se)})", height=260, hovermode="closest")
    axis.style(fig)
    fig.update_layout(showlegend=False)
    fig.update_yaxes(showticklabels=False)
    caption = (
        "When the first margin call comes, among the paths that have one: the thick bar spans the middle half of those "
        "paths (25th to 75th percentile), the thin line 90% of them (5th to 95th), the black dots mark the percentiles. "
        "Read it with P(call) in the title: an early median with a high P(call) means calls come soon and often."
    )
    return Chart(div, fig, caption)


def loss_distribution(result: LoanResult | Mapping[str, Any]) -> dict[str, list[float]] | None:
    """The loan's loss distribution `{"loss": [...], "cdf": [...]}` (currency, increasing; P(loss <= x))
    where the result carries one (`loans.<id>.loss_distribution` of result.json, or the field of
    the same name of a loan's result), else None; None too for one that is not a distribution."""
    from dataclasses import asdict

    fields = result if isinstance(result, Mapping) else asdict(result)
    data = fields.get("loss_distribution")  # results of engines before the distribution have none
    if not isinstance(data, Mapping):
        return None
    loss, cdf = list(data.get("loss") or []), list(data.get("cdf") or [])
    ok = (len(loss) == len(cdf) >= 2 and all(is_number(v) for v in loss + cdf)
          and all(b >= a for a, b in zip(loss, loss[1:])) and all(b >= a - 1e-12 for a, b in zip(cdf, cdf[1:]))
          and -1e-12 <= cdf[0] and cdf[-1] <= 1 + 1e-12)
    return {"loss": [float(v) for v in loss], "cdf": [float(v) for v in cdf]} if ok else None


def loss_chart(loan_id: str, result: LoanResult, currency: str, paths: int) -> Chart:
    """The loan's loss distribution as an exceedance curve P(loss > x) on a log scale, with the
    95% and 99% VaR and expected shortfall marked."""
    div = f"{loan_id}-loss"
    dist = loss_distribution(result)
    if dist is None:
        return Chart(div, None, "", "This result carries no loss distribution for the loan (a result written by an earlier "
                                    "version): the table above gives its P(loss), expected loss, VaR and expected shortfall.")
    if not result.p_loss > 0.0:
        return Chart(div, None, "", "No path had a loss on this loan: its loss distribution is a point at 0.")
    marks = [v for v in (result.loss_var_95, result.loss_es_95, result.loss_var_99, result.loss_es_99) if is_number(v)]
    size, suffix = money_scale([*dist["loss"], *marks])
    floor = 0.5 / max(paths, 1)  # below one path in two runs: the resolution of the simulation
    xs, ys = [], []
    for loss, cdf in zip(dist["loss"], dist["cdf"], strict=True):
        exceed = 1.0 - cdf
        if loss > 0.0 and exceed >= floor:
            xs.append(loss / size)
            ys.append(exceed)
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=rounded(xs), y=rounded(ys), mode="lines", line={"color": MEDIAN, "width": 2, "shape": "hv"},
        name="P(loss > amount)", hovertemplate=f"P(loss > {money_hover(currency, suffix, 'x')}) = %{{y:.2%}}<extra></extra>",
    ))
    levels = (("VaR 95%", result.loss_var_95, CALL, "dash"), ("ES 95%", result.loss_es_95, CALL, "dot"),
              ("VaR 99%", result.loss_var_99, DEFAULT, "dash"), ("ES 99%", result.loss_es_99, DEFAULT, "dot"))
    for k, (label, value, color, dash) in enumerate(levels):
        if is_number(value) and value > 0.0:
            fig.add_vline(x=value / size, line={"color": color, "dash": dash, "width": 1.5},
                          annotation_text=f"{label} {money(value, currency)}",
                          annotation_position="top right" if k % 2 == 0 else "bottom right")
    for level in (0.05, 0.01):
        fig.add_hline(y=level, line={"color": GREY, "dash": "dot", "width": 1})
    layout(fig, f"{loan_id}: lender's loss distribution — P(loss) {probability(result.p_loss, result.p_loss_se)}",
           x=money_axis_title("loss", currency, suffix), y="P(loss > amount), log scale", height=360, hovermode="closest")
    lowest = math.floor(math.log10(max(floor, min(ys, default=floor))))
    decades = [10.0**k for k in range(lowest, 1)]
    fig.update_yaxes(type="log", range=[lowest, 0.0], tickvals=decades,
                     ticktext=[f"{100.0 * d:.{max(0, -2 - k)}f}%" for k, d in zip(range(lowest, 1), decades)])
    caption = (
        "The lender's loss on this loan (what liquidation, recovery and recourse did not repay, over the horizon) as "
        "the probability that it exceeds each amount, on a log scale so that the tail shows. The curve starts at "
        f"P(loss) = {percent(result.p_loss)} and falls as the amount grows. VaR 95% (dashed, orange) is the loss exceeded "
        "on 5% of the paths, where the curve crosses the 5% guide; ES 95% (dotted) is the average loss on those worst 5%; "
        "the red lines are the same at 99%. Amounts below one path's resolution are not drawn."
    )
    return Chart(div, fig, caption)


def liquidity_chart(result: BorrowerResult, borrower: Borrower, currency: str) -> Chart:
    """Liquidity at risk (cash needed to cure, 50/95/99%) against the borrower's cash."""
    labels = ["expected use", "LaR 50%", "LaR 95%", "LaR 99%"]
    values = [result.expected_liquidity_used, result.liquidity_at_risk_50, result.liquidity_at_risk_95,
              result.liquidity_at_risk_99]
    size, suffix = money_scale([*values, borrower.cash])
    fig = go.Figure(go.Bar(
        x=labels, y=rounded([v / size if is_number(v) else None for v in values]),
        marker={"color": [GREY, MEDIAN, CALL, DEFAULT]}, text=[money(v, currency) for v in values], textposition="outside",
        hovertemplate=f"%{{x}}: {money_hover(currency, suffix)}<extra></extra>",
    ))
    fig.add_hline(y=borrower.cash / size, line={"color": "black", "dash": "dash"},
                  annotation_text=f"cash on day 0 {money(borrower.cash, currency)}", annotation_position="top left")
    if borrower.cash_reserve:
        free = borrower.cash - borrower.cash_reserve
        fig.add_hline(y=free / size, line={"color": CURE, "dash": "dot"},
                      annotation_text=f"cash above the reserve {money(free, currency)}", annotation_position="bottom left")
    layout(fig, "Liquidity at risk: cash spent curing margin calls, across paths", y=money_axis_title("cash", currency, suffix),
           height=340, hovermode="closest")
    top = max([borrower.cash, *(v for v in values if is_number(v))]) / size
    fig.update_yaxes(range=[0.0, 1.2 * top if top > 0 else 1.0])
    caption = (
        "Cash the borrower pays to cure margin calls over the horizon: the expected amount, and the 50th, 95th and 99th "
        "percentiles across paths (liquidity at risk, LaR), against its cash on day 0 (dashed) and the cash above its "
        "reserve (dotted). A bar above the dotted line means that on that share of paths curing takes more than the "
        "free cash: the borrower has to pledge or sell, or the loan defaults."
    )
    return Chart("borrower-liquidity", fig, caption)


def cash_fan(result: BorrowerResult, currency: str, axis: TimeAxis) -> Chart:
    """The borrower's cash over time: quantiles across paths."""
    q = result.cash_quantiles
    days, series = _thinned(q["day"], {k: q[k] for k in QUANTILES})
    size, suffix = money_scale([v for k in QUANTILES for v in series[k]])
    fig = go.Figure()
    hover = (f"median {money_hover(currency, suffix)}<br>25–75%: %{{customdata[1]:.3~r}} – %{{customdata[2]:.3~r}} {suffix}"
             f"<br>5–95%: %{{customdata[0]:.3~r}} – %{{customdata[3]:.3~r}} {suffix}<extra></extra>")
    _fan(fig, axis.x(days), series, "cash", hover, scale=size)
    layout(fig, "Borrower's cash over time (quantiles across paths)", y=money_axis_title("cash", currency, suffix))
    axis.style(fig)
    caption = (
        "The borrower's cash across the paths: the median line, the middle half of the paths (dark band) and 90% of them "
        "(light band). Cash falls with interest, scheduled payments and cures, and rises with inflows and the proceeds of "
        "sales; a band reaching the bottom means that on those paths the borrower has run out of free cash."
    )
    return Chart("borrower-cash", fig, caption)


def sales_chart(result: SystemResult, currency: str, axis: TimeAxis) -> Chart:
    """Expected value sold in each recording interval, by asset (borrowers' and lenders' sales), and in total."""
    by_day = result.sold_value_by_day
    days = by_day["day"]
    assets = [a for a in by_day if a != "day"]
    if not days or all(not any(by_day[a]) for a in assets):
        return Chart("system-sales", None, "", "Nothing was sold on any path.")
    running, cumulative = 0.0, []
    for values in zip(*(by_day[a] for a in assets), strict=True):
        running += math.fsum(values)
        cumulative.append(running)
    size, suffix = money_scale([*cumulative, *(v for a in assets for v in by_day[a])])
    x = axis.x(days)
    fig = go.Figure()
    for k, asset in enumerate(assets):
        total = result.sold_value_by_asset.get(asset, math.fsum(by_day[asset]))
        fig.add_trace(go.Bar(x=x, y=rounded([v / size for v in by_day[asset]]), name=f"{asset} (in all {money(total, currency)})",
                             marker={"color": PALETTE[k % len(PALETTE)]},
                             hovertemplate=f"{asset}: {money_hover(currency, suffix)}<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=rounded([v / size for v in cumulative]), name="cumulative, all assets", yaxis="y2",
                             line={"color": "black", "width": 1.5},
                             hovertemplate=f"cumulative: {money_hover(currency, suffix)}<extra></extra>"))
    layout(fig, "Expected value sold per path, by date and asset", y=money_axis_title("sold", currency, suffix))
    axis.style(fig)
    fig.update_layout(barmode="stack", margin={"r": 80},
                      yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False, "automargin": True,
                              "tickformat": ".3~r", "title": money_axis_title("cumulative", currency, suffix)})
    caption = (
        "The value of holdings sold, averaged over all paths, in each interval between recorded dates (bars, stacked by "
        "asset) and cumulated (line, right axis). Sales are the borrowers' (to cure calls and meet payments) and the "
        "lenders' (liquidating collateral after a default); every holder of an asset sees the price they move. The "
        "expected price-impact and block-discount costs are in each borrower's table."
    )
    return Chart("system-sales", fig, caption)


def price_fan(asset_id: str, q: Mapping[str, Sequence[float | None]], axis: TimeAxis) -> Chart:
    """An asset's price over its day-0 value across paths: quantiles by recorded day."""
    div = f"system-price-{asset_id}"
    if not q.get("day") or all(v is None for v in q.get("p50", [])):
        return Chart(div, None, "", f"No price path of {asset_id} was recorded.")
    days, series = _thinned(q["day"], {k: q[k] for k in QUANTILES})
    fig = go.Figure()
    hover = ("median %{y:.1%}<br>25–75%: %{customdata[1]:.1%} – %{customdata[2]:.1%}"
             "<br>5–95%: %{customdata[0]:.1%} – %{customdata[3]:.1%}<extra></extra>")
    _fan(fig, axis.x(days), series, "price", hover)
    fig.add_hline(y=1.0, line={"color": GREY, "dash": "dot", "width": 1})
    layout(fig, f"{asset_id}: price as a share of its day-0 price (quantiles across paths)", y="price / day-0 price")
    axis.style(fig)
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    caption = (
        f"The price of {asset_id} relative to day 0 across the paths (for a private asset: its mark, the value lenders "
        "see), after shocks and the price impact of forced sales: the median line, the middle half of the paths (dark "
        "band) and 90% of them (light band). The dotted line is the day-0 price; a band reaching far below it shows how "
        "deep a fall the loans secured on it must survive."
    )
    return Chart(div, fig, caption)


def called_together_heatmap(result: BorrowerResult, paths: int, secured: Sequence[str]) -> Chart:
    """The co-call matrix of a borrower's secured loans: P(called) on the diagonal, P(both called) off it."""
    ids = [loan_id for loan_id in result.called_together if loan_id in secured]
    if len(ids) < 2:
        return Chart("borrower-called-together", None, "", "Fewer than two secured loans: no pair can be called together.")
    z = [[result.called_together[a].get(b, 0.0) for b in ids] for a in ids]
    text = [[probability(p, binomial_se(p, paths)) for p in row] for row in z]
    hover = [[(f"P({a} called) = {text[i][j]}" if i == j else f"P({a} and {b} both called) = {text[i][j]}")
              for j, b in enumerate(ids)] for i, a in enumerate(ids)]
    labels = [[(f"P(called)<br>{text[i][j]}" if i == j else f"both: {text[i][j]}") for j in range(len(ids))] for i in range(len(ids))]
    fig = go.Figure(go.Heatmap(
        z=[rounded(row) for row in z], x=ids, y=ids, text=labels,
        texttemplate="%{text}", customdata=hover, colorscale="Oranges", zmin=0.0,
        colorbar={"title": {"text": "probability"}, "tickformat": ".0%"}, hovertemplate="%{customdata}<extra></extra>",
    ))
    layout(fig, "Margin calls together: P(called) on the diagonal, P(both called) off it (± SE)",
           height=max(220 + 60 * len(ids), 320), hovermode="closest")
    fig.update_yaxes(autorange="reversed")
    caption = (
        "For each secured loan, the diagonal cell is the probability that it is called within the horizon; the cell of "
        "a row and a column is the probability that both loans are called (not necessarily on the same day). If the "
        "loans were called independently, a pair's value would be the product of their diagonal values; a value close "
        "to the smaller of the two means they are called together — a common driver or a domino effect of forced sales."
    )
    return Chart("borrower-called-together", fig, caption)


def equity_chart(result: BorrowerResult, currency: str) -> Chart:
    """Equity left at the horizon: quantiles (box 25-75%, whiskers 5-95%), mean and day-0 equity."""
    q = result.equity_quantiles
    if any(q.get(k) is None for k in QUANTILES):
        return Chart("borrower-equity", None, "", "Equity quantiles are not available.")
    size, suffix = money_scale([*(q[k] for k in QUANTILES), result.expected_equity, result.equity_day0])
    scaled = {k: rounded([q[k] / size])[0] for k in QUANTILES}  # type: ignore[operator]
    fig = go.Figure(go.Box(
        y=["equity"], q1=[scaled["p25"]], median=[scaled["p50"]], q3=[scaled["p75"]], lowerfence=[scaled["p5"]],
        upperfence=[scaled["p95"]], orientation="h", name="at the horizon", boxpoints=False, marker={"color": MEDIAN},
        hoverinfo="skip",
    ))
    fig.add_trace(go.Scatter(x=rounded([result.expected_equity / size]), y=["equity"], mode="markers", name="mean at the horizon",
                             marker={"symbol": "diamond", "size": 11, "color": CALL},
                             hovertemplate=f"mean: {money_hover(currency, suffix, 'x')}<extra></extra>"))
    fig.add_trace(go.Scatter(x=rounded([result.equity_day0 / size]), y=["equity"], mode="markers", name="day 0",
                             marker={"symbol": "x", "size": 11, "color": "black"},
                             hovertemplate=f"day 0: {money_hover(currency, suffix, 'x')}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=[scaled[k] for k in QUANTILES], y=["equity"] * 5, mode="markers", marker={"size": 1, "color": MEDIAN},
        customdata=["5th", "25th", "50th", "75th", "95th"], showlegend=False,
        hovertemplate=f"%{{customdata}} percentile: {money_hover(currency, suffix, 'x')}<extra></extra>",
    ))
    layout(fig, "Borrower's equity at the horizon (holdings + cash − debt), across paths",
           x=money_axis_title("equity", currency, suffix), height=280, hovermode="closest")
    caption = (
        "What the borrower is left with at the horizon, holdings at market plus cash less debt: the box spans the middle "
        "half of the paths (25th–75th percentile) with the median inside, the whiskers 90% (5th–95th). The diamond is the "
        "mean, the cross the equity on day 0: a box left of the cross means most paths end poorer than they started."
    )
    return Chart("borrower-equity", fig, caption)
