"""The bounds: defaults, overrides by environment variable, and messages that name the bound and its variable."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from margincall.model.limits import BOUNDS, LimitError, Limits, bound, limits, markdown_table

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_without_environment() -> None:
    got = limits({})
    assert got == Limits.defaults()
    assert got.file_bytes == 10_000_000 and got.horizon_days == 100 * 252 and got.paths == 1_000_000_000


def test_every_bound_is_overridden_by_its_variable() -> None:
    for b in BOUNDS:
        value = "7" if b.integral else "2.5"
        got = getattr(limits({b.env: value}), b.name)
        assert got == (7 if b.integral else 2.5), b.env
        others = {f.name: getattr(Limits.defaults(), f.name) for f in dataclasses.fields(Limits) if f.name != b.name}
        assert {k: getattr(limits({b.env: value}), k) for k in others} == others


@pytest.mark.parametrize("raw, expected", [("2e9", 2_000_000_000), ("2_000_000_000", 2_000_000_000), (" 5 ", 5), ("", 1_000_000_000)])
def test_overrides_accept_number_forms(raw: str, expected: int) -> None:
    assert limits({"MARGINCALL_MAX_PATHS": raw}).paths == expected


@pytest.mark.parametrize("raw", ["abc", "-5", "0", "1.5", "nan", "inf", "1e400"])
def test_a_bad_override_names_the_variable(raw: str) -> None:
    with pytest.raises(LimitError, match="MARGINCALL_MAX_PATHS") as info:
        limits({"MARGINCALL_MAX_PATHS": raw})
    assert "default of 1,000,000,000 paths per run" in str(info.value)


def test_the_environment_is_read_on_each_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARGINCALL_MAX_SWEEP_POINTS", "3")
    assert limits().sweep_points == 3
    monkeypatch.delenv("MARGINCALL_MAX_SWEEP_POINTS")
    assert limits().sweep_points == 10_000


def test_check_message_names_the_subject_the_bound_and_how_to_raise_it() -> None:
    with pytest.raises(LimitError) as info:
        limits({}).check("paths", 10**20, subject="--paths")
    message = str(info.value)
    assert message.startswith("--paths is 100,000,000,000,000,000,000, above the bound of 1,000,000,000 paths per run")
    assert "MARGINCALL_MAX_PATHS=100000000000000000000" in message
    assert info.value.bound is bound("paths") and info.value.value == 10**20
    limits({}).check("paths", 1_000_000_000)  # at the bound: allowed


def test_float_bounds_are_shown_plainly() -> None:
    message = limits({}).problem("amount", 1e308, "loans.x.principal")
    assert message is not None and "1e+308" in message and "1,000,000,000,000,000 currency units" in message


def test_unknown_bound_lists_the_bounds() -> None:
    with pytest.raises(KeyError, match="paths"):
        bound("nope")


@pytest.mark.parametrize("document", ["README.md", "docs/reliability.md"])
def test_documents_list_every_bound_with_its_override(document: str) -> None:
    """The README and docs/reliability.md carry the table that `markdown_table()` gives."""
    text = (ROOT / document).read_text(encoding="utf-8")
    assert markdown_table() in text, f"{document}: paste margincall.model.limits.markdown_table() into it"


def _scenario_data(assets: int = 1, loans: int = 1, flows: int = 0, shocks: int = 0, loan_id: str = "l0") -> dict:
    return {
        "assets": {f"a{i}": {"kind": "public", "value": 1.0, "volatility": 0.1, "adv": 1.0} for i in range(assets)},
        "shocks": [{"day": 1, "asset": "a0", "change": -0.01}] * shocks,
        "borrower": {"cash": 1.0, "cash_flows": [{"day": 1, "amount": -0.001}] * flows},
        "loans": {(loan_id if i == 0 else f"l{i}"): {"principal": 1.0, "rate": 0.05, "term_days": 100} for i in range(loans)},
    }


@pytest.mark.parametrize(
    ("shape", "env", "where"),
    [
        ({"assets": 4}, "MARGINCALL_MAX_ASSETS", "assets"),
        ({"loans": 4}, "MARGINCALL_MAX_LOANS", "loans"),
        ({"flows": 4}, "MARGINCALL_MAX_CASH_FLOWS", "borrower.cash_flows"),
        ({"shocks": 4}, "MARGINCALL_MAX_SHOCKS", "shocks"),
        ({"loan_id": "l" * 4}, "MARGINCALL_MAX_NAME_CHARS", "loans.llll"),
    ],
)
def test_scenario_built_in_python_obeys_the_count_bounds(monkeypatch: pytest.MonkeyPatch, shape: dict, env: str, where: str) -> None:
    """`Scenario(...)` goes through the same bounds as a file: one more than the bound is refused
    before the fields are validated, naming the bound's variable; the variable raises it."""
    from margincall.model.scenario import Scenario, ScenarioProblems

    data = _scenario_data(**shape)
    monkeypatch.setenv(env, "3")
    with pytest.raises(ValueError) as caught:
        Scenario.model_validate(data)
    found = caught.value.errors()[0]["ctx"]["error"]  # type: ignore[attr-defined]
    assert isinstance(found, ScenarioProblems)
    ((loc, message),) = found.problems
    assert ".".join(map(str, loc)) == where and "above the bound of 3" in message and f"{env}=4" in message
    monkeypatch.setenv(env, "4")
    Scenario.model_validate(data)


def test_count_bounds_are_checked_before_the_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    """Too many cash flows, each of them invalid as well: only the bound is reported."""
    from margincall.model.problems import bound_problems

    monkeypatch.setenv("MARGINCALL_MAX_CASH_FLOWS", "2")
    data = _scenario_data()
    data["borrower"]["cash_flows"] = ["not a cash flow"] * 3
    ((loc, message),) = bound_problems(data)
    assert loc == ("borrower", "cash_flows") and "MARGINCALL_MAX_CASH_FLOWS=3" in message


def test_the_horizon_and_amount_bounds_are_raised_by_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lengths in days and amounts of money are bounded in the schema by the bounds in force:
    beyond them a value is refused naming the variable; the variable lets it through. A signed
    amount (a cash flow) is bounded on both sides."""
    from pydantic import ValidationError

    from margincall.model.scenario import Scenario

    data = _scenario_data()
    data["horizon_days"] = 30_000
    data["assets"]["a0"]["value"] = 2e15
    data["borrower"]["cash_flows"] = [{"day": 5, "amount": -3e15}]
    with pytest.raises(ValidationError) as caught:
        Scenario.model_validate(data)
    messages = {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()}
    assert "MARGINCALL_MAX_HORIZON_DAYS=30000" in messages["horizon_days"]
    assert "above the bound of 25,200 trading days" in messages["horizon_days"]
    assert "MARGINCALL_MAX_AMOUNT=2000000000000000" in messages["assets.a0.value"]
    assert "MARGINCALL_MAX_AMOUNT=3000000000000000" in messages["borrower.cash_flows.0.amount"]
    monkeypatch.setenv("MARGINCALL_MAX_HORIZON_DAYS", "30000")
    monkeypatch.setenv("MARGINCALL_MAX_AMOUNT", "3e15")
    scenario = Scenario.model_validate(data)
    assert scenario.horizon == 30_000 and scenario.borrower.cash_flows[0].amount == -3e15
    schema = Scenario.model_json_schema()  # the schema states the defaults
    assert {"maximum": 25_200, "minimum": 1, "type": "integer"} in schema["properties"]["horizon_days"]["anyOf"]


@pytest.mark.parametrize(
    ("key", "env", "entries"),
    [
        ("borrowers", "MARGINCALL_MAX_BORROWERS", {f"b{i}": {"cash": 1.0} for i in range(4)}),
        ("lenders", "MARGINCALL_MAX_LENDERS", {f"k{i}": {} for i in range(4)}),
        ("correlation", "MARGINCALL_MAX_CORRELATIONS", [["a0", "a0", 0.5]] * 4),
    ],
)
def test_the_other_count_bounds(monkeypatch: pytest.MonkeyPatch, key: str, env: str, entries: object) -> None:
    from margincall.model.problems import bound_problems

    data = {**_scenario_data(), key: entries}
    monkeypatch.setenv(env, "3")
    ((loc, message),) = bound_problems(data)
    assert loc == (key,) and f"{env}=4" in message
    monkeypatch.setenv(env, "4")
    assert bound_problems(data) == []


def test_a_loans_lender_and_borrower_labels_are_ids_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the shorthand a loan's lender label becomes a lender's id: its length is bounded like one."""
    from margincall.model.problems import bound_problems

    data = _scenario_data()
    data["loans"]["l0"]["lender"] = "x" * 201
    data["loans"]["l0"]["borrower"] = "y" * 300
    problems = dict(bound_problems(data))
    assert "MARGINCALL_MAX_NAME_CHARS=201" in problems[("loans", "l0", "lender")]
    assert "MARGINCALL_MAX_NAME_CHARS=300" in problems[("loans", "l0", "borrower")]
    monkeypatch.setenv("MARGINCALL_MAX_NAME_CHARS", "300")
    assert bound_problems(data) == []
