"""Calibration from history: a CSV of prices (or values) per asset -> annual volatility, drift,
correlation and jumps, each with a confidence interval, as a scenario fragment; and the block
bootstrap that replays real returns (the `historical` market model).

The estimators follow the scenario's market law, ln V(t+1) - ln V(t) = (mu - sigma^2/2) dt +
sigma sqrt(dt) eps + jumps, from daily log returns r (one per row with both prices present):

- jumps: a return with |r - median(r)| > k robust sd (k = 4; robust sd = 1.4826 x the median
  absolute deviation) is a jump day. Jump rate = count / years (exact Poisson interval); jump size:
  mean and sd of (r - the diffusion's daily mean) on jump days (t and chi-square intervals).
- volatility (of the diffusion): sd of the returns without jump days x sqrt(days per year), with a
  chi-square interval; `total_volatility` is that of all returns.
- drift: mu = mean x days per year + sigma^2 / 2 over the returns without jump days (the jumps are
  a separate term of the law), with a t interval on the mean.
- correlation: Pearson correlation of the returns on days when both assets have one and neither
  jumps, with a Fisher-z interval.

Intervals are two-sided at `confidence` (0.95 by default) and assume independent daily returns;
volatility clustering makes the true uncertainty wider.

Which columns are prices: those the caller names, or else every column that looks like one
(`price_columns`). A column's name is split into words, and a field word at its start or end
(`Close`, `AAPL Volume`, `adj_close_MSFT`) says what it holds; columns with the same rest of the
name (the same ticker) form a group. Skipped: volume-like columns (Volume, Vol, Shares, Turnover,
Trades, Count, Open Interest) always; Open, High and Low when the group has a close (Close, Last,
Price, Adj Close); Adj Close when the group also has Close (the collateral is valued at the price, not at
the dividend-reinvested total return); and columns that hold no number at all (a ticker or a
note). What is skipped, and why, is kept with the history and printed.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from margincall.analysis.files import read_text
from margincall.errors import InputFileError, MarginCallError
from margincall.model.limits import LimitError

ROBUST_SD = 1.4826  # MAD -> sd for a normal law
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%d.%m.%Y", "%m/%d/%Y")


class CalibrationError(MarginCallError, ValueError):
    """A price file that cannot be read or used."""


@dataclass(frozen=True)
class PriceHistory:
    """Dates (ascending) and prices [dates, assets]; NaN where a price is missing."""

    dates: np.ndarray  # datetime64[D]
    names: list[str]
    prices: np.ndarray
    source: str = "<prices>"
    skipped: dict[str, str] = field(default_factory=dict)  # column -> why it is not a price

    def window(self, start: dt.date | None = None, end: dt.date | None = None) -> PriceHistory:
        keep = np.ones(len(self.dates), dtype=bool)
        if start is not None:
            keep &= self.dates >= np.datetime64(start, "D")
        if end is not None:
            keep &= self.dates <= np.datetime64(end, "D")
        return PriceHistory(self.dates[keep], list(self.names), self.prices[keep], self.source, dict(self.skipped))

    def log_returns(self) -> np.ndarray:
        """Daily log returns [dates - 1, assets]; NaN where either price is missing."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.diff(np.log(self.prices), axis=0)


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class JumpEstimate:
    count: int
    rate: Estimate
    mean: Estimate | None
    stdev: Estimate | None


@dataclass(frozen=True)
class AssetCalibration:
    observations: int
    volatility: Estimate
    total_volatility: float
    drift: Estimate
    jumps: JumpEstimate


@dataclass(frozen=True)
class Calibration:
    source: str
    start: str
    end: str
    days_per_year: int
    confidence: float
    jump_threshold: float
    assets: dict[str, AssetCalibration]
    correlation: list[tuple[str, str, Estimate]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # columns of the file not used, and why

    def to_dict(self) -> dict[str, Any]:
        """`calibration.json`: assets.<column>.volatility / drift / jumps and correlation as
        [a, b, {value, low, high}] triples; every estimate is {value, low, high}."""
        return {
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "days_per_year": self.days_per_year,
            "confidence": self.confidence,
            "jump_threshold": self.jump_threshold,
            "assets": {name: asdict(a) for name, a in self.assets.items()},
            "correlation": [[a, b, asdict(e)] for a, b, e in self.correlation],
            "skipped_columns": dict(self.skipped),
        }

    def yaml_fragment(self) -> str:
        """The `assets` (volatility, drift, jumps) and `correlation` of a scenario, commented with
        their intervals; kind, value and adv are left to the user."""
        pct = f"{self.confidence:.0%}"
        lines = [
            f"# calibrated from {self.source}: {self.start} .. {self.end}, {self.days_per_year} trading days a year;",
            f"# {pct} intervals in comments. Add each asset's kind, value (and adv for a public one).",
            *(f"# column '{name}' not used: {why}" for name, why in self.skipped.items()),
            "assets:",
        ]
        for name, a in self.assets.items():
            v, d, j = a.volatility, a.drift, a.jumps
            lines.append(f"  {_yaml_key(name)}:")
            lines.append(f"    volatility: {v.value:.4f}        # {pct}: {v.low:.4f} .. {v.high:.4f} (jump days removed; all days: {a.total_volatility:.4f})")
            lines.append(f"    drift: {d.value:.4f}             # {pct}: {d.low:.4f} .. {d.high:.4f}")
            if j.count and j.mean is not None:
                stdev = j.stdev.value if j.stdev is not None else 0.0
                lines.append(
                    f"    jumps: {{rate: {j.rate.value:.4f}, mean: {j.mean.value:.4f}, stdev: {stdev:.4f}}}"
                    f"   # {j.count} jump{'s' if j.count != 1 else ''}; rate {pct}: {j.rate.low:.3f} .. {j.rate.high:.3f}" + (f", mean {pct}: {j.mean.low:.4f} .. {j.mean.high:.4f}" if j.mean.low is not None else "")
                )
            else:
                lines.append(f"    # no jumps found (rate {pct} upper bound: {j.rate.high:.3f} a year)")
        if self.correlation:
            lines.append("correlation:")
            for first, second, e in self.correlation:
                lines.append(f"  - [{_yaml_key(first)}, {_yaml_key(second)}, {e.value:.4f}]   # {pct}: {e.low:.4f} .. {e.high:.4f}")
        return "\n".join(lines) + "\n"


def _yaml_key(name: str) -> str:
    import re

    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name) else '"' + name.replace('"', '\\"') + '"'


# -- reading --------------------------------------------------------------------------------------


def _parse_date(text: str, line: int, source: str) -> dt.date:
    text = text.strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CalibrationError(f"{source}, line {line}: '{text}' is not a date; write dates as YYYY-MM-DD")


_VOLUME_WORDS = {("volume",), ("vol",), ("shares",), ("turnover",), ("trades",), ("count",), ("open", "interest"),
                 ("openinterest",)}
_CLOSE_WORDS = {("close",), ("last",), ("price",), ("px", "last")}
_INTRADAY_WORDS = {("open",), ("high",), ("low",)}
_ADJUSTED_WORDS = {("adj", "close"), ("adjclose",), ("adjusted", "close"), ("adjustedclose",)}
_FIELD_WORDS = _VOLUME_WORDS | _CLOSE_WORDS | _INTRADAY_WORDS | _ADJUSTED_WORDS
_MISSING = ("", "NA", "NaN", "nan", "null", "-")


def _field_of(name: str) -> tuple[tuple[str, ...] | None, str]:
    """(the field words at the start or end of a column name, the rest of the name: its group)."""
    words = [w for w in re.split(r"[^0-9a-z]+", name.lower()) if w]
    for size in (2, 1):
        if len(words) >= size:
            if tuple(words[-size:]) in _FIELD_WORDS:
                return tuple(words[-size:]), " ".join(words[:-size])
            if tuple(words[:size]) in _FIELD_WORDS:
                return tuple(words[:size]), " ".join(words[size:])
    return None, " ".join(words)


def price_columns(names: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """The columns that look like prices, in file order, and the others with the reason (the rule
    is in the module's docstring)."""
    fields = {name: _field_of(name) for name in names}
    groups: dict[str, set[tuple[str, ...]]] = {}
    for word, group in fields.values():
        if word is not None:
            groups.setdefault(group, set()).add(word)
    kept: list[str] = []
    skipped: dict[str, str] = {}
    for name in names:
        word, group = fields[name]
        present = groups.get(group, set())
        closes = [n for n in names if fields[n][1] == group and fields[n][0] in _CLOSE_WORDS | _ADJUSTED_WORDS]
        close = next((n for n in closes if fields[n][0] in _CLOSE_WORDS), closes[0] if closes else None)
        if word in _VOLUME_WORDS:
            skipped[name] = "a traded volume or count, not a price"
        elif word in _INTRADAY_WORDS and close is not None:
            skipped[name] = f"the day's {word[0]}; the close ('{close}') is used"
        elif word in _ADJUSTED_WORDS and ("close",) in present:
            close = next(n for n in names if fields[n] == (("close",), group))
            skipped[name] = (f"dividend-adjusted; the close ('{close}') is used, as the collateral is valued at "
                             "the price, not at the total return")
        else:
            kept.append(name)
    return kept, skipped


def read_prices(path: str | Path, *, date_column: str | None = None, columns: Sequence[str] | None = None) -> PriceHistory:
    """Read a CSV with a date column (the first, or `date_column`) and one column per asset:
    `columns`, or else the columns that look like prices (`price_columns`; the history's
    `skipped` says which were left out, and why). Empty cells are missing prices; every other
    cell of a used column must be a positive number."""
    path = Path(path)
    try:
        text = read_text(path, bound="prices_bytes")
    except InputFileError as exc:
        hint = "; give a CSV file with a date column and one column per asset" if exc.reason == "not found" else ""
        raise CalibrationError(f"{path}: {exc.reason}{hint}") from None
    except LimitError as exc:
        raise CalibrationError(str(exc)) from None
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as exc:
        raise CalibrationError(f"{path}: cannot be read as a CSV ({exc})") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 3:
        raise CalibrationError(f"{path}: needs a header and at least two rows of prices")
    header = [h.strip() for h in rows[0]]
    if date_column is None:
        date_index = 0
    elif date_column in header:
        date_index = header.index(date_column)
    else:
        raise CalibrationError(f"{path}: no column '{date_column}'; columns: {', '.join(header)}")
    names = [h for i, h in enumerate(header) if i != date_index]
    skipped: dict[str, str] = {}
    if columns:
        missing = [c for c in columns if c not in names]
        if missing:
            raise CalibrationError(f"{path}: no column {', '.join(repr(m) for m in missing)}; columns: {', '.join(names)}")
        names = list(columns)
    else:
        every = names
        names, skipped = price_columns(every)
        for name in list(names):
            i = header.index(name)
            cells = [row[i].strip().replace(",", "") for row in rows[1:] if i < len(row)]
            if not any(_is_number(cell) for cell in cells if cell not in _MISSING):
                names.remove(name)
                skipped[name] = "holds no numbers"
        skipped = {n: skipped[n] for n in every if n in skipped}  # in file order
    if not names:
        why = "; ".join(f"'{n}': {w}" for n, w in skipped.items())
        raise CalibrationError(f"{path}: no price column besides the dates" + (f" (skipped {why}); name them with --columns" if why else ""))
    if len(set(names)) != len(names):
        raise CalibrationError(f"{path}: a column name is repeated; give each asset its own name")
    indices = [header.index(n) for n in names]
    hint = "" if columns else " (if it is not a price column, name the price columns with --columns)"
    dates: list[dt.date] = []
    prices = np.full((len(rows) - 1, len(names)), np.nan)
    for r, row in enumerate(rows[1:]):
        line = r + 2
        if len(row) < len(header):
            row = row + [""] * (len(header) - len(row))
        dates.append(_parse_date(row[date_index], line, str(path)))
        for k, i in enumerate(indices):
            cell = row[i].strip().replace(",", "") if i < len(row) else ""
            if cell in _MISSING:
                continue
            try:
                value = float(cell)
            except ValueError:
                raise CalibrationError(f"{path}, line {line}, column '{names[k]}': '{cell}' is not a number{hint}") from None
            if not value > 0.0 or not math.isfinite(value):
                raise CalibrationError(f"{path}, line {line}, column '{names[k]}': a price must be positive; got {cell}{hint}")
            prices[r, k] = value
    order = np.argsort(np.array(dates, dtype="datetime64[D]"), kind="stable")
    day = np.array(dates, dtype="datetime64[D]")[order]
    if np.any(np.diff(day) == np.timedelta64(0, "D")):
        dup = day[np.nonzero(np.diff(day) == np.timedelta64(0, "D"))[0][0]]
        raise CalibrationError(f"{path}: the date {dup} appears twice")
    return PriceHistory(day, names, prices[order], str(path), skipped)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- estimation -----------------------------------------------------------------------------------


def _stats():
    try:
        from scipy import stats
    except ImportError as exc:  # pragma: no cover - scipy is a dependency of calibration
        raise CalibrationError("calibration needs scipy (pip install scipy)") from exc
    return stats


def jump_days(returns: np.ndarray, threshold: float = 4.0) -> np.ndarray:
    """Boolean mask of jump days in a 1-d array of returns (NaN: never a jump)."""
    ok = np.isfinite(returns)
    r = returns[ok]
    mask = np.zeros(returns.shape, dtype=bool)
    if r.size < 3:
        return mask
    med = np.median(r)
    robust = ROBUST_SD * np.median(np.abs(r - med))
    if robust <= 0.0:
        return mask
    mask[ok] = np.abs(r - med) > threshold * robust
    return mask


def calibrate(
    history: PriceHistory | str | Path,
    *,
    days_per_year: int = 252,
    jump_threshold: float = 4.0,
    confidence: float = 0.95,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Calibration:
    """Estimate volatility, drift, jumps and correlations with `confidence` intervals."""
    stats = _stats()
    if not 0.0 < confidence < 1.0:
        raise CalibrationError(f"confidence is a probability between 0 and 1; got {confidence}")
    if jump_threshold <= 0.0:
        raise CalibrationError(f"the jump threshold is a positive number of robust sds; got {jump_threshold}")
    if not isinstance(history, PriceHistory):
        history = read_prices(history)
    if start is not None or end is not None:
        history = history.window(start, end)
    returns = history.log_returns()
    alpha = 1.0 - confidence
    z = stats.norm.ppf(1.0 - alpha / 2.0)
    assets: dict[str, AssetCalibration] = {}
    jumps_mask = np.zeros(returns.shape, dtype=bool)
    for k, name in enumerate(history.names):
        r_all = returns[:, k]
        ok = np.isfinite(r_all)
        n = int(ok.sum())
        if n < 10:
            raise CalibrationError(f"{history.source}: column '{name}' has {n} daily returns in the window; at least 10 are needed")
        jumps = jump_days(r_all, jump_threshold)
        jumps_mask[:, k] = jumps
        diffusion = r_all[ok & ~jumps]
        m = diffusion.size
        mean, sd = float(diffusion.mean()), float(diffusion.std(ddof=1))
        vol = sd * math.sqrt(days_per_year)
        chi_lo, chi_hi = stats.chi2.ppf(alpha / 2.0, m - 1), stats.chi2.ppf(1.0 - alpha / 2.0, m - 1)
        volatility = Estimate(vol, vol * math.sqrt((m - 1) / chi_hi), vol * math.sqrt((m - 1) / chi_lo))
        t = stats.t.ppf(1.0 - alpha / 2.0, m - 1)
        mu = mean * days_per_year + 0.5 * vol**2
        half = t * sd / math.sqrt(m) * days_per_year
        drift = Estimate(mu, mu - half, mu + half)
        years = n / days_per_year
        count = int(jumps.sum())
        rate_lo = stats.chi2.ppf(alpha / 2.0, 2 * count) / 2.0 if count > 0 else 0.0
        rate_hi = stats.chi2.ppf(1.0 - alpha / 2.0, 2 * count + 2) / 2.0
        rate = Estimate(count / years, rate_lo / years, rate_hi / years)
        size_mean = size_sd = None
        if count > 0:
            sizes = r_all[jumps] - mean
            jm = float(sizes.mean())
            if count > 1:
                js = float(sizes.std(ddof=1))
                tj = stats.t.ppf(1.0 - alpha / 2.0, count - 1)
                size_mean = Estimate(jm, jm - tj * js / math.sqrt(count), jm + tj * js / math.sqrt(count))
                c_lo, c_hi = stats.chi2.ppf(alpha / 2.0, count - 1), stats.chi2.ppf(1.0 - alpha / 2.0, count - 1)
                size_sd = Estimate(js, js * math.sqrt((count - 1) / c_hi), js * math.sqrt((count - 1) / c_lo))
            else:
                size_mean = Estimate(jm, None, None)  # one jump: no interval
        total = float(np.nanstd(r_all, ddof=1) * math.sqrt(days_per_year))
        assets[name] = AssetCalibration(n, volatility, total, drift, JumpEstimate(count, rate, size_mean, size_sd))
    correlation: list[tuple[str, str, Estimate]] = []
    names = history.names
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            both = np.isfinite(returns[:, i]) & np.isfinite(returns[:, j]) & ~jumps_mask[:, i] & ~jumps_mask[:, j]
            n = int(both.sum())
            if n < 10:
                raise CalibrationError(f"{history.source}: '{names[i]}' and '{names[j]}' share {n} days of returns; at least 10 are needed")
            rho = float(np.corrcoef(returns[both, i], returns[both, j])[0, 1])
            zr = math.atanh(max(min(rho, 1 - 1e-15), -1 + 1e-15))
            half = z / math.sqrt(n - 3)
            correlation.append((names[i], names[j], Estimate(rho, math.tanh(zr - half), math.tanh(zr + half))))
    first, last = history.dates[0], history.dates[-1]
    return Calibration(
        source=history.source, start=str(first), end=str(last), days_per_year=days_per_year, confidence=confidence,
        jump_threshold=jump_threshold, assets=assets, correlation=correlation, skipped=dict(history.skipped),
    )


# -- the historical model: block bootstrap ---------------------------------------------------------


def block_bootstrap(
    returns: np.ndarray,
    horizon_days: int,
    n_paths: int,
    block_days: int = 20,
    seed: int = 0,
) -> Iterator[np.ndarray]:
    """Paths of `horizon_days` daily returns [horizon_days, assets], each made of blocks of
    `block_days` consecutive rows of `returns` [T, assets] (all assets on the same days, so the
    cross-section and short-run dependence are kept), starting at uniform random rows and wrapping
    around the end (circular blocks). Path p draws from its own stream keyed by (seed, p), so a
    path does not depend on how many are drawn or in what batches."""
    data = np.asarray(returns, dtype=float)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[0] < 2:
        raise CalibrationError("returns must be an array [days, assets] with at least two days")
    if not np.all(np.isfinite(data)):
        raise CalibrationError("returns have missing values; keep the days on which every asset has a return")
    if horizon_days < 1 or n_paths < 0 or block_days < 1:
        raise CalibrationError("horizon_days and block_days must be at least 1, n_paths at least 0")
    t = data.shape[0]
    block = min(block_days, t)
    n_blocks = -(-horizon_days // block)
    offsets = np.arange(block)
    for p in range(n_paths):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, p])))
        starts = rng.integers(0, t, n_blocks)
        rows = ((starts[:, None] + offsets[None, :]) % t).reshape(-1)[:horizon_days]
        yield data[rows]


def max_drawdown(log_returns: np.ndarray) -> np.ndarray:
    """Largest peak-to-trough fall (0.3 = -30%) of the value path from each column of daily log
    returns [days, ...], counting the start as a peak."""
    r = np.asarray(log_returns, dtype=float)
    level = np.concatenate([np.zeros((1,) + r.shape[1:]), np.cumsum(r, axis=0)], axis=0)
    peak = np.maximum.accumulate(level, axis=0)
    return 1.0 - np.exp((level - peak).min(axis=0))


def bootstrap_drawdowns(returns: np.ndarray, horizon_days: int, n_paths: int, block_days: int = 20, seed: int = 0) -> np.ndarray:
    """Max drawdowns [paths, assets] of block-bootstrapped paths of `horizon_days`."""
    out = [max_drawdown(path) for path in block_bootstrap(returns, horizon_days, n_paths, block_days, seed)]
    return np.array(out).reshape(n_paths, -1)


def rolling_drawdowns(returns: np.ndarray, window_days: int) -> np.ndarray:
    """Max drawdowns [windows, assets] of every window of `window_days` consecutive returns."""
    r = np.asarray(returns, dtype=float)
    if r.ndim == 1:
        r = r[:, None]
    if r.shape[0] < window_days:
        raise CalibrationError(f"{r.shape[0]} days of returns are fewer than the window ({window_days})")
    windows = np.lib.stride_tricks.sliding_window_view(r, window_days, axis=0)  # [windows, assets, days]
    return max_drawdown(np.moveaxis(windows, -1, 0))


__all__ = [
    "AssetCalibration",
    "Calibration",
    "CalibrationError",
    "Estimate",
    "JumpEstimate",
    "PriceHistory",
    "block_bootstrap",
    "bootstrap_drawdowns",
    "calibrate",
    "jump_days",
    "max_drawdown",
    "price_columns",
    "read_prices",
    "rolling_drawdowns",
]
