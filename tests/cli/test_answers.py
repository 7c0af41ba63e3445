"""`margincall stress`, `reverse`, `size`, `sensitivities`, `debt-service` and `calibrate`, run
in-process through the app (the kernels stay compiled between commands)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

import margincall
from margincall.cli.main import app

runner = CliRunner()


def _run(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def _ok(*args: str):
    result = _run(*args)
    assert result.exit_code == 0, result.output
    return result


def _error(*args: str) -> str:
    result = _run(*args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return " ".join(result.output.split())  # rich wraps long lines


@pytest.fixture(scope="module")
def single(data_dir) -> str:
    return str(data_dir / "single-stock.yaml")


def test_stress_list():
    out = _ok("stress", "--list").stdout
    assert "S1" in out and "s10-pledge-spiral" in out


def test_stress_writes_json_and_report(single, tmp_path):
    result = _ok("stress", single, "--stress", "S1", "--stress", "s09-archegos-forced-liquidation", "-n", "1500", "-s", "4", "-o", str(tmp_path))
    assert "Named stresses" in result.stdout and "borrower" in result.stdout and "P(cascade)" in result.stdout
    data = json.loads((tmp_path / "stress.json").read_text())
    assert list(data) == ["base", "s01-openai-stripe-down-round", "s09-archegos-forced-liquidation"]
    for entry in data.values():
        assert {"loans", "borrower"} <= set(entry) and entry["paths"] == 1500 and entry["seed"] == 4
        assert "acme-loan" in entry["loans"] and "liquidity_at_risk_95" in entry["borrower"]
    assert data["s09-archegos-forced-liquidation"]["loans"]["acme-loan"]["p_margin_call"] >= data["base"]["loans"]["acme-loan"]["p_margin_call"]
    html = (tmp_path / "report.html").read_text()
    assert "<h2>Stresses</h2>" in html and "s09-archegos-forced-liquidation" in html and "base case (no stress)" in html
    assert (tmp_path / "report.html").stat().st_size < 2_000_000


def test_stress_errors(single, tmp_path):
    message = _error("stress", single, "--stress", "S8", "-n", "100")
    assert "s08-ai-capex-scare" in message and "acme (public)" in message
    assert "no built-in stress 'nope'" in _error("stress", single, "--stress", "nope")
    custom = tmp_path / "mine.yaml"
    custom.write_text("name: mine\nshocks:\n  - {asset: acme, change: -0.1, over_days: 3}\n")
    _ok("stress", single, "--stress", str(custom), "-n", "500", "-o", str(tmp_path / "o"))
    assert "mine" in json.loads((tmp_path / "o" / "stress.json").read_text())


def test_reverse_deterministic_call(tmp_path):
    result = _ok("reverse", "--asset", "openai", "--target", "call", "-o", str(tmp_path))
    scenario = margincall.default_scenario()
    loan = scenario.loans["openai-margin-loan"]
    expected = loan.principal * (1 + loan.annual_rate / 252) / (loan.margin_call_ltv * scenario.assets["openai"].value) - 1
    data = json.loads((tmp_path / "reverse.json").read_text())
    # found by bisection of the deterministic simulation to its tolerance: the shock returned calls the
    # loan, the milder end of the band does not, and the analytic day-1 crossing lies between them
    assert data["target"] == "openai-margin-loan.call" and data["checked_by_simulation"] is True
    assert data["shock"] <= expected + 1e-12 and expected <= data["high"] + 1e-12
    assert data["high"] - data["shock"] <= 1e-6 + 1e-12
    assert f"{100 * data['shock']:+.6f}%" in result.stdout.replace("−", "-") and "it triggers the margin call" in result.stdout


@pytest.mark.slow
def test_reverse_stochastic(single, tmp_path):
    result = _ok("reverse", single, "--asset", "acme", "--target", "p_default>=0.6", "-n", "1500", "--range", "-0.9", "0", "-o", str(tmp_path))
    data = json.loads((tmp_path / "reverse.json").read_text())
    assert data["low"] <= data["shock"] <= data["high"] < 0
    assert data["target"] == "acme-loan.p_default>=0.6" and data["metric"] >= 0.6
    assert "smallest shock" in result.stdout and "events at that point" in result.stdout
    assert "p_default" in result.stderr  # one progress line per evaluation


def test_reverse_errors(single):
    assert "unknown metric 'p_call'" in _error("reverse", single, "--asset", "acme", "--target", "p_call<0.01")
    assert "zzz" in _error("reverse", single, "--asset", "zzz", "--target", "p_default>=0.1")
    unknown = _error("reverse", single, "--asset", "acme", "--target", "nope.p_default>=0.1")
    assert "unknown 'nope'" in unknown and "loans: acme-loan" in unknown
    message = _error("reverse", single, "--asset", "co", "--target", "p_margin_call>=0.99", "-n", "300")
    assert "no shock in" in message and "at +0.00%" in message and "at -100.00%" in message


@pytest.mark.slow
def test_size_principal(single, tmp_path):
    result = _ok("size", single, "--loan", "acme-loan", "--max", "p_margin_call<=0.1", "-n", "1500", "-o", str(tmp_path))
    data = json.loads((tmp_path / "size.json").read_text())
    assert data["low"] <= data["principal"] <= data["high"] and data["metric"] <= 0.1
    assert len(data["curve"]) >= 5 and {"x", "metric", "se", "met"} <= set(data["curve"][0])
    assert "largest principal" in result.stdout


@pytest.mark.slow
def test_size_trigger_and_errors(single, tmp_path):
    _ok("size", single, "--field", "loans.acme-loan.margin_call_ltv", "--max", "p_default<=0.5", "-n", "800", "-o", str(tmp_path))
    data = json.loads((tmp_path / "size.json").read_text())
    assert data["field"] == "loans.acme-loan.margin_call_ltv" and 0.5 < data["value"] < 0.9
    message = _error("size", single, "--loan", "acme-loan", "--max", "p_margin_call<=0.0001", "--range", "40", "60", "-n", "300")
    assert "no value of loans.acme-loan.principal in [40, 60]" in message and "at 60" in message and "at 40" in message
    assert "unknown loan 'zz'" in _error("size", single, "--loan", "zz", "--max", "p_margin_call<=0.1")
    assert "give --loan" in _error("size", single, "--max", "p_margin_call<=0.1")
    assert "unknown metric" in _error("size", single, "--loan", "acme-loan", "--max", "p_call<0.01")


def test_sensitivities_and_debt_service(single, tmp_path):
    result = _ok("sensitivities", single, "--only", "trigger", "--only", "volatility", "-n", "1024", "--seed", "3",
                 "--metric", "acme-loan.p_margin_call", "-o", str(tmp_path))
    assert "Sensitivities of acme-loan P(margin call)" in result.stdout and "Debt service" in result.stdout
    data = json.loads((tmp_path / "sensitivities.json").read_text())
    assert {r["kind"] for r in data["sensitivities"]} == {"trigger", "volatility"}
    assert data["paths"] == 1024 and data["seed"] == 3
    assert data["debt_service"][0]["who"] == "acme-loan"
    # one table, ranked by the metric: its first row is the bump with the largest swing
    rows = sorted((r for r in data["sensitivities"] if r["metric"] == "acme-loan.p_margin_call"), key=lambda r: -r["swing"])
    first = next(line for line in result.stdout.splitlines() if re.match(r"│\s+1 │", line))
    assert rows[0]["bump"] in first
    assert result.stdout.count("Sensitivities of") == 1
    assert (tmp_path / "sensitivities.html").stat().st_size < 2_000_000
    assert "unknown kind" in _error("sensitivities", single, "--only", "vega")
    from margincall.analysis.sensitivities import DEFAULT_PATHS

    assert f"default {DEFAULT_PATHS:,};" in re.sub(r"[│\s]+", " ", _ok("sensitivities", "--help").stdout)
    assert "not a metric" in _error("sensitivities", single, "--only", "volatility", "-n", "1024", "--metric", "acme-loan.p_call")
    debt = _ok("debt-service", single, "--paths", "5000", "--seed", "2", "--out", str(tmp_path / "debt"))
    assert "breakeven" in debt.stdout
    written = json.loads((tmp_path / "debt" / "debt-service.json").read_text())
    assert written["draws"] == 5000 and written["seed"] == 2 and written["debt_service"][0]["who"] == "acme-loan"


def test_calibrate(tmp_path):
    rng = np.random.default_rng(3)
    n = 600
    days = np.busday_offset(np.datetime64("2020-01-01"), np.arange(n), roll="forward")
    x = 100 * np.exp(np.cumsum(0.015 * rng.standard_normal(n)))
    y = 30 * np.exp(np.cumsum(0.02 * rng.standard_normal(n)))
    csv = tmp_path / "prices.csv"
    csv.write_text("Date,x,y\n" + "".join(f"{d},{a:.6f},{b:.6f}\n" for d, a, b in zip(days, x, y)))
    result = _ok("calibrate", str(csv), "-o", str(tmp_path / "out"))
    assert "assets:" in result.stdout and "correlation:" in result.stdout
    data = json.loads((tmp_path / "out" / "calibration.json").read_text())
    assert set(data["assets"]) == {"x", "y"}
    assert {"volatility", "drift", "jumps"} <= set(data["assets"]["x"])
    assert data["correlation"][0][:2] == ["x", "y"]
    assert (tmp_path / "out" / "calibration.yaml").read_text().startswith("# calibrated from")
    bad = tmp_path / "bad.csv"
    bad.write_text("date,x\n2020-01-01,1\n2020-01-02,oops\n")
    assert "'oops' is not a number" in _error("calibrate", str(bad))
    assert "not a date" in _error("calibrate", str(csv), "--start", "yesterday")


def test_calibrate_chooses_price_columns_and_says_what_it_skipped(tmp_path):
    rng = np.random.default_rng(4)
    n = 300
    days = np.busday_offset(np.datetime64("2020-01-01"), np.arange(n), roll="forward")
    a = 100 * np.exp(np.cumsum(0.015 * rng.standard_normal(n)))
    b = 30 * np.exp(np.cumsum(0.02 * rng.standard_normal(n)))
    csv = tmp_path / "ohlcv.csv"
    csv.write_text("Date,A Close,A Volume,A High,B Close,B Volume\n" + "".join(
        f"{d},{x:.6f},{int(1e6 * (1 + k % 7))},{x * 1.01:.6f},{y:.6f},{int(2e6)}\n" for k, (d, x, y) in enumerate(zip(days, a, b))))
    auto = _ok("calibrate", str(csv), "-o", str(tmp_path / "auto"))
    assert "price columns: A Close, B Close" in auto.stdout
    for name in ("A Volume", "A High", "B Volume"):
        assert f"skipped '{name}'" in auto.stdout
    data = json.loads((tmp_path / "auto" / "calibration.json").read_text())
    assert set(data["assets"]) == {"A Close", "B Close"} and set(data["skipped_columns"]) == {"A Volume", "A High", "B Volume"}
    told = _ok("calibrate", str(csv), "--columns", "A High,B Close")
    assert "price columns: A High, B Close" in told.stdout and "skipped" not in told.stdout
    assert "no column 'C'" in _error("calibrate", str(csv), "--columns", "A Close,C")


def test_sensitivities_of_a_book_rank_by_the_systems_default_and_check_the_metric_first(data_dir):
    book = str(data_dir.parent / "report" / "data" / "book.yaml")
    result = _ok("sensitivities", book, "--only", "volatility", "-n", "1024", "--no-store")
    assert "Sensitivities of system P(any borrower defaults)" in " ".join(result.stdout.split())
    # a metric that the scenario lacks is refused before any simulation runs (none done on the bar)
    message = _error("sensitivities", book, "--only", "volatility", "-n", "1024", "--metric", "borrower.p_default", "--no-store")
    assert "not a metric of this scenario" in message and "system.p_any_default" in message and "alpha.p_default" in message
    assert "simulations" not in message or " 0/? " in message
