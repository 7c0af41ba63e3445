"""Daily monitoring: today's LTV, headroom, open calls and what falls due, against numbers worked
out by hand on a small book; the short-horizon P(call) against the closed form on one asset."""

from __future__ import annotations

import datetime as dt
import math
import sys
from pathlib import Path

import pytest
import yaml

import margincall
from margincall.analysis.alerts import AlertRuleError, parse_rule
from margincall.analysis.daily import daily_monitor
from margincall.analysis.marks import Mark, MarksError, check_assets, read_marks
from margincall.analysis.monitor import book_today, date_of, due_within, open_calls, scenario_from_today

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "validation"))
from validation_support import Z, bgk_first_passage, discrete_first_passage  # noqa: E402

START = dt.date(2026, 1, 5)  # a Monday
BOOK = {
    "name": "small-book",
    "start_date": START,
    "horizon_days": 252,
    "assets": {
        "acme": {"kind": "public", "value": 100.0, "volatility": 0.3, "adv": 50.0},
        "beta": {"kind": "public", "value": 50.0, "volatility": 0.2, "adv": 50.0},
    },
    "correlation": [["acme", "beta", 0.5]],
    "borrower": {"cash": 5.0, "response": ["cash"],
                 "cash_flows": [{"day": 20, "amount": -3.0, "label": "tranche"}, {"day": 200, "amount": -1.0}]},
    "loans": {
        "l1": {"principal": 40.0, "rate": 0.0504, "term_days": 504, "interest_every_days": 63,
               "collateral": {"acme": 1.0, "beta": 0.5}, "haircuts": {"acme": 0.1, "beta": 0.2},
               "margin_call_ltv": 0.6, "cure_ltv": 0.5, "cure_days": 5, "liquidation_ltv": 0.8},
        "bridge": {"principal": 10.0, "rate": 0.1, "term_days": 15},
    },
}


def _scenario(data=BOOK) -> margincall.Scenario:
    return margincall.parse_scenario(yaml.safe_dump(data, sort_keys=False))


def test_ltv_and_headroom_by_hand():
    """As of Friday 16 January: 9 trading days after day 0 (5 January). acme marked 80, beta 40.
    Debt = 40 + 40 x 5.04% x 9/252 = 40.072. Pool = 80 + 0.5 x 40 = 100; lending value
    = 80 x 0.9 + 20 x 0.8 = 88; LTV = 40.072 / 88. Headroom to the call = 1 - LTV / 0.6, to
    liquidation 1 - LTV / 0.8; in daily sigma: ln(trigger / LTV) / sigma_d, sigma_d the pool's
    daily volatility with weights 72/88 and 16/88."""
    marks = [Mark("acme", dt.date(2026, 1, 16), 80.0, "value"), Mark("beta", dt.date(2026, 1, 14), 40.0, "value"),
             Mark("acme", dt.date(2026, 1, 9), 95.0, "value"), Mark("acme", dt.date(2026, 1, 19), 10.0, "value")]  # after as-of: ignored
    book = book_today(_scenario(), marks, dt.date(2026, 1, 16))
    assert book.day == 9
    loan = book.loans["l1"]
    assert loan.accrued_interest == pytest.approx(0.072, rel=1e-12)
    assert loan.debt == pytest.approx(40.072, rel=1e-12)
    assert loan.pool_value == pytest.approx(100.0)
    assert loan.lending_value == pytest.approx(88.0)
    ltv = 40.072 / 88.0
    assert loan.ltv == pytest.approx(ltv, rel=1e-12)
    assert loan.headroom_call == pytest.approx(1.0 - ltv / 0.6, rel=1e-12)
    assert loan.headroom_liquidation == pytest.approx(1.0 - ltv / 0.8, rel=1e-12)
    w1, w2 = 72.0 / 88.0, 16.0 / 88.0
    sigma_d = math.sqrt((w1**2 * 0.09 + w2**2 * 0.04 + 2 * w1 * w2 * 0.5 * 0.3 * 0.2) / 252)
    assert loan.pool_sigma_daily == pytest.approx(sigma_d, rel=1e-12)
    assert loan.headroom_call_sigma == pytest.approx(math.log(0.6 / ltv) / sigma_d, rel=1e-12)
    assert loan.headroom_liquidation_sigma == pytest.approx(math.log(0.8 / ltv) / sigma_d, rel=1e-12)
    assert book.mark_dates == {"acme": dt.date(2026, 1, 16), "beta": dt.date(2026, 1, 14)}
    assert book.prices == {"acme": 80.0, "beta": 40.0}  # no asset price: one unit is the whole holding
    bridge = book.loans["bridge"]
    assert bridge.ltv is None and bridge.headroom_call is None
    assert bridge.debt == pytest.approx(10.0 + 10.0 * 0.1 * 9 / 252)
    assert bridge.maturity == date_of(START, 15) == dt.date(2026, 1, 26)


def test_headroom_is_negative_past_the_trigger():
    marks = [Mark("acme", dt.date(2026, 1, 5), 40.0, "value"), Mark("beta", dt.date(2026, 1, 5), 40.0, "value")]
    loan = book_today(_scenario(), marks, dt.date(2026, 1, 5)).loans["l1"]
    assert loan.ltv == pytest.approx(40.0 / (36.0 + 16.0))
    assert loan.headroom_call < 0.0 < loan.headroom_liquidation


def test_open_call_and_its_deadline():
    """acme falls to 60 on Monday 12 January: lending value 54 + 16 = 70, LTV = 40.0 (+ a little
    interest) / 70 = 0.572 < 0.6: no call. On Wednesday 14 January to 50: LTV 40.05 / 61 = 0.657,
    a call, due within 5 trading days: by Wednesday 21 January. It stays open while the LTV is
    above the cure level (0.5)."""
    marks = [Mark("acme", dt.date(2026, 1, 5), 100.0, "value"), Mark("beta", dt.date(2026, 1, 5), 40.0, "value"),
             Mark("acme", dt.date(2026, 1, 12), 60.0, "value"), Mark("acme", dt.date(2026, 1, 14), 50.0, "value"),
             Mark("acme", dt.date(2026, 1, 16), 58.0, "value")]
    scenario = _scenario()
    calls = open_calls(scenario, marks, dt.date(2026, 1, 16))
    assert len(calls) == 1
    call = calls[0]
    assert call.loan == "l1" and call.opened == dt.date(2026, 1, 14) and call.deadline == dt.date(2026, 1, 21)
    assert not call.overdue
    assert open_calls(scenario, marks, dt.date(2026, 1, 13)) == []
    assert open_calls(scenario, marks, dt.date(2026, 1, 22))[0].overdue
    # a recovery to the cure level closes it
    cured = [*marks, Mark("acme", dt.date(2026, 1, 19), 90.0, "value")]
    assert open_calls(scenario, cured, dt.date(2026, 1, 20)) == []


def test_what_falls_due_in_30_days():
    """As of 16 January (day 9): the bridge matures on day 15 (26 January) with its interest; the
    tranche of -3 falls on day 20 (2 February); l1's first interest (day 63) is in April: not within
    30 days."""
    due = due_within(_scenario(), dt.date(2026, 1, 16))
    assert [(d.kind, d.loan, d.date) for d in due] == [
        ("maturity", "bridge", dt.date(2026, 1, 26)),
        ("cash_flow", None, dt.date(2026, 2, 2)),
    ]
    assert due[0].amount == pytest.approx(-(10.0 + 10.0 * 0.1 * 15 / 252))
    assert due[1].amount == -3.0
    later = due_within(_scenario(), dt.date(2026, 3, 20))  # day 54: l1's interest on day 63 (2 April)
    interest = [d for d in later if d.kind == "interest"]
    assert [(d.loan, d.date) for d in interest] == [("l1", date_of(START, 63))]
    assert interest[0].amount == pytest.approx(-40.0 * 0.0504 * 63 / 252)


def test_scenario_from_today_moves_day_zero():
    marks = [Mark("acme", dt.date(2026, 1, 16), 80.0, "value"), Mark("beta", dt.date(2026, 1, 16), 40.0, "value")]
    scenario = _scenario()
    book = book_today(scenario, marks, dt.date(2026, 1, 16))
    today, notes = scenario_from_today(scenario, book, horizon_days=20, cash=7.0)
    assert today.start_date == dt.date(2026, 1, 16)
    assert today.assets["acme"].value == 80.0 and today.assets["beta"].value == 40.0
    assert today.loans["l1"].principal == pytest.approx(40.072)
    assert today.loans["l1"].term_days == 504 - 9
    assert today.loans["bridge"].term_days == 6
    assert [(f.day, f.amount) for f in today.borrower.cash_flows] == [(11, -3.0)]  # day 191 is past the 21 days simulated
    assert today.horizon == 21  # the loans' 21-day grace for interest
    assert today.borrower.cash == 7.0
    # past its maturity a loan is left out, with a note
    late = book_today(scenario, marks, dt.date(2026, 2, 2))
    today, notes = scenario_from_today(scenario, late, horizon_days=20)
    assert "bridge" not in today.loans and any("bridge matured" in n for n in notes)


def test_marks_file_errors_name_line_and_fix():
    with pytest.raises(MarksError, match="line 1: no column price"):
        read_marks("date,asset,amount\n2026-01-05,acme,1\n")
    with pytest.raises(MarksError, match="line 3, column date: '2026-13-01' is not a date"):
        read_marks("date,asset,value\n2026-01-05,acme,1\n2026-13-01,acme,2\n")
    with pytest.raises(MarksError, match="line 2, column value: 'abc' is not a number"):
        read_marks("date,asset,value\n2026-01-05,acme,abc\n")
    marks = read_marks("date,asset,value\n2026-01-05,acme,1\n")
    with pytest.raises(MarksError, match="no mark on or before 2026-01-05 for beta"):
        check_assets(marks, ["acme", "beta"], dt.date(2026, 1, 5))
    with pytest.raises(MarksError, match="unknown asset 'zeta'"):
        check_assets([*marks, Mark("zeta", dt.date(2026, 1, 5), 1.0)], ["acme"], dt.date(2026, 1, 5))


BOOK_FORM = {
    "name": "two-borrowers", "start_date": START,
    "assets": {"acme": {"kind": "public", "price": 10.0, "volatility": 0.3, "adv": 1000.0}},
    "borrowers": {"hold-a": {"cash": 1.0, "holdings": {"acme": 100.0}},
                  "hold-b": {"cash": 2.0, "holdings": {"acme": 50.0},
                             "cash_flows": [{"day": 12, "amount": -5.0, "label": "fee"}]}},
    "lenders": {"bank": {"name": "Bank"}},
    "loans": {
        "la": {"borrower": "hold-a", "lender": "bank", "principal": 400.0, "rate": 0.0, "term_days": 252,
               "collateral": {"acme": 1.0}, "margin_call_ltv": 0.6, "cure_ltv": 0.5, "cure_days": 2, "liquidation_ltv": 0.8},
        "lb": {"borrower": "hold-b", "lender": "bank", "principal": 100.0, "rate": 0.0, "term_days": 252,
               "collateral": {"acme": 0.5}, "haircuts": {"acme": 0.2},
               "margin_call_ltv": 0.6, "cure_ltv": 0.5, "cure_days": 2, "liquidation_ltv": 0.8},
    },
}


def test_a_book_of_two_borrowers_by_hand():
    """Prices per unit: acme at 8 today. hold-a pledges its 100 units: pool 800, LTV 400 / 800 =
    0.5. hold-b pledges half its 50 units at a 20% haircut: pool 200, lending value 160, LTV 100 /
    160 = 0.625, past the call level. A value mark means nothing in a book (holdings differ)."""
    scenario = _scenario(BOOK_FORM)
    as_of = dt.date(2026, 1, 12)
    book = book_today(scenario, [Mark("acme", as_of, 8.0)], as_of)
    la, lb = book.loans["la"], book.loans["lb"]
    assert (la.borrower, la.lender, la.pool_value, la.ltv) == ("hold-a", "Bank", 800.0, 0.5)
    assert (lb.borrower, lb.pool_value, lb.lending_value, lb.ltv) == ("hold-b", 200.0, 160.0, 0.625)
    assert lb.headroom_call == pytest.approx(1.0 - 0.625 / 0.6) and lb.headroom_call < 0.0
    assert la.pool_sigma_daily == pytest.approx(0.3 / math.sqrt(252))
    due = due_within(scenario, as_of)
    assert [(d.kind, d.borrower, d.date, d.amount) for d in due] == [("cash_flow", "hold-b", date_of(START, 12), -5.0)]
    today, _notes = scenario_from_today(scenario, book, horizon_days=20)
    assert today.assets["acme"].price == 8.0 and today.borrowers["hold-b"].cash_flows[0].day == 12 - 5
    assert today.loans["lb"].term_days == 252 - 5
    with pytest.raises(ValueError, match="several borrowers"):
        scenario_from_today(scenario, book, horizon_days=20, cash=1.0)
    with pytest.raises(MarksError, match="use a price column"):
        book_today(scenario, [Mark("acme", as_of, 800.0, "value")], as_of)


def test_price_marks_in_the_shorthand_need_a_unit_price():
    """In the shorthand an asset without `price` has the whole holding as its unit: a price mark
    is refused; with `price`, a price mark scales the holding (value / price units)."""
    with pytest.raises(MarksError, match="has no price in the scenario"):
        book_today(_scenario(), [Mark("acme", dt.date(2026, 1, 16), 8.0), Mark("beta", dt.date(2026, 1, 16), 8.0)],
                   dt.date(2026, 1, 16))
    data = {**BOOK, "assets": {**BOOK["assets"], "acme": {**BOOK["assets"]["acme"], "price": 20.0}}}  # 5 units
    book = book_today(_scenario(data), [Mark("acme", dt.date(2026, 1, 16), 16.0), Mark("beta", dt.date(2026, 1, 16), 40.0, "value")],
                      dt.date(2026, 1, 16))
    assert book.loans["l1"].pool_value == pytest.approx(5 * 16.0 + 0.5 * 40.0)


def test_alert_rules():
    rule = parse_rule("headroom<10%")
    assert (rule.metric, rule.op, rule.threshold, rule.loan) == ("headroom", "<", 0.1, None)
    assert rule.crossed(0.05) and not rule.crossed(0.2) and not rule.crossed(None)
    assert parse_rule("l1.p_call_5d>=0.05").loan == "l1"
    with pytest.raises(AlertRuleError, match="did you mean 'headroom'"):
        parse_rule("headrom<10%")
    with pytest.raises(AlertRuleError, match="write METRIC<VALUE"):
        parse_rule("headroom is low")


# -- the short simulation against the closed form -------------------------------------------------

SIGMA, MU, PATHS, SEED = 0.3, 0.0, 100_000, 7


def _one_asset(barrier: float) -> tuple[margincall.Scenario, list[Mark], dt.date]:
    """One public asset marked at 80 today, fully pledged to a loan at rate 0 (constant debt) with
    no cash and no response: a call opens when the value falls to `barrier` x 80."""
    principal, value, call = 40.0, 80.0, 0.6
    data = {
        "name": "one-asset", "start_date": START,
        "assets": {"s": {"kind": "public", "value": 100.0, "volatility": SIGMA, "drift": MU, "adv": 1e9}},
        "borrower": {"cash": 0.0, "response": []},
        "loans": {"l": {"principal": principal, "rate": 0.0, "term_days": 300, "collateral": {"s": 1.0},
                        "margin_call_ltv": principal / (barrier * value), "cure_ltv": 0.5 * principal / (barrier * value),
                        "cure_days": 5, "liquidation_ltv": 1000.0}},
    }
    del call
    as_of = dt.date(2026, 2, 2)
    return _scenario(data), [Mark("s", as_of, value, "value")], as_of


@pytest.mark.slow
def test_short_horizon_call_probability_matches_first_passage():
    """P(call within d days) for d = 1, 5, 20 is the daily-monitored first passage of GBM from
    today's mark to the barrier: exact for one day (a normal CDF), the BGK-corrected closed form and
    the exact grid value for 5 and 20 days; tolerance 4 SE (+ the BGK bias for the closed form)."""
    barrier = 0.9
    scenario, marks, as_of = _one_asset(barrier)
    report = daily_monitor(scenario, marks, as_of=as_of, paths=PATHS, seed=SEED, rules=["p_call_20d>0.1", "headroom<5%"])
    probabilities = report.probabilities["l"]
    dt_ = 1.0 / 252
    one_day = 0.5 * (1.0 + math.erf((math.log(barrier) - (MU - 0.5 * SIGMA**2) * dt_) / (SIGMA * math.sqrt(dt_)) / math.sqrt(2.0)))
    assert abs(probabilities["p_call_1d"] - one_day) <= Z * probabilities["p_call_1d_se"] + 1e-6
    for days in (5, 20):
        p, se = probabilities[f"p_call_{days}d"], probabilities[f"p_call_{days}d_se"]
        exact = discrete_first_passage(SIGMA, MU, barrier, days)
        closed = bgk_first_passage(SIGMA, MU, barrier, days)
        assert abs(p - exact) <= Z * se + 1e-4, (days, p, se, exact)
        assert abs(p - closed) <= Z * se + abs(closed - exact) + 1e-4, (days, p, se, closed)
    # headroom: 10% to the call; the 20-day probability (about 0.18) crosses 0.1; headroom 10% is not < 5%
    assert report.book.loans["l"].headroom_call == pytest.approx(1.0 - barrier)
    assert [(a["loan"], a["rule"]) for a in report.alerts] == [("l", "p_call_20d>0.1")]
    data = report.to_dict()
    assert data["loans"]["l"]["p_call_20d"] == probabilities["p_call_20d"]
    assert data["as_of"] == "2026-02-02" and data["alerts"][0]["raised_at"] == report.computed_at.isoformat()


GAUGE = {**BOOK, "assets": {**BOOK["assets"], "index": {"kind": "public", "price": 1000.0, "volatility": 0.2, "adv": 1e9}},
         "correlation": [*BOOK["correlation"], ["index", "acme", 0.6]], "market_access": {"asset": "index", "max_drawdown": 0.35}}


def test_a_market_gauge_that_is_not_held():
    """An asset with a price and no value (a market gauge, as the built-in scenario's Nasdaq-100)
    is held by nobody: it takes price marks, leaves every pool as by hand (the numbers of
    `test_ltv_and_headroom_by_hand`), and starts today's simulation at its mark with no holding."""
    scenario = _scenario(GAUGE)
    as_of = dt.date(2026, 1, 16)
    marks = [Mark("acme", as_of, 80.0, "value"), Mark("beta", dt.date(2026, 1, 14), 40.0, "value"), Mark("index", as_of, 900.0)]
    book = book_today(scenario, marks, as_of)
    assert book.prices["index"] == 900.0
    loan = book.loans["l1"]
    assert loan.pool_value == pytest.approx(100.0) and loan.lending_value == pytest.approx(88.0)
    assert loan.ltv == pytest.approx(40.072 / 88.0, rel=1e-12)
    today, _notes = scenario_from_today(scenario, book, horizon_days=20)
    assert today.assets["index"].price == 900.0 and today.assets["index"].value is None
    assert today.assets["acme"].value == 80.0
    with pytest.raises(MarksError, match="holds no index: give its price"):
        book_today(scenario, [*marks, Mark("index", as_of, 9e5, "value")], as_of)
    report = daily_monitor(scenario, marks, as_of=as_of, paths=256, seed=3, rules=["headroom<10%"])
    data = report.to_dict()
    assert data["loans"]["l1"]["ltv"] == loan.ltv and 0.0 <= data["loans"]["l1"]["p_call_20d"] <= 1.0
    assert math.isfinite(data["loans"]["l1"]["p_default_20d"])


def test_the_built_in_scenario_with_its_gauge():
    """The built-in scenario's Nasdaq-100 (a price, no value) is marked by price; its loans'
    LTVs are those of the value marks of OpenAI and Arm."""
    scenario = margincall.load_scenario("softbank-openai")
    assert scenario.assets["nasdaq-100"].value is None
    as_of = dt.date(2026, 7, 15)
    marks = [Mark("openai", dt.date(2026, 7, 10), 90e9, "value"), Mark("arm", as_of, 380e9, "value"),
             Mark("nasdaq-100", as_of, 20_000.0)]
    book = book_today(scenario, marks, as_of)
    assert book.prices["nasdaq-100"] == 20_000.0
    for loan_id, loan in book.loans.items():
        assert loan.ltv is None or (math.isfinite(loan.ltv) and loan.ltv > 0.0), loan_id
    today, _notes = scenario_from_today(scenario, book, horizon_days=20)
    assert today.assets["nasdaq-100"].value is None and today.assets["nasdaq-100"].price == 20_000.0
    assert today.assets["arm"].value == 380e9


def test_an_open_call_keeps_its_deadline_in_the_simulation():
    """The short simulation starts from today's marks; an open call keeps its deadline there: an
    overdue call must be cured on day 1 (cure period 0), so with no cash to cure it the loan
    defaults on day 1 whenever the LTV is still at the call level, which it is on most paths."""
    marks = [Mark("acme", dt.date(2026, 1, 5), 100.0, "value"), Mark("beta", dt.date(2026, 1, 5), 40.0, "value"),
             Mark("acme", dt.date(2026, 1, 14), 50.0, "value"), Mark("acme", dt.date(2026, 1, 23), 52.0, "value")]
    as_of = dt.date(2026, 1, 23)
    data = {**BOOK, "borrower": {**BOOK["borrower"], "cash": 0.0, "response": []}}
    report = daily_monitor(_scenario(data), marks, as_of=as_of, paths=2048, seed=1)
    (call,) = report.calls
    assert call.loan == "l1" and call.overdue and call.ltv_today >= 0.6
    notes = [n for n in report.to_dict()["notes"] if n.startswith("l1:")]
    assert notes == ["l1: the call open since 2026-01-14 (cure by 2026-01-21, overdue) keeps its deadline: the simulation "
                     "calls it on day 1 with 0 trading days to cure (and so does any new call in the simulation)"]
    book = book_today(_scenario(data), marks, as_of)
    today, _ = scenario_from_today(_scenario(data), book, horizon_days=20, calls=report.calls)
    assert today.loans["l1"].cure_days == 0
    p1 = report.probabilities["l1"]["p_default_1d"]
    assert p1 > 0.5  # the LTV (about 0.66) stays at or above 0.6 on day 1 on most paths
    # with the full 5-day cure period, as before, no loan could default on day 1
    fresh, _ = scenario_from_today(_scenario(data), book, horizon_days=20)
    assert fresh.loans["l1"].cure_days == 5
    assert margincall.simulate(fresh, paths=2048, seed=1).loans["l1"].p_default_by_day[1] == 0.0


def test_a_call_with_days_left_keeps_them():
    """Called on Wednesday 14 January with 5 trading days to cure: due Wednesday 21 January. As of
    Friday 16 January, 3 trading days are left (Mon 19, Tue 20, Wed 21): called again on day 1
    (Monday), it has 2 more days to cure, to Wednesday."""
    marks = [Mark("acme", dt.date(2026, 1, 5), 100.0, "value"), Mark("beta", dt.date(2026, 1, 5), 40.0, "value"),
             Mark("acme", dt.date(2026, 1, 14), 50.0, "value")]
    as_of = dt.date(2026, 1, 16)
    (call,) = open_calls(_scenario(), marks, as_of)
    assert call.deadline == dt.date(2026, 1, 21) and not call.overdue
    today, notes = scenario_from_today(_scenario(), book_today(_scenario(), marks, as_of), horizon_days=20, calls=[call])
    assert today.loans["l1"].cure_days == 2
    assert any("keeps its deadline" in n and "2 trading days to cure" in n for n in notes)
