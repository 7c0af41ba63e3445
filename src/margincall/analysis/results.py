"""Results of a run: per loan, per borrower, per lender and for the system; probabilities with
standard errors, loss and liquidity quantiles, loss distributions, default causes, fan charts.

The same fields appear on the Python objects and in `result.json` (`SimulationResult.to_dict`);
`margincall.analysis.metrics` names and describes the headline metrics. A probability is the
share of paths on which the event happens at least once within the horizon; its standard error is
sqrt(p (1 - p) / paths) (with antithetic pairs, that of the pair means).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from margincall.analysis.reality import reality_check
from margincall.analysis.statistics import RunStatistics
from margincall.engine import codes as c
from margincall.engine.bins import (
    AMOUNT_DECADES,
    LTV_HI,
    LTV_LO,
    log_edges,
    quantiles_from_log_hist,
    quantiles_from_signed_hist,
    tail_mean_from_log_hist,
)
from margincall.engine.layout import (
    BP_EQUITY_SCALE,
    BP_MONEY_LO,
    LP_LOSS_LO,
    NP_LOSS_LO,
)
from margincall.engine.lower import EngineInputs
from margincall.engine.outputs import (
    AB_DISCOUNT_COST,
    AB_DRAWN,
    AB_EQUITY,
    AB_EXEC_COST,
    AB_LAR,
    AB_SOLD,
    AL_CURE_PAID,
    AL_DRAWN,
    AL_LOSS,
    AL_RECOVERED,
    CAPITAL_LEVELS,
    N_AB,
    N_AL,
    Amounts,
    Indicators,
)
from margincall.model.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

FAN_PROBS = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
FAN_KEYS = ("p5", "p25", "p50", "p75", "p95")
LOAN_FLAG_NAMES = tuple(flag.name.lower() for flag in c.LoanEvent)
BORROWER_FLAG_NAMES = tuple(flag.name.lower() for flag in c.BorrowerEvent)
CAUSE_NAMES = {int(cause): cause.name.lower() for cause in c.Cause}
DISTRIBUTION_POINTS = 120


def _clean(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


class _Errors:
    """Standard errors: of independent paths, or of antithetic pairs (the pair mean is the
    independent unit: Var = ((p + q) / 2 - p^2) / pairs, q = P(event on both paths of a pair))."""

    def __init__(self, stats: RunStatistics, antithetic: bool):
        self.n = stats.n_paths
        self.pairs = max(self.n // 2, 1)
        self.antithetic = antithetic
        self.counts = stats.total("counts")
        self.both = stats.total("pair_counts")
        self.sums = stats.total("sums")
        self.squares = stats.total("squares")
        self.pair_squares = stats.total("pair_squares")

    def p(self, k: int) -> tuple[float, float]:
        """P(indicator k) and its standard error."""
        p = float(self.counts[k]) / self.n
        if not self.antithetic:
            return p, math.sqrt(max(p * (1.0 - p), 0.0) / self.n)
        q = float(self.both[k]) / self.pairs
        return p, math.sqrt(max((p + q) / 2.0 - p * p, 0.0) / self.pairs)

    def mean(self, k: int) -> tuple[float, float]:
        """The mean of amount k and its standard error."""
        mean = float(self.sums[k]) / self.n
        if not self.antithetic:
            var = max(float(self.squares[k]) / self.n - mean * mean, 0.0)
            return mean, math.sqrt(var / max(self.n - 1, 1))
        var = max(float(self.pair_squares[k]) / (4.0 * self.pairs) - mean * mean, 0.0)
        return mean, math.sqrt(var / max(self.pairs - 1, 1))


@dataclass(frozen=True)
class LoanResult:
    borrower: str
    lender: str
    secured: bool
    principal: float
    limit: float
    p_margin_call: float
    p_margin_call_se: float
    p_default: float
    p_default_se: float
    p_loss: float
    p_loss_se: float
    expected_loss: float
    expected_loss_se: float
    loss_var_95: float
    loss_es_95: float
    loss_var_99: float
    loss_es_99: float
    p_default_by_cause: dict[str, float]
    p_default_by_cause_se: dict[str, float]
    loss_distribution: dict[str, list[float]]
    first_call_day: dict[str, float | None]
    ltv_quantiles: dict[str, list[float | None]] | None
    p_margin_call_by_day: list[float]
    p_default_by_day: list[float]
    events: dict[str, float]
    expected_cure_paid: float
    expected_recovered: float
    expected_drawn: float
    breakeven_growth: float | None


@dataclass(frozen=True)
class BorrowerResult:
    name: str
    p_default: float
    p_default_se: float
    p_default_by_cause: dict[str, float]
    p_default_by_cause_se: dict[str, float]
    p_default_by_day: list[float]
    liquidity_at_risk_50: float
    liquidity_at_risk_95: float
    liquidity_at_risk_99: float
    expected_liquidity_used: float
    p_forced_sale: float
    p_forced_sale_se: float
    expected_sold_value: float
    expected_sold_value_se: float
    expected_impact_cost: float
    expected_discount_cost: float
    expected_drawn: float
    p_cascade: float
    p_cascade_se: float
    called_together: dict[str, dict[str, float]]
    equity_quantiles: dict[str, float | None]
    expected_equity: float
    expected_equity_se: float
    equity_day0: float
    cash_quantiles: dict[str, list[float | None]]
    events: dict[str, float]
    breakeven_growth: float | None
    max_ledger_residual: float
    reality_check: dict[str, Any] | None


@dataclass(frozen=True)
class LenderResult:
    name: str
    loans: list[str]
    capital: float | None
    p_loss: float
    p_loss_se: float
    expected_loss: float
    expected_loss_se: float
    loss_var_95: float
    loss_es_95: float
    loss_var_99: float
    loss_es_99: float
    p_loss_over_capital: dict[str, float] | None  # keyed by the share of capital, e.g. "0.1"
    p_loss_over_capital_se: dict[str, float] | None
    loss_distribution: dict[str, list[float]]


@dataclass(frozen=True)
class SystemResult:
    borrowers_in_default: dict[str, float]  # P(exactly k borrowers in default), k = "0", "1", ...
    p_any_default: float
    p_any_default_se: float
    expected_defaults: float
    expected_defaults_se: float
    expected_forced_sales: float
    expected_forced_sales_se: float
    sold_value_by_asset: dict[str, float]
    sold_value_by_day: dict[str, list[float]]
    price_quantiles: dict[str, dict[str, list[float | None]]]  # by asset: price over its day-0 value


@dataclass(frozen=True)
class SimulationResult:
    """What a run found. `to_dict()` gives the layout of `result.json`."""

    scenario: str
    paths: int
    seed: int
    horizon_days: int
    days_per_year: int
    currency: str
    version: str
    loans: dict[str, LoanResult]
    borrowers: dict[str, BorrowerResult]
    lenders: dict[str, LenderResult]
    system: SystemResult
    start_date: str | None = None
    variance_reduction: str = "none"  # or "antithetic"
    elapsed_seconds: float = field(default=0.0, compare=False)
    compile_seconds: float = field(default=0.0, compare=False)

    @property
    def borrower(self) -> BorrowerResult:
        """The borrower of a one-borrower book."""
        if len(self.borrowers) != 1:
            raise AttributeError(f"the book has {len(self.borrowers)} borrowers; use result.borrowers[id] ({', '.join(self.borrowers)})")
        return next(iter(self.borrowers.values()))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if len(self.borrowers) == 1:  # the one-borrower shorthand's key, kept for readers of earlier files
            data["borrower"] = data["borrowers"][next(iter(self.borrowers))]
        return data

    def write_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        return path

    def to_frame(self, table: str = "loans") -> pd.DataFrame:
        """A pandas DataFrame of the result: `loans` (one row per loan, each metric with its SE),
        `borrowers`, `lenders`, `system`, `fan` (quantiles by day, long) or `curves` (by day, long).
        See `margincall.analysis.frames`."""
        from margincall.analysis.frames import result_frame

        return result_frame(self, table)

    def frames(self) -> dict[str, pd.DataFrame]:
        """Every table of `to_frame`, by name (what `--format csv` writes)."""
        from margincall.analysis.frames import RESULT_TABLES, result_frame

        return {name: result_frame(self, name) for name in RESULT_TABLES}


def _day_quantiles(counts: np.ndarray) -> dict[str, float | None]:
    """Quantiles of the day of an event, among paths on which it happened (exact: integer days)."""
    happened = counts[:-1]
    total = happened.sum()
    if total == 0:
        return {key: None for key in FAN_KEYS}
    cumulative = np.cumsum(happened)
    return {key: float(np.searchsorted(cumulative, p * total, side="left")) for key, p in zip(FAN_KEYS, FAN_PROBS)}


def _fan(hists: np.ndarray, quantile) -> dict[str, list[float | None]]:
    rows = [quantile(h) for h in hists]
    return {key: [_clean(row[k]) for row in rows] for k, key in enumerate(FAN_KEYS)}


def _curve_se(curve: np.ndarray, n: int) -> list[float]:
    return [math.sqrt(max(p * (1.0 - p), 0.0) / n) for p in curve]


def loss_distribution(counts: np.ndarray, lo: float) -> dict[str, list[float]]:
    """The loss's distribution function at up to DISTRIBUTION_POINTS losses (currency, increasing):
    P(loss <= x), from the integer histogram, thinned where it is flat."""
    counts = np.asarray(counts, dtype=np.int64)
    total = counts.sum()
    if total == 0:
        return {"loss": [], "cdf": []}
    n = counts.shape[0] - 2
    edges = log_edges(lo, lo * 10.0**AMOUNT_DECADES, n)
    cumulative = np.cumsum(counts) / total
    xs = np.concatenate(([0.0], edges[1:], [math.inf]))  # upper edge of each bin: 0, edges..., inf
    keep = [0] + [k for k in range(1, n + 1) if counts[k] > 0]
    if len(keep) > DISTRIBUTION_POINTS:
        step = math.ceil(len(keep) / DISTRIBUTION_POINTS)
        keep = keep[:1] + keep[1::step] + [keep[-1]]
    loss = [float(xs[k]) for k in keep]
    cdf = [float(cumulative[k]) for k in keep]
    if counts[n + 1] > 0:
        loss.append(float(edges[-1]))
        cdf.append(1.0)
    return {"loss": loss, "cdf": cdf}


def breakeven_growth(value: float, interest: float, years: float) -> float | None:
    """Annual growth g with value * ((1 + g)^years - 1) = interest: the collateral growth that pays
    the interest over the term."""
    if value <= 0.0 or years <= 0.0:
        return None
    return (1.0 + interest / value) ** (1.0 / years) - 1.0


def _causes(err: _Errors, offset: int) -> tuple[dict[str, float], dict[str, float]]:
    p: dict[str, float] = {}
    se: dict[str, float] = {}
    for code, name in CAUSE_NAMES.items():
        p[name], se[name] = err.p(offset + code)
    return p, se


def build_result(
    stats: RunStatistics, inputs: EngineInputs, scenario: Scenario, *, seed: int, version: str, elapsed: float = 0.0,
    compile_seconds: float = 0.0,
) -> SimulationResult:
    n = stats.n_paths
    book = scenario.book()
    err = _Errors(stats, inputs.antithetic)
    L, B, N = len(inputs.loan_ids), len(inputs.borrower_ids), len(inputs.lender_ids)
    ind = Indicators(L, B, N)
    amt = Amounts(L, B, N)
    h = stats.hists
    rec_days = inputs.rec_days.tolist()
    dt = inputs.dt
    cocall = stats.total("cocall")

    loans: dict[str, LoanResult] = {}
    for l, loan_id in enumerate(inputs.loan_ids):
        spec = book.loans[loan_id]
        flags = ind.loan_flags + l * c.N_LOAN_FLAGS
        p_call, p_call_se = err.p(flags + 0)
        p_default, p_default_se = err.p(flags + 4)
        p_loss, p_loss_se = err.p(flags + 6)
        a = amt.loans + l * N_AL
        loss_mean, loss_se = err.mean(a + AL_LOSS)
        lo = inputs.loan_p[l, LP_LOSS_LO]
        hi = lo * 10.0**AMOUNT_DECADES
        var95, var99 = quantiles_from_log_hist(h["loss_hist"][l], lo, hi, np.array([0.95, 0.99]))
        causes, causes_se = _causes(err, ind.loan_causes + l * c.N_CAUSES)
        ltv = None
        if spec.secured:
            ltv = {"day": rec_days, **_fan(h["ltv_hist"][l].T, lambda x: quantiles_from_log_hist(x, LTV_LO, LTV_HI, FAN_PROBS))}
        pool0 = sum(book.holding_value(book.loan_borrower[loan_id], a_id) * f for a_id, f in (spec.collateral or {}).items())
        years = spec.term_days * dt
        loans[loan_id] = LoanResult(
            borrower=book.loan_borrower[loan_id],
            lender=book.loan_lender[loan_id],
            secured=spec.secured,
            principal=float(spec.principal),
            limit=float(spec.facility_limit),
            p_margin_call=p_call,
            p_margin_call_se=p_call_se,
            p_default=p_default,
            p_default_se=p_default_se,
            p_loss=p_loss,
            p_loss_se=p_loss_se,
            expected_loss=loss_mean,
            expected_loss_se=loss_se,
            loss_var_95=float(var95),
            loss_es_95=float(tail_mean_from_log_hist(h["loss_hist"][l], lo, hi, 0.95)),
            loss_var_99=float(var99),
            loss_es_99=float(tail_mean_from_log_hist(h["loss_hist"][l], lo, hi, 0.99)),
            p_default_by_cause=causes,
            p_default_by_cause_se=causes_se,
            loss_distribution=loss_distribution(h["loss_hist"][l], lo),
            first_call_day=_day_quantiles(h["first_call"][l]),
            ltv_quantiles=ltv,
            p_margin_call_by_day=(np.cumsum(h["first_call"][l][:-1]) / n).tolist(),
            p_default_by_day=(np.cumsum(h["first_default"][l][:-1]) / n).tolist(),
            events={name: err.p(flags + k)[0] for k, name in enumerate(LOAN_FLAG_NAMES)},
            expected_cure_paid=float(err.sums[a + AL_CURE_PAID] / n),
            expected_recovered=float(err.sums[a + AL_RECOVERED] / n),
            expected_drawn=float(err.sums[a + AL_DRAWN] / n),
            breakeven_growth=breakeven_growth(pool0, float(spec.principal * spec.annual_rate * years), years) if spec.secured else None,
        )

    ledger = stats.maximum("ledger")
    borrowers: dict[str, BorrowerResult] = {}
    for b, borrower_id in enumerate(inputs.borrower_ids):
        spec = book.borrowers[borrower_id]
        flags = ind.borrower_flags + b * c.N_BORROWER_FLAGS
        p_default, p_default_se = err.p(flags + 0)
        p_forced, p_forced_se = err.p(flags + 1)
        p_cascade, p_cascade_se = err.p(flags + 2)
        a = amt.borrowers + b * N_AB
        sold_mean, sold_se = err.mean(a + AB_SOLD)
        equity_mean, equity_se = err.mean(a + AB_EQUITY)
        money_lo = inputs.borrower_p[b, BP_MONEY_LO]
        money_hi = money_lo * 10.0**AMOUNT_DECADES
        lar = quantiles_from_log_hist(h["lar_hist"][b], money_lo, money_hi, np.array([0.5, 0.95, 0.99]))
        equity_q = quantiles_from_signed_hist(h["equity_hist"][b], inputs.borrower_p[b, BP_EQUITY_SCALE], FAN_PROBS)
        causes, causes_se = _causes(err, ind.borrower_causes + b * c.N_CAUSES)
        default_curve = np.cumsum(h["borrower_default_day"][b][:-1]) / n
        own = [l for l, loan_id in enumerate(inputs.loan_ids) if book.loan_borrower[loan_id] == borrower_id]
        holdings0 = sum(book.holding_value(borrower_id, a_id) for a_id in book.assets)
        owed0 = sum(book.loans[inputs.loan_ids[l]].principal for l in own)
        interest = sum(
            book.loans[inputs.loan_ids[l]].principal * book.loans[inputs.loan_ids[l]].annual_rate * book.loans[inputs.loan_ids[l]].term_days * dt
            for l in own
        )
        longest = max((book.loans[inputs.loan_ids[l]].term_days * dt for l in own), default=0.0)
        borrowers[borrower_id] = BorrowerResult(
            name=book.borrower_name(borrower_id),
            p_default=p_default,
            p_default_se=p_default_se,
            p_default_by_cause=causes,
            p_default_by_cause_se=causes_se,
            p_default_by_day=default_curve.tolist(),
            liquidity_at_risk_50=float(lar[0]),
            liquidity_at_risk_95=float(lar[1]),
            liquidity_at_risk_99=float(lar[2]),
            expected_liquidity_used=float(err.sums[a + AB_LAR] / n),
            p_forced_sale=p_forced,
            p_forced_sale_se=p_forced_se,
            expected_sold_value=sold_mean,
            expected_sold_value_se=sold_se,
            expected_impact_cost=float((err.sums[a + AB_EXEC_COST] - err.sums[a + AB_DISCOUNT_COST]) / n),
            expected_discount_cost=float(err.sums[a + AB_DISCOUNT_COST] / n),
            expected_drawn=float(err.sums[a + AB_DRAWN] / n),
            p_cascade=p_cascade,
            p_cascade_se=p_cascade_se,
            called_together={
                inputs.loan_ids[i]: {inputs.loan_ids[j]: float(cocall[i, j] / n) for j in own} for i in own
            },
            equity_quantiles={key: _clean(v) for key, v in zip(FAN_KEYS, equity_q)},
            expected_equity=equity_mean,
            expected_equity_se=equity_se,
            equity_day0=float(spec.cash + holdings0 - owed0),
            cash_quantiles={
                "day": rec_days,
                **_fan(h["cash_hist"][b].T, lambda x: quantiles_from_log_hist(x, money_lo, money_hi, FAN_PROBS)),
            },
            events={name: err.p(flags + k)[0] for k, name in enumerate(BORROWER_FLAG_NAMES)},
            breakeven_growth=breakeven_growth(holdings0, interest, longest),
            max_ledger_residual=float(ledger[b]) if ledger.shape[0] else 0.0,
            reality_check=reality_check(
                rating=spec.rating, cds_bp=spec.cds_bp, cds_recovery=spec.cds_recovery,
                default_curve=default_curve.tolist(), default_se=_curve_se(default_curve, n),
                days_per_year=scenario.days_per_year,
            ),
        )

    lenders: dict[str, LenderResult] = {}
    for k, lender_id in enumerate(inputs.lender_ids):
        spec = book.lenders[lender_id]
        p_loss, p_loss_se = err.p(ind.lender_loss + k)
        loss_mean, loss_se = err.mean(amt.lenders + k)
        lo = inputs.lender_p[k, NP_LOSS_LO]
        hi = lo * 10.0**AMOUNT_DECADES
        hist = h["lender_loss_hist"][k]
        var95, var99 = quantiles_from_log_hist(hist, lo, hi, np.array([0.95, 0.99]))
        over = over_se = None
        if spec.capital:
            over, over_se = {}, {}
            for j, level in enumerate(CAPITAL_LEVELS):
                over[f"{level:g}"], over_se[f"{level:g}"] = err.p(ind.lender_capital + k * len(CAPITAL_LEVELS) + j)
        lenders[lender_id] = LenderResult(
            name=book.lender_name(lender_id),
            loans=[loan_id for loan_id in inputs.loan_ids if book.loan_lender[loan_id] == lender_id],
            capital=spec.capital,
            p_loss=p_loss,
            p_loss_se=p_loss_se,
            expected_loss=loss_mean,
            expected_loss_se=loss_se,
            loss_var_95=float(var95),
            loss_es_95=float(tail_mean_from_log_hist(hist, lo, hi, 0.95)),
            loss_var_99=float(var99),
            loss_es_99=float(tail_mean_from_log_hist(hist, lo, hi, 0.99)),
            p_loss_over_capital=over,
            p_loss_over_capital_se=over_se,
            loss_distribution=loss_distribution(hist, lo),
        )

    defaults = np.array([err.p(ind.defaults_count + k)[0] for k in range(B + 1)])
    p_none, p_none_se = err.p(ind.defaults_count + 0)
    ks = np.arange(B + 1)
    expected_defaults = float(defaults @ ks)
    defaults_se = math.sqrt(max(float(defaults @ ks**2) - expected_defaults**2, 0.0) / max(n - 1, 1))
    forced_mean, forced_se = err.mean(amt.forced_sales)
    sold = stats.total("sold") / n
    system = SystemResult(
        borrowers_in_default={str(k): float(p) for k, p in enumerate(defaults)},
        p_any_default=1.0 - p_none,
        p_any_default_se=p_none_se,
        expected_defaults=expected_defaults,
        expected_defaults_se=defaults_se,
        expected_forced_sales=forced_mean,
        expected_forced_sales_se=forced_se,
        sold_value_by_asset={a: float(sold[:, i].sum()) for i, a in enumerate(inputs.asset_ids)},
        sold_value_by_day={"day": rec_days, **{a: sold[:, i].tolist() for i, a in enumerate(inputs.asset_ids)}},
        price_quantiles={
            a: {"day": rec_days, **_fan(h["price_hist"][i].T, lambda x: quantiles_from_log_hist(x, LTV_LO, LTV_HI, FAN_PROBS))}
            for i, a in enumerate(inputs.asset_ids)
        },
    )
    return SimulationResult(
        scenario=scenario.name or "scenario",
        paths=n,
        seed=seed,
        horizon_days=inputs.horizon,
        days_per_year=scenario.days_per_year,
        currency=scenario.currency,
        version=version,
        start_date=scenario.start_date.isoformat() if scenario.start_date else None,
        loans=loans,
        borrowers=borrowers,
        lenders=lenders,
        system=system,
        variance_reduction="antithetic" if inputs.antithetic else "none",
        elapsed_seconds=elapsed,
        compile_seconds=compile_seconds,
    )
