"""Bad books: a loan whose borrower or lender does not exist, a holding of an unknown asset, units
below zero, two borrowers with the same id. From a file, `margincall check` exits with status 2 and
names the field and its line, without a traceback; a scenario built in Python raises the same
problem with the field's path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

import margincall
from margincall.model.scenario import Scenario, ScenarioProblems

BOOK = """\
name: two-holdcos
assets:
  acme: {kind: public, price: 10.0, volatility: 0.4, adv: 5.0e+8}
  co: {kind: private, price: 50.0, volatility: 0.6}
borrowers:
  alpha: {cash: 1.0e+8, holdings: {acme: 1.0e+8, co: 1.0e+6}}
  beta: {cash: 5.0e+7, holdings: {acme: 2.0e+7}}
lenders:
  bank: {participation: 0.2}
  fund: {method: block}
loans:
  a1: {borrower: alpha, lender: bank, principal: 3.0e+8, rate: 0.06, term_days: 252, collateral: {acme: 0.5}, margin_call_ltv: 0.6, cure_ltv: 0.5, cure_days: 2, liquidation_ltv: 0.8}
  b1: {borrower: beta, lender: fund, principal: 5.0e+7, rate: 0.07, term_days: 252, collateral: {acme: 1.0}, margin_call_ltv: 0.5, cure_ltv: 0.4, cure_days: 2, liquidation_ltv: 0.7}
"""

CASES = [
    ("unknown-borrower", ("borrower: beta, lender: fund", "borrower: gamma, lender: fund"),
     ["loans.b1.borrower (line 13)", "unknown borrower 'gamma'", "alpha, beta"]),
    ("unknown-lender", ("borrower: beta, lender: fund", "borrower: beta, lender: nobody"),
     ["loans.b1.lender (line 13)", "unknown lender 'nobody'", "bank, fund"]),
    ("unknown-asset-held", ("holdings: {acme: 2.0e+7}", "holdings: {acme: 2.0e+7, zzz: 5.0}"),
     ["borrowers.beta.holdings.zzz (line 7)", "unknown asset 'zzz'", "acme, co"]),
    ("negative-units", ("holdings: {acme: 2.0e+7}", "holdings: {acme: -2.0e+7}"),
     ["borrowers.beta.holdings.acme (line 7)", "greater than or equal to 0"]),
    ("duplicate-borrower", ("  beta: {cash", "  alpha: {cash"),
     ["borrowers.alpha (line 7)", "given twice", "lines 6 and 7"]),
]


def _check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "margincall.cli.main", "check", str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_the_valid_book_passes(tmp_path: Path) -> None:
    path = tmp_path / "book.yaml"
    path.write_text(BOOK, encoding="utf-8")
    done = _check(path)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("case", "edit", "needles"), CASES, ids=[c[0] for c in CASES])
def test_check_names_the_field_and_its_line(tmp_path: Path, case: str, edit: tuple[str, str], needles: list[str]) -> None:
    old, new = edit
    assert BOOK.count(old) == 1, case
    path = tmp_path / f"{case}.yaml"
    path.write_text(BOOK.replace(old, new), encoding="utf-8")
    done = _check(path)
    out = done.stdout + done.stderr
    assert done.returncode == 2, out
    assert "Traceback" not in out
    for needle in needles:
        assert needle in out, (needle, out)


def _book_data() -> dict[str, Any]:
    return yaml.safe_load(BOOK)


@pytest.mark.parametrize(
    ("where", "value", "field"),
    [
        (("loans", "b1", "borrower"), "gamma", "loans.b1.borrower"),
        (("loans", "b1", "lender"), "nobody", "loans.b1.lender"),
        (("borrowers", "beta", "holdings", "zzz"), 5.0, "borrowers.beta.holdings.zzz"),
    ],
)
def test_a_book_built_in_python_is_validated_like_a_file(where: tuple[str, ...], value: Any, field: str) -> None:
    data = _book_data()
    node = data
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    with pytest.raises(ValidationError) as raised:
        Scenario(**data)
    (error,) = raised.value.errors()
    found = error["ctx"]["error"]
    assert isinstance(found, ScenarioProblems)
    assert [".".join(map(str, loc)) for loc, _ in found.problems] == [field]


def test_negative_units_built_in_python_are_refused() -> None:
    data = _book_data()
    data["borrowers"]["beta"]["holdings"]["acme"] = -1.0
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        Scenario(**data)


def test_the_valid_book_loads() -> None:
    scenario = margincall.parse_scenario(BOOK)
    assert list(scenario.book().borrowers) == ["alpha", "beta"]
