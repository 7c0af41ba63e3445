"""The schema: defaults, derived values, and cross-field checks that name the field."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from pydantic import ValidationError

from margincall.model.scenario import Scenario, ScenarioProblems, scenario_problems

BASE = {
    "assets": {
        "acme": {"kind": "public", "value": 100.0, "volatility": 0.3, "adv": 5.0},
        "co": {"kind": "private", "value": 80.0, "volatility": 0.6},
    },
    "borrower": {"cash": 10.0},
    "loans": {
        "l": {
            "principal": 50.0,
            "rate": {"index": 0.0355, "spread": 0.0425},
            "term_days": 504,
            "extension_days": 252,
            "collateral": {"acme": 1.0},
            "margin_call_ltv": 0.625,
            "cure_ltv": 0.5,
            "cure_days": 2,
            "liquidation_ltv": 0.9,
        }
    },
}


def _scenario(**changes) -> Scenario:
    data = {**BASE, **changes}
    return Scenario.model_validate(data)


def test_defaults():
    s = _scenario()
    loan = s.loans["l"]
    assert s.horizon == 504 + 252  # longest term with its extension
    assert s.days_per_year == 252
    assert loan.annual_rate == pytest.approx(0.078)
    assert loan.accepted_haircuts == {"acme": 0.0}
    assert loan.lender is None and not loan.recourse and not loan.cross_default
    assert s.borrower.response == ["cash", "pledge", "sell"]
    assert s.assets["acme"].drift == 0.0 and s.assets["acme"].impact == 0.0
    assert scenario_problems(s) == []


def test_frozen():
    s = _scenario()
    with pytest.raises(Exception):
        s.days_per_year = 365  # type: ignore[misc]


def test_dates_count_business_days():
    s = _scenario(start_date=dt.date(2026, 7, 1))
    assert s.day_number(dt.date(2026, 7, 2)) == 1
    assert s.day_number(dt.date(2026, 7, 6)) == 3  # a weekend skipped
    assert s.day_number(10) == 10


def _problems(**changes) -> list[str]:
    """The cross-field problems that building the scenario raises (a `Scenario(...)` built in
    Python is checked like a file)."""
    try:
        scenario = _scenario(**changes)
    except ValidationError as exc:
        (error,) = exc.errors()
        found = error["ctx"]["error"]
        assert isinstance(found, ScenarioProblems)
        return [".".join(map(str, loc)) + ": " + msg for loc, msg in found.problems]
    assert scenario_problems(scenario) == []
    return []


def test_unknown_asset_named():
    loans = {"l": {**BASE["loans"]["l"], "collateral": {"acmee": 1.0}}}
    (problem,) = _problems(loans=loans)
    assert problem.startswith("loans.l.collateral.acmee") and "acme, co" in problem


def test_trigger_order():
    loans = {"l": {**BASE["loans"]["l"], "cure_ltv": 0.7}}
    (problem,) = _problems(loans=loans)
    assert problem.startswith("loans.l.cure_ltv") and "cure < call < liquidation" in problem


def test_secured_loan_needs_covenants_and_unsecured_has_none():
    secured = {k: v for k, v in BASE["loans"]["l"].items() if k != "cure_days"}
    assert any(p.startswith("loans.l.cure_days") for p in _problems(loans={"l": secured}))
    unsecured = {"principal": 5.0, "rate": 0.05, "term_days": 100, "cure_ltv": 0.3}
    assert any(p.startswith("loans.u.cure_ltv") for p in _problems(loans={"u": unsecured}))


def test_correlation_must_be_psd():
    assets = {**BASE["assets"], "third": {"kind": "public", "value": 1.0, "volatility": 0.2, "adv": 1.0}}
    corr = [["acme", "co", 0.9], ["acme", "third", 0.9], ["co", "third", -0.9]]
    problems = _problems(assets=assets, correlation=corr)
    assert problems and problems[0].startswith("correlation") and "positive semi-definite" in problems[0]
    ok = _scenario(assets=assets, correlation=[["acme", "co", 0.5]])
    assert np.allclose(ok.correlation_matrix()[0, 1], 0.5)


def test_public_asset_needs_adv_and_pledges_at_most_whole_holding():
    assets = {**BASE["assets"], "acme": {"kind": "public", "value": 1.0, "volatility": 0.2}}
    assert any(p.startswith("assets.acme.adv") for p in _problems(assets=assets))
    loans = {"l": BASE["loans"]["l"], "m": {**BASE["loans"]["l"], "collateral": {"acme": 0.5}}}
    assert any(p.startswith("assets.acme") and "at most 1" in p for p in _problems(loans=loans))


def test_dates_need_start_date():
    problems = _problems(borrower={"cash": 1.0, "cash_flows": [{"day": dt.date(2026, 10, 1), "amount": -1.0}]})
    assert problems and problems[0].startswith("borrower.cash_flows.0.day") and "start_date" in problems[0]
