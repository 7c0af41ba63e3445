"""The sensitivities page (`margincall sensitivities --out DIR` writes sensitivities.html): a ranked
tornado chart per headline metric and one table, in the report's theme.

    from margincall.report import write_sensitivity_report
    write_sensitivity_report(report, scenario, "out/sensitivities.html", metric="borrower.p_default")
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import plotly.graph_objects as go

from margincall.analysis.sensitivities import Sensitivity, SensitivityReport
from margincall.model.scenario import Scenario
from margincall.report._format import (
    is_number,
    money,
    money_axis_title,
    money_change,
    money_hover,
    money_scale,
    number,
    points,
    probability,
    rounded,
)
from margincall.report._inputs import Table
from margincall.report._theme import CALL, MEDIAN, Chart, layout
from margincall.report._write import environment, page_context, write_html

LOWERED, RAISED = MEDIAN, CALL

METRIC_WORDS = {
    "p_margin_call": "P(margin call)", "p_default": "P(default)", "expected_loss": "expected loss",
    "p_cascade": "P(cascade: 2+ loans called)", "expected_liquidity_used": "expected cash used to cure",
    "p_any_default": "P(any borrower defaults)", "expected_defaults": "expected borrowers in default",
}


def metric_label(metric: str) -> str:
    """`openai-margin-loan.p_default` -> `openai-margin-loan P(default)`."""
    scope, _, name = metric.rpartition(".")
    return f"{scope} {METRIC_WORDS.get(name, name)}"


def is_probability(metric: str) -> bool:
    return metric.rpartition(".")[2].startswith("p_")


def is_count(metric: str) -> bool:
    """A mean number of borrowers (`system.expected_defaults`), neither a probability nor money."""
    return metric.rpartition(".")[2] == "expected_defaults"


def _value(metric: str, value: float | None, currency: str) -> str:
    if is_count(metric):
        return number(value, 3)
    return probability(value, None).split(" ±")[0] if is_probability(metric) else money(value, currency)


def bump_label(row: Sensitivity) -> str:
    """`volatility openai 0.6 (0.55 / 0.65)`: the input, its value, and its lowered and raised values."""
    low = number(row.value - row.size, 4) if row.down_change is not None else "—"
    high = number(row.value + row.size, 4) if row.up_change is not None else "—"
    return f"{row.bump} {number(row.value, 4)} ({low} / {high})"


def change_text(metric: str, change: float | None, se: float | None, currency: str) -> str:
    """A change in percentage points (probabilities) or in currency, with its standard error."""
    if change is None:
        return "—"
    if is_count(metric):
        text = f"{change:+.3f}".replace("-", "−")
        return text if se is None else f"{text} ± {se:.3f}"
    return points(change, se) if is_probability(metric) else money_change(change, se, currency)


def tornado_chart(report: SensitivityReport, metric: str) -> Chart:
    """Horizontal bars, largest swing at the top: the metric's change with the input lowered and
    raised by its bump, each ± one standard error."""
    rows = report.ranked(metric)
    div = "fig-tornado-" + "".join(ch if ch.isalnum() else "-" for ch in metric)
    if not rows:
        return Chart(div, None, "", f"No input was bumped for {metric}.")
    cur = report.currency
    prob = is_probability(metric)
    values = [v for r in rows for v in (r.down_change, r.up_change) if v is not None]
    count = is_count(metric)
    size, suffix = (0.01, "pp") if prob else (1.0, "borrowers") if count else money_scale(values)
    labels = [bump_label(r) for r in rows]
    fig = go.Figure()
    for side, color, get in (("input lowered", LOWERED, lambda r: (r.down_change, r.down_se)),
                             ("input raised", RAISED, lambda r: (r.up_change, r.up_se))):
        pairs = [get(r) for r in rows]
        x = rounded([c / size if is_number(c) else None for c, _ in pairs])
        err = rounded([s / size if is_number(s) else 0.0 for _, s in pairs], 2)
        hover = (f"{side}: %{{x:+.2f}} pp ± %{{error_x.array:.2f}} pp<extra>%{{y}}</extra>" if prob
                 else f"{side}: %{{x:+.3f}} ± %{{error_x.array:.3f}} borrowers<extra>%{{y}}</extra>" if count
                 else f"{side}: {money_hover(cur, suffix, 'x')} ± %{{error_x.array:.3~r}} {suffix}<extra>%{{y}}</extra>")
        fig.add_trace(go.Bar(y=labels, x=x, orientation="h", name=side, marker={"color": color},
                             error_x={"type": "data", "array": err, "visible": True, "thickness": 1.2, "width": 3},
                             hovertemplate=hover))
    base = _value(metric, report.base[metric], cur)
    axis = (f"change of {metric_label(metric)} (percentage points)" if prob
            else f"change of {metric_label(metric)} (borrowers)" if count
            else money_axis_title(f"change of {metric_label(metric)}", cur, suffix))
    layout(fig, f"{metric_label(metric)}: change for each input lowered and raised (base {base})", x=axis,
           height=max(300, 90 + 34 * len(rows)), hovermode="closest")
    fig.update_layout(barmode="overlay", bargap=0.25, legend={"y": -0.12 - 4.0 / max(len(rows), 4) * 0.05})
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=labels)
    fig.add_vline(x=0.0, line={"color": "#1d2733", "width": 1})
    caption = (
        f"Each bar is the change of {metric_label(metric)} (base {base}) when one input is lowered (blue) or raised "
        "(orange) by its bump, everything else as in the scenario; the label gives the input's value and its lowered and "
        "raised values. Inputs are ranked by the distance between their two bars, the largest at the top: those are the "
        "numbers the result depends on most. Error bars: ± one standard error of the change. Every variant uses the same "
        f"{report.paths:,} paths and seed {report.seed} (common random numbers), so the changes are the bumps' effects, not noise."
    )
    return Chart(div, fig, caption)


def sensitivity_table(report: SensitivityReport, metric: str | None = None) -> Table:
    """One table: every bump, ranked by `metric`, with the change of every headline metric when the
    input is lowered and raised."""
    cur = report.currency
    metric = metric or report.default_metric
    metrics = [metric, *(m for m in report.metrics if m != metric)]
    cells = report.table()
    rows = []
    for rank, row in enumerate(report.ranked(metric), start=1):
        line = [str(rank), row.bump, f"{number(row.value, 4)} ± {number(row.size, 4)}"]
        for m in metrics:
            s = cells[row.bump][m]
            line.append(f"{change_text(m, s.down_change, s.down_se, cur)} / {change_text(m, s.up_change, s.up_se, cur)}")
        rows.append(line)
    return Table(
        title=f"Sensitivities, ranked by {metric_label(metric)}: change when each input is lowered / raised",
        header=["#", "input", "value ± bump", *(f"{metric_label(m)} (base {_value(m, report.base[m], cur)})" for m in metrics)],
        rows=rows,
        key_columns=2,
        note=("Changes of probabilities in percentage points, of amounts in " + cur + ", each ± one standard error (from "
              f"blocks of {report.block_paths} paths paired across the variants); — where that side of the bump is not a "
              "valid scenario. " + " ".join(report.notes)),
        css_id="sensitivity-table",
    )


def render_sensitivity_report(report: SensitivityReport, scenario: Scenario, *, metric: str | None = None,
                              written_at: dt.datetime | None = None) -> str:
    written_at = written_at or dt.datetime.now(dt.UTC)
    metric = metric or report.default_metric
    order = [metric, *(m for m in report.metrics if m != metric)]
    facts = [
        ("scenario", report.scenario),
        ("paths per variant", f"{report.paths:,}"),
        ("seed", str(report.seed)),
        ("simulations", f"{report.simulations:,} (the base and each bumped variant)"),
        ("run time", f"{report.elapsed_seconds:.1f} s"),
        ("ranked by", metric_label(metric)),
        ("written at", written_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")),
    ]
    context = {
        **page_context(f"margincall sensitivities — {report.scenario}", facts, report.currency),
        "ranked": sensitivity_table(report, metric),
        "charts": [tornado_chart(report, m) for m in order],
        "notes": report.notes,
    }
    return environment().get_template("sensitivities.html.j2").render(context)


def write_sensitivity_report(report: SensitivityReport, scenario: Scenario, path: str | os.PathLike[str], *,
                             metric: str | None = None) -> Path:
    """sensitivities.html: a tornado chart per headline metric (`metric` first) and the table."""
    return write_html(render_sensitivity_report(report, scenario, metric=metric), path, "sensitivities.html")
