"""Calibration from a price history, and the block bootstrap of real returns, on synthetic data
with known parameters and on the NASDAQ and S&P 500 daily series that `arch` ships."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest
import yaml

from margincall.analysis.calibrate import (
    CalibrationError,
    block_bootstrap,
    bootstrap_drawdowns,
    calibrate,
    max_drawdown,
    price_columns,
    read_prices,
    rolling_drawdowns,
)


def _write_csv(path, dates, columns: dict[str, np.ndarray]) -> None:
    lines = ["date," + ",".join(columns)]
    for i, d in enumerate(dates):
        lines.append(f"{d}," + ",".join("" if not np.isfinite(v[i]) else f"{v[i]:.10g}" for v in columns.values()))
    path.write_text("\n".join(lines) + "\n")


def _business_days(n: int, start=dt.date(2001, 1, 1)) -> list[dt.date]:
    days = np.busday_offset(np.datetime64(start), np.arange(n), roll="forward")
    return [d.astype(object) for d in days]


TRUE = {
    "a": {"vol": 0.30, "mu": 0.08, "rate": 3.0, "mean": -0.15, "stdev": 0.04},
    "b": {"vol": 0.20, "mu": 0.02, "rate": 0.0, "mean": 0.0, "stdev": 0.0},
}
RHO = 0.6


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """20 years of daily prices from the scenario's own law (GBM + compound Poisson jumps)."""
    n = 252 * 20
    rng = np.random.default_rng(2024)
    dt_ = 1 / 252
    z = rng.multivariate_normal([0, 0], [[1, RHO], [RHO, 1]], n)
    logs = {}
    for k, (name, p) in enumerate(TRUE.items()):
        r = (p["mu"] - 0.5 * p["vol"] ** 2) * dt_ + p["vol"] * math.sqrt(dt_) * z[:, k]
        if p["rate"]:
            count = rng.poisson(p["rate"] * dt_, n)
            r = r + count * p["mean"] + np.sqrt(count) * p["stdev"] * rng.standard_normal(n)
        logs[name] = 100.0 * np.exp(np.concatenate([[0.0], np.cumsum(r)]))
    path = tmp_path_factory.mktemp("prices") / "prices.csv"
    _write_csv(path, _business_days(n + 1), logs)
    return path


def test_estimates_cover_the_true_parameters(synthetic):
    cal = calibrate(synthetic)
    a, b = cal.assets["a"], cal.assets["b"]
    for asset, p in ((a, TRUE["a"]), (b, TRUE["b"])):
        assert asset.volatility.low <= p["vol"] <= asset.volatility.high
        assert asset.drift.low <= p["mu"] <= asset.drift.high
        assert asset.observations == 252 * 20
    assert a.jumps.rate.low <= TRUE["a"]["rate"] <= a.jumps.rate.high
    assert a.jumps.mean.low <= TRUE["a"]["mean"] <= a.jumps.mean.high
    assert a.jumps.count >= 40  # about 60 jumps of -15% among 30%-vol days are found
    assert b.jumps.count <= 5  # a Gaussian series has (almost) no 4-sd days
    (x, y, rho), = cal.correlation
    assert (x, y) == ("a", "b") and rho.low <= RHO <= rho.high
    assert a.total_volatility > a.volatility.value  # jump days add variance


def test_outputs_json_and_a_scenario_fragment(synthetic):
    cal = calibrate(synthetic, confidence=0.9)
    data = json.loads(json.dumps(cal.to_dict(), allow_nan=False))
    assert set(data["assets"]["a"]["volatility"]) == {"value", "low", "high"}
    assert set(data["assets"]["a"]["jumps"]) == {"count", "rate", "mean", "stdev"}
    assert data["correlation"][0][:2] == ["a", "b"] and set(data["correlation"][0][2]) == {"value", "low", "high"}
    fragment = yaml.safe_load(cal.yaml_fragment())
    assert fragment["assets"]["a"]["volatility"] == pytest.approx(cal.assets["a"].volatility.value, abs=1e-4)
    assert fragment["assets"]["a"]["jumps"]["rate"] == pytest.approx(cal.assets["a"].jumps.rate.value, abs=1e-4)
    assert fragment["correlation"] == [["a", "b", pytest.approx(cal.correlation[0][2].value, abs=1e-4)]]


def test_bad_price_files(tmp_path):
    with pytest.raises(CalibrationError, match="not found"):
        read_prices(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("date,x\n2020-01-01,1\n2020-01-02,abc\n2020-01-03,2\n")
    with pytest.raises(CalibrationError, match="line 3, column 'x': 'abc' is not a number"):
        read_prices(bad)
    bad.write_text("date,x\n2020-01-01,1\n2020-01-02,-4\n2020-01-03,2\n")
    with pytest.raises(CalibrationError, match="must be positive"):
        read_prices(bad)
    bad.write_text("date,x\n2020-01-01,1\n2020-01-01,2\n2020-01-03,2\n")
    with pytest.raises(CalibrationError, match="appears twice"):
        read_prices(bad)
    bad.write_text("date,x\n2020-01-01,1\nnot a date,2\n2020-01-03,2\n")
    with pytest.raises(CalibrationError, match="line 3: 'not a date' is not a date"):
        read_prices(bad)
    with pytest.raises(CalibrationError, match="no column 'y'"):
        read_prices(bad, columns=["y"])
    bad.write_text("date,x\n2020-01-01,1\n2020-01-02,1.1\n2020-01-03,1.2\n")
    with pytest.raises(CalibrationError, match="at least 10"):
        calibrate(bad)


def test_missing_cells_are_missing_prices(tmp_path):
    path = tmp_path / "gaps.csv"
    rng = np.random.default_rng(1)
    n = 300
    x = 50 * np.exp(np.cumsum(0.01 * rng.standard_normal(n)))
    y = 20 * np.exp(np.cumsum(0.02 * rng.standard_normal(n)))
    y[100:110] = np.nan
    _write_csv(path, _business_days(n), {"x": x, "y": y})
    cal = calibrate(path)
    assert cal.assets["x"].observations == n - 1
    assert cal.assets["y"].observations == n - 1 - 11  # 10 missing prices break 11 returns


def test_block_bootstrap_is_keyed_by_path_and_keeps_blocks():
    data = np.arange(100, dtype=float).reshape(50, 2)
    few = list(block_bootstrap(data, 30, 3, block_days=7, seed=5))
    many = list(block_bootstrap(data, 30, 10, block_days=7, seed=5))
    for p in range(3):
        np.testing.assert_array_equal(few[p], many[p])  # a path does not depend on how many are drawn
    path = few[0]
    assert path.shape == (30, 2)
    rows = (path[:, 0] / 2).astype(int)
    for start in range(0, 30, 7):  # within a block, consecutive days (wrapping around the end)
        block = rows[start:start + 7]
        assert all((block[i + 1] - block[i]) % 50 == 1 for i in range(len(block) - 1))
    assert not np.array_equal(few[0], few[1])


def test_max_drawdown():
    assert max_drawdown(np.log([2.0, 0.25])) == pytest.approx(0.75)  # path 1, 2, 0.5
    assert max_drawdown(np.log([0.5, 2.0, 0.5])) == pytest.approx(0.5)  # path 1, 0.5, 1, 0.5: the start is a peak
    r = np.log(np.array([1.1, 0.5, 1.2]))  # path 1, 1.1, 0.55, 0.66
    assert max_drawdown(r) == pytest.approx(0.5)
    assert max_drawdown(np.log([1.1, 1.2])) == 0.0


@pytest.fixture(scope="module")
def real_prices(tmp_path_factory):
    pytest.importorskip("arch.data.nasdaq", reason="arch (a test dependency) ships the NASDAQ and S&P 500 series offline")
    from arch.data import nasdaq, sp500

    n, s = nasdaq.load()["Adj Close"], sp500.load()["Adj Close"]
    dates = n.index.intersection(s.index)
    path = tmp_path_factory.mktemp("arch") / "indices.csv"
    _write_csv(path, [d.date() for d in dates], {"nasdaq": n.loc[dates].to_numpy(), "sp500": s.loc[dates].to_numpy()})
    return path


def test_real_indices(real_prices):
    history = read_prices(real_prices)
    cal = calibrate(history)
    r = history.log_returns()
    for k, name in enumerate(history.names):
        assert cal.assets[name].total_volatility == pytest.approx(np.std(r[:, k], ddof=1) * math.sqrt(252), rel=1e-12)
    assert 0.20 < cal.assets["nasdaq"].total_volatility < 0.30  # 1999-2018, dot-com and 2008 included
    assert 0.15 < cal.assets["sp500"].total_volatility < 0.22
    assert cal.assets["nasdaq"].volatility.value < cal.assets["nasdaq"].total_volatility
    rho = cal.correlation[0][2]
    assert 0.8 < rho.low < rho.value < rho.high < 0.95
    bust = calibrate(history, start=dt.date(2000, 1, 1), end=dt.date(2002, 12, 31))
    assert bust.assets["nasdaq"].drift.value < 0 and bust.assets["nasdaq"].total_volatility > 0.35


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.sort(a), np.sort(b)
    x = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, x, side="right") / a.size - np.searchsorted(b, x, side="right") / b.size)))


def test_a_bootstrap_of_the_dot_com_bust_reproduces_its_drawdowns(real_prices):
    """Block-bootstrap NASDAQ's daily log returns of 2000-2002 (20-day blocks) into 2,000 one-year
    paths and compare their max drawdowns with those of the period's rolling one-year windows.

    The ~500 rolling windows overlap: they hold about three years of information, so their
    distribution is itself noisy, and a plain KS test would treat them as 500 independent draws.
    The tolerance is therefore the model's own: 300 synthetic three-year histories drawn by the same
    bootstrap give the spread of the rolling-window median and of the KS distance to the bootstrap
    distribution that a history of this length shows when the model is right. The real history must
    lie inside the central 95% of both (a parametric-bootstrap goodness-of-fit test)."""
    history = read_prices(real_prices, columns=["nasdaq"]).window(dt.date(2000, 1, 1), dt.date(2002, 12, 31))
    returns = history.log_returns()
    assert returns.shape[0] > 740
    boot = bootstrap_drawdowns(returns, 252, 2000, block_days=20, seed=1)[:, 0]
    real = rolling_drawdowns(returns, 252)[:, 0]
    assert 0.35 < np.median(real) < 0.65  # the bust: a typical year lost about half from its peak
    medians, distances = [], []
    for synthetic in block_bootstrap(returns, returns.shape[0], 300, block_days=20, seed=99):
        windows = rolling_drawdowns(synthetic, 252)[:, 0]
        medians.append(np.median(windows))
        distances.append(_ks(windows, boot))
    lo, hi = np.percentile(medians, [2.5, 97.5])
    assert lo <= np.median(real) <= hi
    assert _ks(real, boot) <= np.percentile(distances, 95)
    # and the two medians are close in absolute terms too
    assert abs(np.median(boot) - np.median(real)) < 0.1


@pytest.mark.parametrize(
    ("names", "kept", "skipped"),
    [
        (["Open", "High", "Low", "Close", "Adj Close", "Volume"], ["Close"], ["Open", "High", "Low", "Adj Close", "Volume"]),
        (["Open", "High", "Low", "Adj Close", "Volume"], ["Adj Close"], ["Open", "High", "Low", "Volume"]),
        (["AAPL Close", "AAPL Volume", "MSFT Close", "MSFT_High", "msft_vol"], ["AAPL Close", "MSFT Close"],
         ["AAPL Volume", "MSFT_High", "msft_vol"]),
        (["Close_AAPL", "Adj_Close_AAPL", "Open_AAPL", "Close_MSFT"], ["Close_AAPL", "Close_MSFT"], ["Adj_Close_AAPL", "Open_AAPL"]),
        (["openai", "arm", "nasdaq"], ["openai", "arm", "nasdaq"], []),  # asset names are never field words
        (["High", "Low"], ["High", "Low"], []),  # no close to prefer: both kept, the user chooses
        (["Price", "Open Interest", "Trades"], ["Price"], ["Open Interest", "Trades"]),
    ],
)
def test_price_columns_rule(names, kept, skipped):
    chosen, why = price_columns(names)
    assert chosen == kept
    assert list(why) == skipped
    assert all(why.values())


def test_read_prices_skips_what_is_not_a_price_and_says_why(tmp_path):
    path = tmp_path / "ohlcv.csv"
    rng = np.random.default_rng(5)
    n = 60
    close = 100 * np.exp(np.cumsum(0.01 * rng.standard_normal(n)))
    lines = ["Date,Ticker,Open,High,Low,Close,Adj Close,Volume"]
    for d, c in zip(_business_days(n), close):
        lines.append(f"{d},ACME,{c * 0.99:.4f},{c * 1.01:.4f},{c * 0.98:.4f},{c:.4f},{c * 0.97:.4f},{int(rng.integers(1, 9) * 1e6)}")
    path.write_text("\n".join(lines) + "\n")
    history = read_prices(path)
    assert history.names == ["Close"]
    assert list(history.skipped) == ["Ticker", "Open", "High", "Low", "Adj Close", "Volume"]
    assert history.skipped["Ticker"] == "holds no numbers"
    assert "volume" in history.skipped["Volume"] and "'Close'" in history.skipped["Open"]
    np.testing.assert_allclose(history.prices[:, 0], np.round(close, 4))
    cal = calibrate(history)
    assert list(cal.assets) == ["Close"] and cal.to_dict()["skipped_columns"] == history.skipped
    assert "# column 'Volume' not used" in cal.yaml_fragment()
    told = read_prices(path, columns=["Adj Close", "Open"])  # what the caller names is used as is
    assert told.names == ["Adj Close", "Open"] and told.skipped == {}
    with pytest.raises(CalibrationError, match="no price column besides the dates.*Volume.*--columns"):
        only = tmp_path / "volume.csv"
        only.write_text("date,Volume\n2020-01-01,5\n2020-01-02,6\n")
        read_prices(only)


def test_real_ohlcv_file_uses_the_close(tmp_path):
    """The NASDAQ file as a data vendor ships it (Open, High, Low, Close, Volume, Adj Close)."""
    pytest.importorskip("arch.data.nasdaq", reason="arch (a test dependency) ships the NASDAQ series offline")
    from arch.data import nasdaq

    frame = nasdaq.load()
    path = tmp_path / "nasdaq.csv"
    frame.to_csv(path, index_label="Date")
    history = read_prices(path)
    assert history.names == ["Close"]
    assert set(history.skipped) == {"Open", "High", "Low", "Volume", "Adj Close"}
    cal = calibrate(history)
    assert 0.20 < cal.assets["Close"].total_volatility < 0.30

