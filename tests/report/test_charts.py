"""Charts built from hand-made results: the loss distribution (loans.<id>.loss_distribution =
{"loss": [...], "cdf": [...]}), drawn as an exceedance curve with VaR and ES marked."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from margincall.analysis.results import LoanResult
from margincall.report._charts import loss_chart, loss_distribution


def _loan(**extra) -> LoanResult:
    """A secured loan's result with a loss on 10% of the paths: exponential with mean 2e8."""
    fields = dict(
        borrower="holdco", lender="bank", secured=True, principal=1e9, limit=1e9, p_margin_call=0.3, p_margin_call_se=0.005,
        p_default=0.12,
        p_default_se=0.004, p_loss=0.10, p_loss_se=0.003, expected_loss=2e7, expected_loss_se=1e6,
        loss_var_95=2e8 * math.log(2.0), loss_es_95=2e8 * (math.log(2.0) + 1.0),
        loss_var_99=2e8 * math.log(10.0), loss_es_99=2e8 * (math.log(10.0) + 1.0),
        p_default_by_cause={"uncured_call": 0.12}, p_default_by_cause_se={"uncured_call": 0.004},
        loss_distribution={"loss": [], "cdf": []},
        first_call_day={"p5": 10.0, "p25": 50.0, "p50": 100.0, "p75": 150.0, "p95": 240.0}, ltv_quantiles=None,
        p_margin_call_by_day=[0.0, 0.3], p_default_by_day=[0.0, 0.12], events={}, expected_cure_paid=0.0,
        expected_recovered=0.0, expected_drawn=0.0, breakeven_growth=0.01,
    )
    return LoanResult(**{**fields, **extra})


def _distribution() -> dict[str, list[float]]:
    loss = np.concatenate([[0.0], np.geomspace(1e6, 3e9, 200)])
    cdf = 0.9 + 0.1 * (1.0 - np.exp(-loss / 2e8))
    return {"loss": loss.tolist(), "cdf": cdf.tolist()}


def test_loss_chart_from_a_distribution_marks_var_and_es():
    loan = _loan(loss_distribution=_distribution())
    chart = loss_chart("l", loan, "USD", paths=100_000)
    assert chart.figure is not None and chart.missing == ""
    fig = chart.figure.to_plotly_json()
    curve = fig["data"][0]
    assert fig["layout"]["xaxis"]["title"]["text"] == "loss (USD bn)"
    assert fig["layout"]["yaxis"]["type"] == "log"
    assert fig["layout"]["yaxis"]["ticktext"][-3:] == ["1%", "10%", "100%"]  # decades, as percentages
    assert all(t != "0.0%" for t in fig["layout"]["yaxis"]["ticktext"])
    # the exceedance curve is 1 - cdf on the amounts with a loss, in USD bn
    assert curve["x"][0] == pytest.approx(1e6 / 1e9, rel=1e-3)
    assert curve["y"][0] == pytest.approx(0.1 * math.exp(-1e6 / 2e8), rel=1e-3)
    assert all(b <= a for a, b in zip(curve["y"], curve["y"][1:]))
    lines = {s["x0"]: s for s in fig["layout"]["shapes"] if s.get("x0") == s.get("x1") and s["x0"] is not None}
    for value in (loan.loss_var_95, loan.loss_es_95, loan.loss_var_99, loan.loss_es_99):
        assert round(value / 1e9, 6) in {round(x, 6) for x in lines}
    notes = [a["text"] for a in fig["layout"]["annotations"]]
    assert "VaR 95% USD 139 m" in notes and "ES 99% USD 661 m" in notes
    # VaR 95% lies where the curve crosses 5%
    crossing = np.interp(0.05, curve["y"][::-1], curve["x"][::-1])
    assert crossing == pytest.approx(loan.loss_var_95 / 1e9, rel=0.02)
    assert "VaR 95%" in chart.caption and "expected shortfall" not in chart.missing


def test_loss_chart_reads_result_json_dicts_and_refuses_what_is_not_a_distribution():
    data = {"loss_distribution": _distribution()}
    assert loss_distribution(data) == data["loss_distribution"]
    bad = {"loss": [0.0, 2.0, 1.0], "cdf": [0.1, 0.5, 1.0]}  # amounts not increasing
    assert loss_distribution({"loss_distribution": bad}) is None
    assert loss_distribution({"loss_distribution": {"loss": [0.0, 1.0], "cdf": [0.5, 1.2]}}) is None
    assert loss_distribution({}) is None


def test_without_a_distribution_the_report_says_so():
    chart = loss_chart("l", _loan(), "USD", paths=1000)  # an empty distribution, as a result without one
    assert chart.figure is None and "no loss distribution" in chart.missing
    no_loss = dataclasses.replace(_loan(loss_distribution=_distribution()), p_loss=0.0)
    assert loss_chart("l", no_loss, "USD", paths=1000).figure is None
