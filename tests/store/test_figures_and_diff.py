"""Headline figures found generically in any result dict, and the value-by-value scenario diff."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from margincall.analysis.results import SimulationResult
from margincall.store import Figure, headline_figures, scenario_changes, se_figures


def test_se_figures_are_every_field_with_an_se_sibling() -> None:
    result = {
        "paths": 10,
        "loans": {"a": {"p_default": 0.1, "p_default_se": 0.01, "loss_var_99": 5.0, "ltv": {"p50": [1.0]}}},
        "borrower": {"p_cascade": 0.2, "p_cascade_se": 0.02, "p_cascade_by_day": [0.1]},
        "points": [{"x": {"p_default": 0.3, "p_default_se": 0.03}}],
        "odd": {"p_default": math.nan, "p_default_se": None},
    }
    assert se_figures(result) == [
        Figure(("loans", "a", "p_default"), 0.1, 0.01),
        Figure(("borrower", "p_cascade"), 0.2, 0.02),
        Figure(("points", "0", "x", "p_default"), 0.3, 0.03),
        Figure(("odd", "p_default"), None, None),
    ]


def test_headline_of_a_run(engine_result: SimulationResult) -> None:
    figures = headline_figures(engine_result.to_dict())
    first = next(iter(engine_result.loans))
    loan = engine_result.loans[first]
    borrower_id, borrower = next(iter(engine_result.borrowers.items()))
    assert figures == [
        Figure(("loans", first, "p_margin_call"), loan.p_margin_call, loan.p_margin_call_se),
        Figure(("loans", first, "p_default"), loan.p_default, loan.p_default_se),
        Figure(("borrowers", borrower_id, "p_default"), borrower.p_default, borrower.p_default_se),
    ]
    assert [f.label for f in figures] == [f"{first} P(call)", f"{first} P(default)", f"{borrower_id} P(default)"]


def test_shorthand_entity_is_listed_once() -> None:
    """The one-borrower shorthand `borrower` repeats `borrowers.<id>`: its figures appear once."""
    entity = {"p_default": 0.2, "p_default_se": 0.02, "by": {"a": 0.1}, "by_se": {"a": 0.01}}
    result = {"borrowers": {"b": dict(entity)}, "borrower": dict(entity)}
    assert [f.path for f in se_figures(result)] == [("borrowers", "b", "p_default"), ("borrowers", "b", "by", "a")]
    assert [f.path for f in headline_figures(result)] == [("borrowers", "b", "p_default")]
    other = {"borrowers": {"b": dict(entity)}, "borrower": {**entity, "p_default": 0.3}}  # not a repeat: both listed
    assert len(se_figures(other)) == 4


def test_headline_is_generic_over_new_result_fields() -> None:
    """A book's per-borrower, per-lender and system results need no change to headline_figures."""
    def entity(p: float) -> dict:
        return {"p_default": p, "p_default_se": 0.01, "p_margin_call": p / 2, "p_margin_call_se": 0.01, "other": 1.0}

    result = {
        "scenario": "book",
        "loans": {"l1": entity(0.1), "l2": entity(0.2)},
        "borrowers": {"b1": {"p_default": 0.3, "p_default_se": 0.03}, "b2": {"p_default": 0.4, "p_default_se": 0.04}},
        "lenders": {"bank": {"p_loss": 0.5, "p_loss_se": 0.05}},
        "borrower": {"p_default": 0.3, "p_default_se": 0.03},  # a one-borrower result's alias of borrowers.b1: not repeated
        "system": {"p_default": 0.6, "p_default_se": 0.06},
    }
    assert [f.path for f in headline_figures(result)] == [  # `borrower` repeats borrowers.b1: listed once
        ("loans", "l1", "p_margin_call"), ("loans", "l1", "p_default"), ("borrowers", "b1", "p_default"),
        ("system", "p_default"),
    ]
    stress_like = {"base": {"loans": {"l1": entity(0.1)}, "borrower": {"p_default": 0.3, "p_default_se": 0.03}},
                   "s1": {"loans": {"l1": entity(0.9)}, "borrower": {"p_default": 0.9, "p_default_se": 0.03}, "stress": {}}}
    assert [f.value for f in headline_figures(stress_like)] == [0.05, 0.1, 0.3]  # the first of alike entries: base


def test_figure_round_trip() -> None:
    figure = Figure(("loans", "a.b", "p_default"), 0.25, 0.01)
    assert Figure.from_dict(figure.to_dict()) == figure
    assert Figure.from_dict({"path": ["x"], "value": "text", "se": True}) == Figure(("x",), None, None)


BASE = """\
name: s
horizon_days: 252   # a year
assets:
  acme: {kind: public, value: 100.0, volatility: 0.3, adv: 5.0}
borrower: {cash: 10.0, response: [cash, sell]}
shocks:
  - {day: 0, asset: acme, change: -0.4}
loans:
  l: {principal: 50.0, rate: 0.06, term_days: 504}
"""


def test_scenario_changes_value_by_value() -> None:
    changed = (BASE.replace("principal: 50.0", "principal: 60.0").replace("change: -0.4", "change: -0.5")
               .replace("response: [cash, sell]", "response: [cash]").replace("horizon_days: 252   # a year", "start_date: 2026-01-05")
               + "  m: {principal: 1.0, rate: 0.05, term_days: 10}\n")
    texts = [c.text() for c in scenario_changes(BASE, changed)]
    assert texts == [
        "horizon_days: 252 → —",
        "borrower.response: [cash, sell] → [cash]",
        "shocks.0.change: -0.4 → -0.5",
        "loans.l.principal: 50.0 → 60.0",
        "loans.m: — → {principal: 1.0, rate: 0.05, term_days: 10}",
        "start_date: — → 2026-01-05",
    ]
    kinds = [c.kind for c in scenario_changes(BASE, changed)]
    assert kinds == ["removed", "changed", "changed", "changed", "added", "added"]
    assert scenario_changes(BASE, changed)[-1].new == dt.date(2026, 1, 5)


def test_layout_and_comments_are_no_change() -> None:
    reordered = BASE.replace("   # a year", "  # one year of trading days").replace("{cash: 10.0, response: [cash, sell]}",
                                                                                  "\n  cash: 10.0\n  response: [cash, sell]")
    assert scenario_changes(BASE, reordered) == []
    assert scenario_changes("a: .nan\n", "a: .nan\n") == []
    assert [c.text() for c in scenario_changes("a: true\n", "a: 1\n")] == ["a: true → 1"]


def test_unreadable_scenario_text() -> None:
    with pytest.raises(ValueError, match="cannot be read as YAML"):
        scenario_changes(BASE, "a: [1\n")
