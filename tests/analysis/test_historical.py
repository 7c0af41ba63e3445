"""The `historical` market model: a block bootstrap of the daily log returns in a prices CSV.

A path replays blocks of `block_days` consecutive rows of returns, each block starting at a row
drawn uniformly from 0 .. T - block_days; drift, volatility and correlation are ignored.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import margincall
from margincall.analysis.history import history_returns
from margincall.analysis.simulate import run_statistics
from margincall.engine.outputs import AB_EQUITY, Amounts
from margincall.engine.lower import lower
from margincall.errors import ScenarioError, SimulationError


def write_prices(path: Path, log_returns: np.ndarray, names: list[str], start: float = 100.0) -> Path:
    """A prices CSV whose consecutive rows have exactly (to rounding) these daily log returns."""
    r = np.asarray(log_returns, dtype=float).reshape(len(log_returns), -1)
    levels = start * np.exp(np.vstack([np.zeros((1, r.shape[1])), np.cumsum(r, axis=0)]))
    dates = np.busday_offset(np.datetime64("2020-01-01"), np.arange(levels.shape[0]), roll="forward")
    lines = ["date," + ",".join(names)]
    lines += [f"{d}," + ",".join(repr(float(x)) for x in row) for d, row in zip(dates, levels)]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_scenario(folder: Path, text: str) -> Path:
    path = folder / "scenario.yaml"
    path.write_text(text)
    return path


LOAN = """
loans:
  loan:
    principal: {principal}
    rate: 0.0
    term_days: {term}
    collateral: {{{asset}: 1.0}}
    margin_call_ltv: {call}
    cure_ltv: 0.3
    cure_days: 10
    liquidation_ltv: 0.999
"""


# -- (a) deterministic: a constant daily return moves every path the same -----------------------


def test_constant_return_calls_every_path_on_the_predicted_day(tmp_path: Path):
    r = -0.01
    write_prices(tmp_path / "prices.csv", np.full(39, r), ["acme"])
    # drift and volatility are ignored under the historical model: wild values change nothing
    path = write_scenario(
        tmp_path,
        """
horizon_days: 30
market: {model: historical, prices: prices.csv, block_days: 5}
assets:
  acme: {kind: public, value: 100.0, volatility: 0.9, drift: 0.5, adv: 1.0e12}
borrower: {cash: 0.0}
"""
        + LOAN.format(principal=50.0, term=30, asset="acme", call=0.6),
    )
    scenario = margincall.load_scenario(path)
    assert Path(scenario.market.prices).is_absolute()
    # LTV = 50 / (100 e^{r t}) >= 0.6  <=>  t >= ln(100 * 0.6 / 50) / 0.01 = 18.23  ->  day 19
    call_day = math.ceil(math.log(100.0 * 0.6 / 50.0) / -r)
    assert call_day == 19
    result = margincall.simulate(scenario, paths=2048, seed=5)
    loan = result.loans["loan"]
    assert loan.p_margin_call == 1.0
    assert set(loan.first_call_day.values()) == {float(call_day)}
    # day 10's LTV is 0.5 / e^{-0.1} on every path (fan charts: ~1-2% bins)
    day10 = result.loans["loan"].ltv_quantiles
    k = day10["days"].index(10) if "days" in day10 else 10
    for key in ("p5", "p50", "p95"):
        assert day10[key][k] == pytest.approx(0.5 * math.exp(0.1), rel=0.02)
    events = margincall.trace(scenario, paths=3, seed=5)
    first_calls = {e.path: e.day for e in reversed(events) if e.event == "call"}
    assert first_calls == {0: call_day, 1: call_day, 2: call_day}

    # antithetic pairs: the odd path replays its partner's returns negated (+1% a day): never called
    paired = margincall.simulate(scenario, paths=2048, seed=5, antithetic=True).loans["loan"]
    assert paired.p_margin_call == 0.5


# -- (b) the bootstrap draws from the data -------------------------------------------------------


def test_daily_draws_are_uniform_over_the_returns(tmp_path: Path):
    up, down = 0.02, -0.03
    rng = np.random.default_rng(11)
    returns = rng.permutation(np.r_[np.full(70, up), np.full(30, down)])
    write_prices(tmp_path / "prices.csv", returns, ["acme"])
    horizon, value0, principal = 50, 100.0, 1.0
    path = write_scenario(
        tmp_path,
        f"""
horizon_days: {horizon}
market: {{model: historical, prices: prices.csv, block_days: 1}}
assets:
  acme: {{kind: public, value: {value0}, volatility: 0.3, adv: 1.0e12}}
borrower: {{cash: 0.0}}
loans:
  bond: {{principal: {principal}, rate: 0.0, term_days: 1000}}
""",
    )
    scenario = margincall.load_scenario(path)
    replayed = history_returns(scenario)
    assert replayed.shape == (100, 1)
    assert np.allclose(replayed[:, 0], returns, atol=1e-12)
    paths = 20_000
    stats = run_statistics(lower(scenario, history=replayed), paths=paths, seed=3)
    equity = Amounts(len(scenario.loans), 1, len(scenario.book().lenders)).borrowers + AB_EQUITY
    total = stats.blocks["sums"][:, equity].sum()
    total_sq = stats.blocks["squares"][:, equity].sum()
    # equity at the horizon = V_H - principal; with one-day blocks the H daily returns are drawn
    # independently and uniformly from the rows, so E[V_H] = V0 (mean e^r)^H exactly
    value_mean = total / paths + principal
    value_sq = (total_sq + 2 * principal * total + paths * principal**2) / paths  # (E + P)^2
    value_var = value_sq - value_mean**2
    m1 = np.mean(np.exp(returns))
    m2 = np.mean(np.exp(2 * returns))
    expected = value0 * m1**horizon
    se = math.sqrt(value_var / paths)
    assert abs(value_mean - expected) < 4 * se, (value_mean, expected, se)
    # and the dispersion is that of independent draws (a 10% bound: the sample variance's
    # relative standard error is about 1% here)
    assert value_var == pytest.approx(value0**2 * (m2**horizon - m1 ** (2 * horizon)), rel=0.1)


# -- (c) real data: NASDAQ 2000-2002 ---------------------------------------------------------------


@pytest.fixture(scope="module")
def nasdaq_csv(tmp_path_factory) -> tuple[Path, np.ndarray]:
    from arch.data import nasdaq

    close = nasdaq.load().loc["2000-01-03":"2002-12-31", "Adj Close"]
    folder = tmp_path_factory.mktemp("nasdaq")
    path = folder / "nasdaq.csv"
    lines = ["Date,NASDAQ"] + [f"{d:%Y-%m-%d},{v!r}" for d, v in zip(close.index, close.values.astype(float).tolist())]
    path.write_text("\n".join(lines) + "\n")
    return path, np.diff(np.log(close.values.astype(float)))


NASDAQ = """
horizon_days: 252
{market}
assets:
  nasdaq: {{kind: public, value: 100.0, volatility: {vol}, drift: 0.0, adv: 1.0e12}}
borrower: {{cash: 0.0}}
"""


def _call_probability(folder: Path, market: str, vol: float, paths: int, seed: int) -> tuple[float, float]:
    # call at LTV 0.5 / 0.7: a fall of 30% from day 0
    text = NASDAQ.format(market=market, vol=vol) + LOAN.format(principal=50.0, term=252, asset="nasdaq", call=0.5 / 0.7)
    loan = margincall.simulate(margincall.load_scenario(write_scenario(folder, text)), paths=paths, seed=seed).loans["loan"]
    return loan.p_margin_call, loan.p_margin_call_se


def test_nasdaq_replay_matches_history(nasdaq_csv, tmp_path: Path):
    csv_path, r = nasdaq_csv
    horizon, barrier = 252, math.log(0.7)
    assert r.size == 751
    # the share of the 500 historical 252-day windows whose low fell 30% below their start
    level = np.r_[0.0, np.cumsum(r)]
    lows = [(level[i + 1 : i + horizon + 1] - level[i]).min() for i in range(r.size - horizon + 1)]
    window_share = float(np.mean(np.array(lows) <= barrier))
    assert 0.85 < window_share < 0.95  # 0.902: the 2000-2002 bear market

    def historical(block_days: int) -> str:
        return f"market: {{model: historical, prices: {csv_path}, columns: {{nasdaq: NASDAQ}}, block_days: {block_days}}}"

    paths = 4096
    # block_days = the horizon: a path replays one window, its start uniform over the 500 windows,
    # so P(call) estimates the window share without bias (binomial SE, 4 SE bound)
    p_window, se_window = _call_probability(tmp_path, historical(horizon), 0.3, paths, seed=1)
    assert abs(p_window - window_share) < 4 * se_window, (p_window, window_share, se_window)

    # 20-day blocks keep a month's dependence but not the bear market's persistence over the
    # year: P(call) is then ~0.68, not the windows' 0.90. Compared with an independent numpy
    # implementation of the same law (non-circular blocks, starts uniform in 0 .. T - 20).
    p_block, se_block = _call_probability(tmp_path, historical(20), 0.3, paths, seed=2)
    rng = np.random.default_rng(0)
    n_ref, block = 20_000, 20
    starts = rng.integers(0, r.size - block + 1, size=(n_ref, -(-horizon // block)))
    rows = (starts[:, :, None] + np.arange(block)).reshape(n_ref, -1)[:, :horizon]
    p_ref = float(np.mean(np.cumsum(r[rows], axis=1).min(axis=1) <= barrier))
    se_ref = math.sqrt(p_ref * (1 - p_ref) / n_ref)
    assert abs(p_block - p_ref) < 4 * math.hypot(se_block, se_ref), (p_block, p_ref)
    assert p_block < p_window - 0.1

    # GBM with the same realised volatility and no drift calls far less often (~0.46): the
    # replayed history carries the period's -38% a year drift and its fat tails
    realised_vol = float(r.std(ddof=1) * math.sqrt(252))
    p_gbm, _ = _call_probability(tmp_path, "", realised_vol, paths, seed=3)
    assert p_window - p_gbm > 0.3
    assert p_block - p_gbm > 0.15


def test_historical_paths_do_not_depend_on_threads(nasdaq_csv, tmp_path: Path):
    csv_path, _ = nasdaq_csv
    text = NASDAQ.format(market=f"market: {{model: historical, prices: {csv_path}, columns: {{nasdaq: NASDAQ}}}}", vol=0.3)
    scenario = margincall.load_scenario(write_scenario(tmp_path, text + LOAN.format(principal=50.0, term=252, asset="nasdaq", call=0.6)))
    one = margincall.simulate(scenario, paths=3000, seed=9, threads=1).to_dict()
    two = margincall.simulate(scenario, paths=3000, seed=9, threads=2, batch_blocks=1).to_dict()
    for result in (one, two):
        for key in [k for k in result if "elapsed" in k]:
            del result[key]
    assert json.dumps(one, sort_keys=True, default=str) == json.dumps(two, sort_keys=True, default=str)


TWIN = """
import json, sys, warnings
warnings.simplefilter("ignore")
import margincall
from margincall.analysis.history import history_returns
from margincall.analysis.simulate import run_statistics
from margincall.engine.lower import lower
s = margincall.load_scenario(sys.argv[1])
stats = run_statistics(lower(s, antithetic=True, history=history_returns(s)), paths=6, seed=4, threads=1)
print(json.dumps({k: v.tolist() for k, v in {**stats.blocks, **stats.hists}.items()}))
"""


def test_compiled_historical_kernel_equals_python_twin(tmp_path: Path):
    rng = np.random.default_rng(2)
    write_prices(tmp_path / "prices.csv", rng.normal(-0.002, 0.03, size=(120, 2)), ["A", "B"])
    path = write_scenario(
        tmp_path,
        """
horizon_days: 80
market: {model: historical, prices: prices.csv, block_days: 7, columns: {acme: A, co: B}}
assets:
  acme: {kind: public, value: 100.0, volatility: 0.3, adv: 5.0, impact: 0.7}
  co: {kind: private, value: 80.0, volatility: 0.6, jumps: {rate: 2.0, mean: -0.2, stdev: 0.1},
       marks: {every_days: 21}}
borrower: {cash: 5.0}
loans:
  acme-loan: {principal: 60.0, rate: 0.05, term_days: 80, collateral: {acme: 1.0}, margin_call_ltv: 0.7,
              cure_ltv: 0.6, cure_days: 2, liquidation_ltv: 0.9}
  co-loan: {principal: 30.0, rate: 0.05, term_days: 80, collateral: {co: 1.0}, margin_call_ltv: 0.5,
            cure_ltv: 0.4, cure_days: 2, liquidation_ltv: 0.8}
""",
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    out = subprocess.run([sys.executable, "-c", TWIN, str(path)], env=env, capture_output=True, text=True, check=True)
    python = json.loads(out.stdout)
    s = margincall.load_scenario(path)
    stats = run_statistics(lower(s, antithetic=True, history=history_returns(s)), paths=6, seed=4, threads=1)
    compiled = {k: v.tolist() for k, v in {**stats.blocks, **stats.hists}.items()}
    assert python.keys() == compiled.keys()
    for name in compiled:
        assert python[name] == compiled[name], name
    assert sum(compiled["counts"][0]) > 0  # the paths did something


# -- (d) bad inputs --------------------------------------------------------------------------------

def bad(market: str) -> str:
    return f"""
horizon_days: 30
market: {market}
assets:
  acme: {{kind: public, value: 100.0, volatility: 0.3, adv: 1.0e12}}
borrower: {{cash: 0.0}}
""" + LOAN.format(principal=50.0, term=30, asset="acme", call=0.6)


def _problems(folder: Path, market: str) -> str:
    with pytest.raises(ScenarioError) as err:
        margincall.load_scenario(write_scenario(folder, bad(market)))
    return str(err.value)


def test_bad_prices_files_are_named(tmp_path: Path):
    write_prices(tmp_path / "prices.csv", np.full(10, 0.001), ["ACME", "other"])
    message = _problems(tmp_path, "{model: historical, prices: missing.csv}")
    assert "market.prices" in message and "missing.csv" in message and "not found" in message

    message = _problems(tmp_path, "{model: historical, prices: prices.csv}")  # acme is not a column
    assert "market.columns" in message and "'acme'" in message and "ACME, other" in message

    message = _problems(tmp_path, "{model: historical, prices: prices.csv, columns: {acme: ACMF}}")
    assert "market.columns.acme" in message and "'ACMF'" in message and "ACME, other" in message

    message = _problems(tmp_path, "{model: historical, prices: prices.csv, columns: {acme: ACME}, block_days: 20}")
    assert "market.prices" in message and "11 dated rows" in message and "market.block_days = 20" in message

    message = _problems(tmp_path, "{model: historical}")
    assert "market.prices" in message

    message = _problems(tmp_path, "{model: historical, prices: prices.csv, columns: {acme: ACME, nobody: ACME}}")
    assert "market.columns.nobody" in message and "unknown asset" in message

    message = _problems(tmp_path, "{model: gbm, prices: prices.csv}")
    assert "market.prices" in message and "historical" in message

    (tmp_path / "bad.csv").write_text("date,acme\n2020-01-01,100\n2020-01-02,abc\n2020-01-03,101\n")
    message = _problems(tmp_path, "{model: historical, prices: bad.csv, block_days: 1}")
    assert "market.prices" in message and "'abc' is not a number" in message


def test_a_file_gone_after_loading_is_named_at_run_time(tmp_path: Path):
    prices = write_prices(tmp_path / "prices.csv", np.full(10, 0.001), ["acme"])
    scenario = margincall.load_scenario(write_scenario(tmp_path, bad("{model: historical, prices: prices.csv, block_days: 2}")))
    with pytest.raises(SimulationError):
        lower(scenario)  # the returns are read by the api layer, never by lower()
    prices.unlink()
    with pytest.raises(ScenarioError, match="market.prices"):
        margincall.simulate(scenario, paths=10)
