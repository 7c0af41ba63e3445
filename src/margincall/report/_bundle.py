"""The plotly.js a report inlines, once per page.

The report draws scatter, bar, box and heatmap traces only, so it ships plotly.js's `cartesian`
distribution (static/plotly-cartesian.min.js, npm package plotly.js-cartesian-dist-min, MIT
licence in static/plotly-LICENSE.txt): 1.5 MB instead of the 4.8 MB of the full bundle that
plotly.py carries, which keeps a report under 2 MB. It is used when its major version is that of
the plotly.js that plotly.py writes figures for; otherwise (another plotly.py) the full bundle is
inlined, so that every figure still draws.
"""

from __future__ import annotations

import functools
import importlib.resources
import re

BUNDLE = "plotly-cartesian.min.js"
TRACES = frozenset({"scatter", "bar", "box", "heatmap", "histogram", "contour", "pie", "violin", "image"})


@functools.cache
def plotly_js() -> str:
    """The plotly.js source to inline: the cartesian bundle, or plotly.py's full one when their
    major versions differ."""
    import plotly.offline

    text = (importlib.resources.files("margincall.report") / "static" / BUNDLE).read_text(encoding="utf-8")
    ours = bundle_version(text)
    theirs = plotly.offline.get_plotlyjs_version()
    if ours is None or ours.split(".")[0] != theirs.split(".")[0]:
        return str(plotly.offline.get_plotlyjs())
    return text


def bundle_version(text: str) -> str | None:
    """`4.1.1` from the licence header of a plotly.js bundle."""
    match = re.search(r"plotly\.js(?: \([^)]*\))? v(\d+\.\d+\.\d+)", text[:400])
    return match.group(1) if match else None


def script() -> str:
    """The `<script>` element carrying plotly.js (a `</script>` inside it is escaped)."""
    return "<script>" + plotly_js().replace("</script", "<\\/script") + "</script>"
