"""The look shared by every chart of every report page (base run, stresses, sensitivities), the
time axis (calendar dates when the scenario has a start date) and the `Chart` a page lists.

Figures carry a small template of their own rather than plotly's `plotly_white` (which each figure
would repeat, some 8 KB a chart).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

BAND_OUTER = "rgba(31, 119, 180, 0.15)"
BAND_INNER = "rgba(31, 119, 180, 0.35)"
MEDIAN = "rgb(31, 119, 180)"
CALL = "rgb(255, 127, 14)"
DEFAULT = "rgb(214, 39, 40)"
CURE = "rgb(44, 160, 44)"
GREY = "#7f7f7f"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
# runs of a stress report: the base in ink, then sixteen distinct colours before one repeats
RUN_COLORS = ("#1d2733", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
              "#17becf", "#393b79", "#ad494a", "#637939", "#7b4173", "#e7ba52", "#3182bd", "#b5cf6b")
GRID = "#e5e9ef"
MAX_POINTS = 120  # points of a daily curve: about one every 9 pixels of a chart

THEME = go.layout.Template(
    layout={
        "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12, "color": "#1d2733"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "colorway": list(PALETTE),
        "xaxis": {"gridcolor": GRID, "zerolinecolor": GRID, "linecolor": "#b8c0cc", "ticks": "outside", "automargin": True},
        "yaxis": {"gridcolor": GRID, "zerolinecolor": "#b8c0cc", "linecolor": "#b8c0cc", "automargin": True},
        "hoverlabel": {"font": {"size": 12}},
    }
)


@dataclass(frozen=True)
class Chart:
    """One chart of a page: its element id, the figure (None when there is nothing to draw), the
    caption printed under it (what it shows and how to read it), and the note shown instead of a
    missing figure."""

    div_id: str
    figure: go.Figure | None
    caption: str
    missing: str = ""


def layout(fig: go.Figure, title: str, *, x: str = "", y: str = "", height: int = 380, hovermode: str = "x unified") -> go.Figure:
    """The shared layout: title, theme, margins, legend below the plot."""
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        template=THEME,
        height=height,
        margin={"l": 70, "r": 30, "t": 60, "b": 50},
        legend={"orientation": "h", "y": -0.2},
        hovermode=hovermode,
    )
    fig.update_xaxes(title_text=x)
    fig.update_yaxes(title_text=y)
    return fig


class TimeAxis:
    """Day numbers as the x values of a chart: calendar dates (business days from the scenario's
    start date, as `Scenario.day_number` counts them) when it has one, else trading days."""

    def __init__(self, start_date: dt.date | None) -> None:
        self.start_date = start_date

    @property
    def dated(self) -> bool:
        return self.start_date is not None

    @property
    def title(self) -> str:
        return "date (business days from day 0)" if self.dated else "trading day"

    def x(self, days: Sequence[float | int | None]) -> list[str | int | None]:
        """ISO dates for the days, or the day numbers themselves."""
        if self.start_date is None:
            return [None if d is None else int(d) for d in days]
        numbers = np.array([0 if d is None else int(d) for d in days], dtype=np.int64)
        dates = np.busday_offset(np.datetime64(self.start_date, "D"), numbers, roll="forward")
        return [None if d is None else str(v) for d, v in zip(days, dates, strict=True)]

    def date(self, day: int) -> str:
        """`2027-03-29` (day 193) or `day 193`."""
        return str(self.x([day])[0]) if self.dated else f"day {day}"

    def style(self, fig: go.Figure) -> None:
        """Axis title and the hover format of the x value."""
        fig.update_xaxes(title_text=self.title, hoverformat="%d %b %Y" if self.dated else "")


def thin(n: int, max_points: int = MAX_POINTS) -> list[int]:
    """Indices of at most about `max_points` evenly spaced points of `n`, the first and last kept."""
    if n <= max_points:
        return list(range(n))
    step = int(np.ceil(n / max_points))
    keep = list(range(0, n, step))
    if keep[-1] != n - 1:
        keep.append(n - 1)
    return keep
