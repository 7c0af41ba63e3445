"""The page of `margincall explain`: why paths default, with the story of each chosen path.

    from margincall.report import write_explain_report
    write_explain_report(explanation, scenario, "out/explain.html")

One chart of the first causes, then per story a chart of the path's prices (as a share of day 0,
on a log axis, so that assets of any size share it) with its events marked, and its day-by-day
account as a table.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import plotly.graph_objects as go

from margincall.analysis.explain import Explanation, Story
from margincall.model.scenario import Scenario
from margincall.report._format import percent
from margincall.report._inputs import Table
from margincall.report._theme import (
    CALL,
    CURE,
    DEFAULT,
    GREY,
    PALETTE,
    Chart,
    TimeAxis,
    layout,
)
from margincall.report._write import environment, page_context, write_html

EVENT_COLORS = {"call": CALL, "notice": CALL, "default": DEFAULT, "borrower_default": DEFAULT, "accelerate": DEFAULT, "loss": GREY, "cure": CURE}


def causes_chart(explanation: Explanation) -> Chart:
    """Bars: the share of defaulting paths by first cause."""
    if not explanation.causes:
        return Chart("fig-causes", None, "", missing="No path defaults: there are no causes to show.")
    names = [k.replace("_", " ") for k in explanation.causes]
    shares = list(explanation.causes.values())
    fig = go.Figure(go.Bar(
        x=shares, y=names, orientation="h", marker_color=DEFAULT,
        text=[percent(v, 0) for v in shares], textposition="auto",
        hovertemplate="%{y}: %{x:.1%} of defaulting paths<extra></extra>",
    ))
    layout(fig, "First causes of default", x="share of defaulting paths", hovermode="closest",
           height=max(220, 60 + 40 * len(names)))
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    fig.update_yaxes(autorange="reversed")
    return Chart("fig-causes", fig, (
        "Each defaulting path counts once, by the first thing that went wrong on it: a call not cured in time, the "
        "LTV gapping past the liquidation level, a refused refinancing, unpaid interest, a cross-default. "
        f"P(a borrower defaults) in this run: {percent(explanation.p_default, 2)}."))


def story_chart(story: Story, index: int, axis: TimeAxis) -> Chart:
    """The path's price of each asset over day 0 (log axis), with its events marked."""
    div_id = f"fig-story-{index}"
    if not story.prices:
        return Chart(div_id, None, "", missing="This path recorded no prices.")
    fig = go.Figure()
    top = 0.0
    for k, (asset, series) in enumerate(story.prices.items()):
        if not series or series[0][1] <= 0.0:
            continue
        p0 = series[0][1]
        days = [d for d, _ in series]
        rel = [p / p0 for _, p in series]
        top = max(top, *rel)
        fig.add_trace(go.Scatter(
            x=axis.x(days), y=rel, mode="lines", name=asset, line={"color": PALETTE[k % len(PALETTE)], "width": 1.6},
            hovertemplate=f"{asset}: %{{y:.1%}} of day 0<extra></extra>",
        ))
    by_event: dict[str, list[tuple[int, str]]] = {}
    for day, event, who in story.markers:
        by_event.setdefault(event, []).append((day, who))
    for event, marks in by_event.items():
        fig.add_trace(go.Scatter(
            x=axis.x([d for d, _ in marks]), y=[1.0] * len(marks), mode="markers", name=event.replace("_", " "),
            marker={"symbol": "line-ns-open", "size": 18, "line": {"width": 2}, "color": EVENT_COLORS.get(event, GREY)},
            text=[who for _, who in marks], hovertemplate=f"{event}: %{{text}}<extra></extra>",
        ))
    layout(fig, story.title, x=axis.title, y="price as a share of day 0 (log)", hovermode="closest")
    fig.update_yaxes(type="log", tickformat=".0%")
    return Chart(div_id, fig, (
        f"{story.why} Each line is an asset's price on this path divided by its day-0 price (a private asset: its last "
        "mark); the ticks on the 100% line mark the path's calls, cures and defaults (hover for the loan or borrower)."))


def story_table(story: Story, index: int) -> Table:
    """The path's day-by-day account."""
    return Table(
        title=f"{story.title}, day by day (path {story.path})",
        header=["day", "date", "what happened"],
        rows=[[str(day), date or "", text] for day, date, text in story.lines],
        css_id=f"story-{index}",
        key_columns=1,
    )


def render_explain_report(explanation: Explanation, scenario: Scenario, *, written_at: dt.datetime | None = None) -> str:
    """explain.html as one HTML string."""
    written_at = written_at or dt.datetime.now(dt.UTC)
    axis = TimeAxis(scenario.start_date)
    facts = [
        ("scenario", explanation.scenario),
        ("paths searched", f"{explanation.paths:,}"),
        ("seed", str(explanation.seed)),
        ("P(a borrower defaults)", percent(explanation.p_default, 2)),
        ("written at", written_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")),
    ]
    stories = [
        {"title": s.title, "why": s.why, "chart": story_chart(s, i, axis), "table": story_table(s, i), "anchor": f"story-{i}"}
        for i, s in enumerate(explanation.stories)
    ]
    context = {
        **page_context(f"margincall explain — {explanation.scenario}", facts, explanation.currency),
        "causes": causes_chart(explanation),
        "stories": stories,
    }
    return environment().get_template("explain.html.j2").render(context)


def write_explain_report(explanation: Explanation, scenario: Scenario, path: str | os.PathLike[str]) -> Path:
    """explain.html: the causes of default and each story with its chart, self-contained."""
    return write_html(render_explain_report(explanation, scenario), path, "explain.html")
