"""Sweeps: spec parsing, the grid, common random numbers across points, the csv and json files."""

from __future__ import annotations

import csv
import json

import pytest

import margincall
from margincall.analysis.sweep import CSV_BORROWER_FIELDS, CSV_LOAN_FIELDS, parse_set, sweep, sweep_grid, write_sweep
from margincall.analysis.variants import with_values

PRINCIPAL = "loans.acme-loan.principal"
CALL = "loans.acme-loan.margin_call_ltv"
SETS = [f"{PRINCIPAL}=40:60:2", f"{CALL}=0.6,0.7"]
PATHS, SEED = 4096, 3


@pytest.fixture(scope="module")
def rows(single_stock):
    return sweep(single_stock, SETS, paths=PATHS, seed=SEED)


@pytest.mark.parametrize(
    ("spec", "path", "values"),
    [
        ("loans.x.principal=5e9:15e9:11", "loans.x.principal", tuple(float(v) * 1e9 for v in range(5, 16))),
        ("loans.x.margin_call_ltv=0.2,0.25,0.3", "loans.x.margin_call_ltv", (0.2, 0.25, 0.3)),
        ("borrower.cash = 1e9", "borrower.cash", (1e9,)),
        ("loans.x.cure_days=2:10:5", "loans.x.cure_days", (2, 4, 6, 8, 10)),
        ("loans.x.principal=7:7:1", "loans.x.principal", (7,)),
    ],
)
def test_parse_set(spec, path, values):
    parsed = parse_set(spec)
    assert parsed.path == path and parsed.values == values
    assert all(type(a) is type(b) for a, b in zip(parsed.values, values, strict=True))


def test_grid_is_the_cartesian_product_last_spec_fastest(single_stock):
    points = sweep_grid(single_stock, SETS)
    assert [values for values, _ in points] == [
        {PRINCIPAL: 40, CALL: 0.6},
        {PRINCIPAL: 40, CALL: 0.7},
        {PRINCIPAL: 60, CALL: 0.6},
        {PRINCIPAL: 60, CALL: 0.7},
    ]
    assert points[3][1].loans["acme-loan"].principal == 60 and points[3][1].loans["acme-loan"].margin_call_ltv == 0.7


def test_common_random_numbers_make_the_orderings_exact(rows):
    """With the same draws at every point, a loan with a larger principal (or a lower trigger) is
    called on every path on which the other is: P(call) is ordered exactly, not within noise."""
    p = {(r.values[PRINCIPAL], r.values[CALL]): r.loans["acme-loan"].p_margin_call for r in rows}
    for call in (0.6, 0.7):
        assert p[(40, call)] < p[(60, call)]
    for principal in (40, 60):
        assert p[(principal, 0.6)] > p[(principal, 0.7)]
    assert 0.0 < min(p.values()) and max(p.values()) < 1.0  # the grid is not degenerate


def test_each_row_is_the_simulation_of_its_variant(single_stock, rows):
    values = rows[2].values
    direct = margincall.simulate(with_values(single_stock, values), paths=PATHS, seed=SEED)
    assert rows[2].loans == direct.loans and rows[2].borrower == direct.borrower


def test_runner_and_progress(single_stock):
    calls, seen = [], []

    def runner(variant, *, paths, seed):
        calls.append((variant.loans["acme-loan"].principal, paths, seed))
        return margincall.simulate(variant, paths=paths, seed=seed)

    out = sweep(single_stock, [f"{PRINCIPAL}=45,55"], paths=1024, seed=11, runner=runner, progress=lambda d, n: seen.append((d, n)))
    assert [r.values for r in out] == [{PRINCIPAL: 45}, {PRINCIPAL: 55}]
    assert calls == [(45, 1024, 11), (55, 1024, 11)] and seen == [(1, 2), (2, 2)]


def test_csv_and_json(single_stock, rows, tmp_path):
    csv_path, json_path = write_sweep(rows, tmp_path / "out")
    assert (csv_path.name, json_path.name) == ("sweep.csv", "sweep.json")
    with csv_path.open(newline="") as handle:
        table = list(csv.reader(handle))
    header, body = table[0], table[1:]
    assert header == [
        PRINCIPAL, CALL,
        *(f"acme-loan.{name}" for name in CSV_LOAN_FIELDS),
        *(f"borrower.{name}" for name in CSV_BORROWER_FIELDS),
    ]
    assert len(body) == 4
    for line, row in zip(body, rows, strict=True):
        record = dict(zip(header, line, strict=True))
        assert float(record[PRINCIPAL]) == row.values[PRINCIPAL] and float(record[CALL]) == row.values[CALL]
        loan = row.loans["acme-loan"]
        for name in CSV_LOAN_FIELDS:
            assert float(record[f"acme-loan.{name}"]) == getattr(loan, name)  # full precision
        for name in CSV_BORROWER_FIELDS:
            assert float(record[f"borrower.{name}"]) == getattr(row.borrower, name)

    data = json.loads(json_path.read_text())
    assert isinstance(data, list) and len(data) == 4
    assert data == [row.to_dict() for row in rows]
    assert data[0]["values"] == {PRINCIPAL: 40, CALL: 0.6}
    result_json = margincall.simulate(single_stock, paths=1024, seed=1).to_dict()
    assert data[0]["loans"]["acme-loan"].keys() == result_json["loans"]["acme-loan"].keys()
    assert data[0]["borrower"].keys() == result_json["borrower"].keys()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("loans.nope.principal=5", "no field 'nope'"),
        ("loans.acme-loan.principl=5", "no field 'principl'"),
        ("loans.acme-loan.principal=abc", "'abc' is not a number"),
        ("loans.acme-loan.principal=1e9:2e9:0", "must be 1 or more"),
        ("loans.acme-loan.principal=1e9:2e9:x", "must be a whole number"),
        ("loans.acme-loan.principal=1e9:2e9", "START:STOP:COUNT with three parts"),
        ("loans.acme-loan.principal", "no '='"),
        ("loans.acme-loan.principal=", "no value"),
        ("loans.acme-loan.principal=1,,2", "a value is empty"),
        ("loans.acme-loan.principal=inf", "not a finite number"),
        ("loans.acme-loan.lender=3", "not a number; sweeps set numeric fields"),
        ("loans.acme-loan.recourse=1", "switch"),
    ],
)
def test_bad_specs_name_the_spec_and_the_fix(single_stock, spec, message):
    def runner(*_args, **_kwargs):
        raise AssertionError("nothing runs when a spec is bad")

    with pytest.raises(margincall.ScenarioError) as caught:
        sweep(single_stock, [spec], paths=1024, seed=0, runner=runner)
    text = str(caught.value)
    assert f"--set {spec}" in text and message in text


def test_invalid_points_fail_before_any_run(single_stock):
    def runner(*_args, **_kwargs):
        raise AssertionError("nothing runs when a point is invalid")

    with pytest.raises(margincall.ScenarioError) as caught:  # 0.95 is above liquidation_ltv 0.9
        sweep(single_stock, [f"{PRINCIPAL}=40,50", f"{CALL}=0.6,0.95"], paths=1024, seed=0, runner=runner)
    assert "margin_call_ltv=0.95" in str(caught.value) and "liquidation_ltv" in str(caught.value)
    with pytest.raises(margincall.ScenarioError, match="already swept"):
        sweep(single_stock, [f"{PRINCIPAL}=40", f"{PRINCIPAL}=50"], paths=1024, seed=0, runner=runner)
    with pytest.raises(margincall.ScenarioError, match="at least one --set"):
        sweep(single_stock, [], paths=1024, seed=0, runner=runner)
