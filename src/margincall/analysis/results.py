"""Results of a run: probabilities with standard errors, loss and liquidity quantiles, fan charts.

The same fields appear on the Python objects and in `result.json` (`SimulationResult.to_dict`).
A probability is the share of paths on which the event happens at least once within the horizon;
its standard error is sqrt(p (1 - p) / paths).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from margincall.engine import codes as c
from margincall.engine.bins import AMOUNT_DECADES, LTV_HI, LTV_LO, quantiles_from_log_hist, quantiles_from_signed_hist, tail_mean_from_log_hist
from margincall.engine.kernel import (
    BS_DISCOUNT_COST,
    BS_EQUITY,
    BS_EQUITY_SQ,
    BS_EXEC_COST,
    BS_LAR,
    BS_SOLD,
    BS_SOLD_SQ,
    LS_CURE_PAID,
    LS_LOSS,
    LS_LOSS_SQ,
)
from margincall.engine.lower import EngineInputs
from margincall.analysis.statistics import RunStatistics

FAN_PROBS = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
FAN_KEYS = ("p5", "p25", "p50", "p75", "p95")


def _se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1.0 - p), 0.0) / n)


def _mean_se(total: float, total_sq: float, n: int) -> tuple[float, float]:
    mean = total / n
    var = max(total_sq / n - mean * mean, 0.0)
    return mean, math.sqrt(var / max(n - 1, 1))


class _Errors:
    """Standard errors: of independent paths, or of antithetic pairs (the pair mean is the
    independent unit: Var = ((p + q) / 2 - p^2) / pairs, q = P(event on both paths of a pair))."""

    def __init__(self, stats: RunStatistics, antithetic: bool):
        self.n = stats.n_paths
        self.pairs = self.n // 2
        self.antithetic = antithetic
        self.loan_both = stats.total("pair_loan_both")
        self.borrower_both = stats.total("pair_borrower_both")
        self.loss_sq = stats.total("pair_loss_sq")
        self.sold_sq = float(stats.total("pair_sold_sq"))

    def prob(self, p: float, both: int) -> float:
        if not self.antithetic:
            return _se(p, self.n)
        q = both / self.pairs
        return math.sqrt(max((p + q) / 2.0 - p * p, 0.0) / self.pairs)

    def mean(self, total: float, total_sq: float, pair_sq: float) -> tuple[float, float]:
        if not self.antithetic:
            return _mean_se(total, total_sq, self.n)
        mean = total / self.n
        var = max(pair_sq / (4.0 * self.pairs) - mean * mean, 0.0)
        return mean, math.sqrt(var / max(self.pairs - 1, 1))


def _clean(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass(frozen=True)
class LoanResult:
    lender: str
    secured: bool
    principal: float
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
    first_call_day: dict[str, float | None]
    ltv_quantiles: dict[str, list[float | None]] | None
    p_margin_call_by_day: list[float]
    p_default_by_day: list[float]
    events: dict[str, float]
    expected_cure_paid: float
    breakeven_growth: float | None


@dataclass(frozen=True)
class BorrowerResult:
    p_default: float
    p_default_se: float
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
    sold_value_by_asset: dict[str, float]
    sold_value_by_day: dict[str, list[float]]
    p_cascade: float
    p_cascade_se: float
    called_together: dict[str, dict[str, float]]
    equity_quantiles: dict[str, float | None]
    expected_equity: float
    equity_day0: float
    cash_quantiles: dict[str, list[float | None]]
    breakeven_growth: float | None
    max_ledger_residual: float


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
    borrower: BorrowerResult
    variance_reduction: str = "none"  # or "antithetic"
    elapsed_seconds: float = field(default=0.0, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        return path


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


def breakeven_growth(value: float, interest: float, years: float) -> float | None:
    """Annual growth g with value * ((1 + g)^years - 1) = interest: the collateral growth that pays
    the interest over the term."""
    if value <= 0.0 or years <= 0.0:
        return None
    return (1.0 + interest / value) ** (1.0 / years) - 1.0


def build_result(stats: RunStatistics, inputs: EngineInputs, *, scenario: str, seed: int, days_per_year: int,
                 currency: str, version: str, elapsed: float = 0.0) -> SimulationResult:
    n = stats.n_paths
    mk, ln, rec = inputs.market, inputs.loans, inputs.recording
    err = _Errors(stats, rec.antithetic)
    rec_days = rec.rec_days.tolist()
    loan_counts = stats.total("loan_counts")
    loan_sums = stats.total("loan_sums")
    cocall = stats.total("cocall")
    h = stats.hists
    money_lo = rec.money_scale * 1e-7
    money_hi = money_lo * 10.0**AMOUNT_DECADES
    loans: dict[str, LoanResult] = {}
    flag_names = [flag.name.lower() for flag in c.LoanEvent]
    for l, loan_id in enumerate(inputs.loan_ids):
        count = loan_counts[l]
        p_call = count[0] / n
        p_default = count[4] / n
        p_loss = count[6] / n
        loss_mean, loss_se = err.mean(loan_sums[l, LS_LOSS], loan_sums[l, LS_LOSS_SQ], err.loss_sq[l])
        lo = ln.principal[l] * 1e-7
        hi = lo * 10.0**AMOUNT_DECADES
        var95, var99 = quantiles_from_log_hist(h["loss_hist"][l], lo, hi, np.array([0.95, 0.99]))
        first_call = h["first_call"][l]
        first_default = h["first_default"][l]
        call_curve = np.cumsum(first_call[:-1]) / n  # by day 0..H, exact (integer days)
        default_curve = np.cumsum(first_default[:-1]) / n
        secured = bool(ln.secured[l])
        ltv = None
        if secured:
            ltv = {"day": rec_days, **_fan(h["ltv_hist"][l].T, lambda x: quantiles_from_log_hist(x, LTV_LO, LTV_HI, FAN_PROBS))}
        pool0 = float((ln.pledge[l] * mk.value0).sum())
        years = ln.term[l] * rec.dt
        loans[loan_id] = LoanResult(
            lender=inputs.lenders[l],
            secured=secured,
            principal=float(ln.principal[l]),
            p_margin_call=p_call,
            p_margin_call_se=err.prob(p_call, err.loan_both[l, 0]),
            p_default=p_default,
            p_default_se=err.prob(p_default, err.loan_both[l, 4]),
            p_loss=p_loss,
            p_loss_se=err.prob(p_loss, err.loan_both[l, 6]),
            expected_loss=loss_mean,
            expected_loss_se=loss_se,
            loss_var_95=float(var95),
            loss_es_95=float(tail_mean_from_log_hist(h["loss_hist"][l], lo, hi, 0.95)),
            loss_var_99=float(var99),
            loss_es_99=float(tail_mean_from_log_hist(h["loss_hist"][l], lo, hi, 0.99)),
            first_call_day=_day_quantiles(first_call),
            ltv_quantiles=ltv,
            p_margin_call_by_day=call_curve.tolist(),
            p_default_by_day=default_curve.tolist(),
            events={name: float(count[k] / n) for k, name in enumerate(flag_names)},
            expected_cure_paid=float(loan_sums[l, LS_CURE_PAID] / n),
            breakeven_growth=breakeven_growth(pool0, float(ln.principal[l] * ln.rate[l] * years), years) if secured else None,
        )

    borrower_counts = stats.total("borrower_counts")
    bs = stats.total("borrower_sums")
    lar = quantiles_from_log_hist(h["lar_hist"], money_lo, money_hi, np.array([0.5, 0.95, 0.99]))
    sold_mean, sold_se = err.mean(bs[BS_SOLD], bs[BS_SOLD_SQ], err.sold_sq)
    equity_mean, _ = _mean_se(bs[BS_EQUITY], bs[BS_EQUITY_SQ], n)
    sold_interval = stats.total("sold_interval") / n
    equity_q = quantiles_from_signed_hist(h["equity_hist"], rec.equity_scale, FAN_PROBS)
    holdings0 = float(mk.value0.sum())
    interest_total = float((ln.principal * ln.rate * ln.term * rec.dt).sum())
    max_years = float(ln.term.max() * rec.dt)
    p_bdefault = borrower_counts[0] / n
    p_forced = borrower_counts[1] / n
    p_cascade = borrower_counts[2] / n
    borrower = BorrowerResult(
        p_default=p_bdefault,
        p_default_se=err.prob(p_bdefault, err.borrower_both[0]),
        liquidity_at_risk_50=float(lar[0]),
        liquidity_at_risk_95=float(lar[1]),
        liquidity_at_risk_99=float(lar[2]),
        expected_liquidity_used=float(bs[BS_LAR] / n),
        p_forced_sale=p_forced,
        p_forced_sale_se=err.prob(p_forced, err.borrower_both[1]),
        expected_sold_value=sold_mean,
        expected_sold_value_se=sold_se,
        expected_impact_cost=float((bs[BS_EXEC_COST] - bs[BS_DISCOUNT_COST]) / n),
        expected_discount_cost=float(bs[BS_DISCOUNT_COST] / n),
        sold_value_by_asset={a: float(sold_interval[:, i].sum()) for i, a in enumerate(inputs.asset_ids)},
        sold_value_by_day={"day": rec_days, **{a: sold_interval[:, i].tolist() for i, a in enumerate(inputs.asset_ids)}},
        p_cascade=p_cascade,
        p_cascade_se=err.prob(p_cascade, err.borrower_both[2]),
        called_together={
            a: {b: float(cocall[i, j] / n) for j, b in enumerate(inputs.loan_ids)} for i, a in enumerate(inputs.loan_ids)
        },
        equity_quantiles={key: _clean(v) for key, v in zip(FAN_KEYS, equity_q)},
        expected_equity=equity_mean,
        equity_day0=float(inputs.borrower.cash0 + holdings0 - ln.principal.sum()),
        cash_quantiles={"day": rec_days, **_fan(h["cash_hist"].T, lambda x: quantiles_from_log_hist(x, money_lo, money_hi, FAN_PROBS))},
        breakeven_growth=breakeven_growth(holdings0, interest_total, max_years),
        max_ledger_residual=float(stats.blocks["ledger_max"].max(initial=0.0)),
    )
    return SimulationResult(
        scenario=scenario,
        paths=n,
        seed=seed,
        variance_reduction="antithetic" if rec.antithetic else "none",
        horizon_days=rec.horizon,
        days_per_year=days_per_year,
        currency=currency,
        version=version,
        loans=loans,
        borrower=borrower,
        elapsed_seconds=elapsed,
    )
