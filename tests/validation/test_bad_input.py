"""Bad scenario input: a `ScenarioError` whose problems name the field (with its line) and say
what is allowed; never another exception type."""

from __future__ import annotations

import re

import pytest

import margincall

# A valid scenario; each test breaks one thing in it. Line numbers are those of this text.
VALID = """\
name: bad-input
assets:
  s:
    kind: public
    value: 100.0
    volatility: 0.3
    adv: 1.0e9
  t:
    kind: public
    value: 50.0
    volatility: 0.2
    adv: 1.0e9
  u:
    kind: private
    value: 80.0
    volatility: 0.5
correlation: []
borrower:
  cash: 10.0
loans:
  l:
    principal: 40.0
    rate: 0.05
    term_days: 252
    collateral: {s: 1.0}
    margin_call_ltv: 0.6
    cure_ltv: 0.5
    cure_days: 5
    liquidation_ltv: 0.8
"""


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line of `text` containing `needle`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the text")


def replace_line(needle: str, new: str) -> str:
    lines = VALID.splitlines(keepends=True)
    index = line_of(VALID, needle) - 1
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines[index] = indent + new + "\n"
    return "".join(lines)


def add_line_after(needle: str, new: str) -> str:
    lines = VALID.splitlines(keepends=True)
    index = line_of(VALID, needle) - 1
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines.insert(index + 1, indent + new + "\n")
    return "".join(lines)


def problems_of(text: str) -> list[tuple[str, str]]:
    with pytest.raises(margincall.ScenarioError) as info:
        margincall.parse_scenario(text)
    error = info.value
    assert error.problems, "a ScenarioError lists its problems"
    message = str(error)
    for where, what in error.problems:  # the message shows every problem
        assert where in message and what in message
    assert "Traceback" not in message
    return error.problems


def only_problem(text: str) -> tuple[str, str]:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


def test_valid_base_parses():
    scenario = margincall.parse_scenario(VALID)
    assert scenario.loans["l"].margin_call_ltv == 0.6


def test_wrong_type():
    text = replace_line("volatility: 0.3", 'volatility: "abc"')
    where, what = only_problem(text)
    assert where == f"assets.s.volatility (line {line_of(text, 'abc')})"
    assert "valid number" in what and "'abc'" in what


def test_negative_volatility():
    text = replace_line("volatility: 0.3", "volatility: -0.2")
    where, what = only_problem(text)
    assert where == f"assets.s.volatility (line {line_of(text, '-0.2')})"
    assert "greater than or equal to 0" in what and "-0.2" in what


def test_negative_principal():
    text = replace_line("principal: 40.0", "principal: -40.0")
    where, what = only_problem(text)
    assert where.startswith("loans.l.principal (line ")
    assert "greater than" in what


def test_unknown_asset_in_collateral():
    text = replace_line("collateral: {s: 1.0}", "collateral: {zz: 1.0}")
    where, what = only_problem(text)
    assert where == f"loans.l.collateral.zz (line {line_of(text, 'zz')})"
    assert "'zz'" in what
    assert all(asset in what for asset in ("s", "t", "u")), "the message lists the known assets"


def test_unknown_asset_in_correlation():
    text = replace_line("correlation: []", "correlation: [[s, nope, 0.5]]")
    problems = problems_of(text)
    assert any(where.startswith("correlation.0.1") and "'nope'" in what for where, what in problems), problems


@pytest.mark.parametrize("cure", ["0.6", "0.7"])
def test_cure_not_below_call(cure):
    text = replace_line("cure_ltv: 0.5", f"cure_ltv: {cure}")
    where, what = only_problem(text)
    assert where == f"loans.l.cure_ltv (line {line_of(text, 'cure_ltv')})"
    assert "below margin_call_ltv" in what and "cure < call < liquidation" in what


@pytest.mark.parametrize("liquidation", ["0.6", "0.55"])
def test_liquidation_not_above_call(liquidation):
    text = replace_line("liquidation_ltv: 0.8", f"liquidation_ltv: {liquidation}")
    where, what = only_problem(text)
    assert where == f"loans.l.liquidation_ltv (line {line_of(text, 'liquidation_ltv')})"
    assert "above margin_call_ltv" in what and "cure < call < liquidation" in what


def test_correlation_not_positive_semidefinite():
    text = replace_line("correlation: []", "correlation: [[s, t, 0.9], [s, u, 0.9], [t, u, -0.9]]")
    where, what = only_problem(text)
    assert where == f"correlation (line {line_of(text, 'correlation')})"
    assert "positive semi-definite" in what
    assert re.search(r"eigenvalue -0\.8", what), what


def test_consistent_correlation_is_accepted():
    text = replace_line("correlation: []", "correlation: [[s, t, 0.9], [s, u, 0.9], [t, u, 0.9]]")
    assert margincall.parse_scenario(text).correlation_matrix()[1, 2] == 0.9


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (VALID.replace("collateral: {s: 1.0}", "collateral: {s: 1.0"), None),
        (VALID.replace("    value: 50.0", "   value: 50.0"), None),
        ("name: x\nassets: [1, 2\nborrower: {}\n", 3),
    ],
    ids=["unclosed-brace", "bad-indent", "unclosed-bracket"],
)
def test_yaml_syntax_error_names_the_line(text, line):
    where, what = only_problem(text)
    assert "YAML syntax error" in what
    match = re.fullmatch(r"line (\d+), column (\d+)", where)
    assert match, where
    if line is not None:
        assert int(match.group(1)) == line


def test_missing_required_field():
    text = VALID.replace("    principal: 40.0\n", "")
    where, what = only_problem(text)
    assert where.startswith("loans.l.principal (line ")
    assert "required" in what and "missing" in what


def test_missing_covenant_of_a_secured_loan():
    text = VALID.replace("    cure_days: 5\n", "")
    where, what = only_problem(text)
    assert where.startswith("loans.l.cure_days")
    assert "secured loan needs cure_days" in what


@pytest.mark.parametrize(
    ("needle", "new", "field"),
    [("cash: 10.0", "cahs: 10.0", "borrower.cahs"), ("volatility: 0.2", "volatilty: 0.2", "assets.t.volatilty")],
)
def test_unknown_field(needle, new, field):
    text = add_line_after(needle, new)
    where, what = only_problem(text)
    assert where == f"{field} (line {line_of(text, new.split(':')[0])})"
    assert "unknown field" in what
    assert "margincall schema" in what, "the message says where the allowed fields are listed"


def test_wrong_literal_lists_the_choices():
    text = replace_line("kind: private", "kind: secret")
    where, what = only_problem(text)
    assert where.startswith("assets.u.kind (line ")
    assert "'public'" in what and "'private'" in what


def test_not_a_mapping():
    where, what = only_problem("- just\n- a list\n")
    assert where == "top level"
    assert "mapping" in what


def test_several_problems_are_all_reported():
    text = replace_line("volatility: 0.3", "volatility: -1")
    text = text.replace("    principal: 40.0\n", "")
    problems = problems_of(text)
    fields = {where.split(" ")[0] for where, _ in problems}
    assert {"assets.s.volatility", "loans.l.principal"} <= fields


def test_load_scenario_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(replace_line("cure_ltv: 0.5", "cure_ltv: 0.9"), encoding="utf-8")
    with pytest.raises(margincall.ScenarioError) as info:
        margincall.load_scenario(path)
    assert str(path) in str(info.value)
    assert info.value.problems[0][0].startswith("loans.l.cure_ltv (line ")
    with pytest.raises(margincall.ScenarioError) as info:
        margincall.load_scenario(tmp_path / "missing.yaml")
    assert "not found" in str(info.value)
