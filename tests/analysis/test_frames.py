"""Results as DataFrames: every cell is the result's own number, under the name of result.json,
with its standard error beside it; one row per loan, borrower and lender; fans in long format;
CSV and Parquet read back to the same numbers."""

from __future__ import annotations

import math
import sys

import numpy as np
import pandas as pd
import pytest

import margincall
from margincall.analysis.frames import (
    RESULT_TABLES,
    FrameFormatError,
    parse_formats,
    search_frame,
    sweep_frame,
    write_frames,
)
from margincall.analysis.metrics import metrics_of
from margincall.analysis.results import CAUSE_NAMES, FAN_PROBS, LOAN_FLAG_NAMES
from margincall.analysis.search import CurvePoint, SearchResult, Target
from margincall.analysis.sensitivities import (
    DebtService,
    Sensitivity,
    SensitivityReport,
)
from margincall.analysis.stress import run_stresses
from margincall.analysis.sweep import sweep

PATHS = 2_000
# pandas 3 reads CSV floats back exactly by default; pandas 2 is asked to
ROUND_TRIP = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


@pytest.fixture(scope="module")
def result(rich_scenario) -> margincall.SimulationResult:
    return margincall.simulate(rich_scenario, paths=PATHS, seed=3)


def _same(a: object, b: object) -> bool:
    """Equal, NaN equal to None or NaN (a missing number)."""
    missing = (a is None or isinstance(a, float) and math.isnan(a), b is None or isinstance(b, float) and math.isnan(b))
    return all(missing) if any(missing) else a == b


def test_loans_frame_holds_the_results_own_numbers(result):
    frame = result.to_frame()
    assert list(frame["loan"]) == list(result.loans)  # one row per loan, in the book's order
    assert list(frame.columns[:6]) == ["loan", "borrower", "lender", "secured", "principal", "limit"]
    for row in frame.to_dict("records"):
        loan = result.loans[row["loan"]]
        for metric in metrics_of("loan"):
            assert _same(row[metric.name], getattr(loan, metric.name)), metric.name
            if metric.se:
                assert row[metric.se] == getattr(loan, metric.se), metric.se
        for cause in CAUSE_NAMES.values():
            assert row[f"p_default_{cause}"] == loan.p_default_by_cause[cause]
            assert row[f"p_default_{cause}_se"] == loan.p_default_by_cause_se[cause]
        for event in LOAN_FLAG_NAMES:
            assert row[f"p_event_{event}"] == loan.events[event]
        for key, day in loan.first_call_day.items():
            assert _same(row[f"first_call_day_{key}"], day)
        assert (row["borrower"], row["lender"], row["secured"]) == (loan.borrower, loan.lender, loan.secured)
        assert _same(row["breakeven_growth"], loan.breakeven_growth) and row["expected_recovered"] == loan.expected_recovered


def test_every_se_column_follows_its_metric_and_units_come_from_the_registry(result):
    for table, scope in (("loans", "loan"), ("borrowers", "borrower"), ("lenders", "lender"), ("system", "system")):
        frame = result.to_frame(table)
        columns = list(frame.columns)
        units = frame.attrs["units"]
        assert set(units) == set(columns), table
        for metric in metrics_of(scope):
            assert units[metric.name] == metric.unit, (table, metric.name)
            if metric.se:
                assert columns.index(metric.se) == columns.index(metric.name) + 1, (table, metric.se)
        for column in columns:
            if column.endswith("_se"):
                assert columns[columns.index(column) - 1] == column[:-3], (table, column)
    assert result.to_frame().attrs["currency"] == result.currency and result.to_frame().attrs["paths"] == PATHS


def test_one_row_per_borrower_and_lender_and_one_for_the_system(result):
    borrowers = result.to_frame("borrowers")
    assert list(borrowers["borrower"]) == list(result.borrowers)
    for row in borrowers.to_dict("records"):
        b = result.borrowers[row["borrower"]]
        for metric in metrics_of("borrower"):
            assert row[metric.name] == getattr(b, metric.name) and (not metric.se or row[metric.se] == getattr(b, metric.se))
        assert row["name"] == b.name and row["equity_day0"] == b.equity_day0
        assert all(_same(row[f"equity_{k}"], v) for k, v in b.equity_quantiles.items())
    lenders = result.to_frame("lenders")
    assert list(lenders["lender"]) == list(result.lenders)
    for row in lenders.to_dict("records"):
        lender = result.lenders[row["lender"]]
        assert row["loans"].split(";") == lender.loans
        assert (row["expected_loss"], row["expected_loss_se"], row["loss_var_99"]) == (
            lender.expected_loss, lender.expected_loss_se, lender.loss_var_99)
        assert math.isnan(row["capital"]) if lender.capital is None else row["capital"] == lender.capital
    (system,) = result.to_frame("system").to_dict("records")
    s = result.system
    assert (system["p_any_default"], system["p_any_default_se"]) == (s.p_any_default, s.p_any_default_se)
    assert all(system[f"p_borrowers_in_default_{k}"] == p for k, p in s.borrowers_in_default.items())
    assert all(system[f"sold_value_{a}"] == v for a, v in s.sold_value_by_asset.items())


def test_fan_chart_is_long_with_calendar_dates(result):
    fan = result.to_frame("fan")
    assert list(fan.columns) == ["scope", "who", "quantity", "day", "date", "quantile", "value"]
    assert sorted(fan["quantile"].unique()) == FAN_PROBS.tolist()
    loan_id = next(k for k, v in result.loans.items() if v.secured)
    ltv = result.loans[loan_id].ltv_quantiles
    assert ltv is not None
    median = fan[(fan.who == loan_id) & (fan.quantity == "ltv") & (fan["quantile"] == 0.5)]
    assert list(median["day"]) == ltv["day"]
    assert all(_same(a, b) for a, b in zip(median["value"], ltv["p50"], strict=True))
    unsecured = [k for k, v in result.loans.items() if not v.secured]
    assert not fan[(fan.scope == "loan") & fan.who.isin(unsecured)].size  # an unsecured loan has no LTV
    # day 0 is the start date; trading days are business days after it
    start = np.datetime64(result.start_date, "D")
    for day, date in zip(median["day"], median["date"], strict=True):
        assert np.datetime64(date.date(), "D") == np.busday_offset(start, day, roll="forward")
    n_series = sum(v.ltv_quantiles is not None for v in result.loans.values()) + len(result.borrowers) + len(result.system.price_quantiles)
    assert len(fan) == n_series * len(FAN_PROBS) * len(ltv["day"])
    assert set(fan.quantity) == {"ltv", "cash", "relative_price"} and set(fan.attrs["quantity_units"]) >= set(fan.quantity)


def test_curves_by_day_and_no_date_without_a_start_date(result, single_stock):
    curves = result.to_frame("curves")
    borrower_id, borrower = next(iter(result.borrowers.items()))
    rows = curves[(curves.scope == "borrower") & (curves.who == borrower_id)]
    assert list(rows["value"]) == borrower.p_default_by_day and list(rows["day"]) == list(range(result.horizon_days + 1))
    undated = margincall.simulate(single_stock, paths=256, seed=1)
    assert undated.start_date is None
    assert "date" not in undated.to_frame("fan").columns and "date" not in undated.to_frame("curves").columns


def test_loss_distribution_and_co_calls(result):
    losses = result.to_frame("loss_distribution")
    assert list(losses.columns) == ["scope", "who", "loss", "cdf"]
    for scope, members in (("loan", result.loans), ("lender", result.lenders)):
        for who, r in members.items():
            rows = losses[(losses.scope == scope) & (losses.who == who)]
            assert list(rows["loss"]) == r.loss_distribution["loss"] and list(rows["cdf"]) == r.loss_distribution["cdf"]
            assert rows["cdf"].is_monotonic_increasing
    pairs = result.to_frame("called_together")
    for row in pairs.to_dict("records"):
        b = result.borrowers[row["borrower"]]
        assert row["p_called_together"] == b.called_together[row["loan"]][row["other_loan"]]
    n_pairs = sum(len(row) for b in result.borrowers.values() for row in b.called_together.values())
    assert len(pairs) == n_pairs
    diagonal = pairs[pairs.loan == pairs.other_loan]
    assert all(row["p_called_together"] == result.loans[row["loan"]].p_margin_call for row in diagonal.to_dict("records"))


def test_csv_and_parquet_read_back_to_the_same_numbers(result, tmp_path):
    frames = result.frames()
    assert list(frames) == list(RESULT_TABLES)
    written = write_frames(frames, tmp_path, ["csv", "parquet"])
    assert sorted(p.name for p in written) == sorted(f"{n}.{f}" for n in RESULT_TABLES for f in ("csv", "parquet"))
    for name, frame in frames.items():
        dates = ["date"] if "date" in frame else None
        for back in (pd.read_csv(tmp_path / f"{name}.csv", parse_dates=dates, **ROUND_TRIP), pd.read_parquet(tmp_path / f"{name}.parquet")):
            assert list(back.columns) == list(frame.columns), name
            pd.testing.assert_frame_equal(back, frame, check_dtype=False, check_exact=True)
        assert pd.read_parquet(tmp_path / f"{name}.parquet").attrs.get("units", frame.attrs["units"]) == frame.attrs["units"]


def test_formats_are_checked_and_parquet_without_pyarrow_names_the_fix(monkeypatch):
    assert parse_formats(["csv", "CSV,parquet"]) == ["csv", "parquet"]
    assert parse_formats(None) == [] and parse_formats([" , "]) == []
    with pytest.raises(FrameFormatError, match="unknown table format 'xlsx'; formats: csv, parquet"):
        parse_formats(["xlsx"])
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if it were not installed
    with pytest.raises(FrameFormatError, match=r"pip install 'margincall\[parquet\]'"):
        parse_formats(["csv,parquet"])
    assert parse_formats(["csv"]) == ["csv"]
    with pytest.raises(FrameFormatError, match="no table 'nope'"):
        margincall.simulate(margincall.parse_scenario(_ONE_LOAN), paths=64, seed=1).to_frame("nope")


_ONE_LOAN = """
name: one-loan
horizon_days: 63
assets:
  acme: {kind: public, value: 100.0, volatility: 0.4, adv: 1.0e9}
borrower: {cash: 5.0}
loans:
  l: {principal: 40.0, rate: 0.0, term_days: 63, collateral: {acme: 1.0}, margin_call_ltv: 0.5, cure_ltv: 0.45,
     cure_days: 2, liquidation_ltv: 0.8}
"""


def test_stress_rows_one_per_stress_and_loan(tmp_path):
    scenario = margincall.parse_scenario(_ONE_LOAN)
    run = run_stresses(scenario, ["S7", "S9"], paths=512, seed=2)
    loans = run.to_frame()
    assert list(zip(loans["run"], loans["loan"], strict=True)) == [(r, "l") for r in ("base", *run.results)]
    assert list(loans["stress_id"]) == [None, *(run.applied[n].stress.id for n in run.results)]
    for row in loans.to_dict("records"):
        r = run.base if row["run"] == "base" else run.results[row["run"]]
        assert (row["p_default"], row["p_default_se"], row["expected_loss"]) == (
            r.loans["l"].p_default, r.loans["l"].p_default_se, r.loans["l"].expected_loss)
    borrowers = run.to_frame("borrowers")
    assert len(borrowers) == 1 + len(run.results) and list(borrowers["p_cascade"]) == [
        r.borrower.p_cascade for r in (run.base, *run.results.values())]
    assert set(run.frames()) == {"loans", "borrowers", "lenders"}


def test_sweep_points_one_row_per_point_and_loan():
    scenario = margincall.parse_scenario(_ONE_LOAN)
    rows = sweep(scenario, ["loans.l.margin_call_ltv=0.5,0.55", "borrower.cash=0,10"], paths=256, seed=1)
    loans = sweep_frame(rows)
    assert list(loans.columns[:4]) == ["point", "loans.l.margin_call_ltv", "borrower.cash", "loan"]
    assert list(loans["loans.l.margin_call_ltv"]) == [0.5, 0.5, 0.55, 0.55] and list(loans["borrower.cash"]) == [0, 10, 0, 10]
    assert list(loans["p_margin_call"]) == [row.loans["l"].p_margin_call for row in rows]
    assert list(loans["p_margin_call_se"]) == [row.loans["l"].p_margin_call_se for row in rows]
    borrowers = sweep_frame(rows, "borrowers")
    assert list(borrowers.columns[:4]) == ["point", "loans.l.margin_call_ltv", "borrower.cash", "name"]
    assert list(borrowers["p_default"]) == [row.borrower.p_default for row in rows] and len(borrowers) == 4


def test_sensitivity_and_search_rows():
    row = Sensitivity(bump="vol acme", kind="volatility", field="assets.acme.volatility", size=0.05, value=0.4, method="central",
                      metric="borrower.p_default", base=0.1, change=0.02, se=0.004, down_change=-0.01, down_se=0.003,
                      up_change=0.03, up_se=0.005)
    debt = DebtService(who="l", years=0.25, collateral=100.0, interest=0.0, breakeven_growth=0.0, p_beats=0.5, p_beats_se=0.0,
                       method="closed form")
    report = SensitivityReport(scenario="s", currency="USD", paths=512, seed=0, block_paths=256, base={"borrower.p_default": 0.1},
                               base_se={"borrower.p_default": 0.01}, rows=[row], notes=[], debt_service=[debt])
    (got,) = report.to_frame().to_dict("records")
    assert got["change"] == 0.02 and got["se"] == 0.004 and got["swing"] == pytest.approx(0.04) and got["bump"] == "vol acme"
    assert report.to_frame("debt_service").to_dict("records")[0]["p_beats"] == 0.5
    target = Target(metric="p_default", op=">=", value=0.05, scope="l")
    curve = [CurvePoint(x=-0.5, metric=0.2, se=0.01, met=True), CurvePoint(x=-0.25, metric=0.04, se=0.005, met=False)]
    search = SearchResult(kind="reverse", field="shock", target=target, value=-0.5, low=-0.6, high=-0.3, metric=0.2, metric_se=0.01,
                          se_note=None, range=(-1.0, 0.0), curve=curve, paths=512, seed=0)
    frame = search_frame(search)
    assert list(frame.columns) == ["field", "shock", "p_default", "p_default_se", "met", "answer"]
    assert list(frame["shock"]) == [-0.5, -0.25] and list(frame["answer"]) == [True, False]
