"""Sensitivities of the headline metrics by common-random-number finite differences, and the
debt-service breakeven of each loan with the probability that the collateral beats it.

`sensitivities` bumps each volatility, correlation, drift, haircut and LTV trigger, simulates the
bumped scenario with the same seeds as the base (so each path sees the same market draws and the
difference is the bump's effect, not noise), and reports the change of each headline metric for
the bump, by central differences where both sides of the bump are valid scenarios and one-sided
ones where not. The engine reports aggregates only, so the standard error of a difference comes
from `batches` independent batches of paths/batches paths (seeds seed, seed + 1, ...): the
difference is estimated in each batch and its SE is the spread of the batch differences /
sqrt(batches).

`debt_service` needs no simulation: the breakeven is the annual growth of the pledged collateral
that pays the loan's interest over its term (as `LoanResult.breakeven_growth`), and the
probability that the collateral grows at least that much is computed from the scenario's market
law (GBM with compound-Poisson jumps and its shocks): in closed form, as a Poisson mixture of
normals, for a pool of one asset, and by a Monte Carlo of the same law at the term (numpy) for a
pool of several. It follows the collateral's fair value and ignores the borrower's actions (cures,
pledges, sales, their price impact).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from margincall.analysis.results import SimulationResult
from margincall.analysis.simulate import simulate
from margincall.analysis.variants import with_values
from margincall.errors import ScenarioError
from margincall.model.scenario import Scenario

HEADLINE_LOAN = ("p_margin_call", "p_default", "expected_loss", "loss_var_99")
HEADLINE_BORROWER = ("p_default", "liquidity_at_risk_95", "p_cascade")
KINDS = ("volatility", "correlation", "drift", "haircut", "trigger")
DEFAULT_SIZES = {"volatility": 0.01, "correlation": 0.05, "drift": 0.01, "haircut": 0.05, "trigger": 0.01}
TRIGGERS = ("margin_call_ltv", "cure_ltv", "liquidation_ltv")


@dataclass(frozen=True)
class Bump:
    """One bump: the scenario moved up by `size` (and down, for a central difference)."""

    name: str
    kind: str
    size: float
    up: Scenario | None
    down: Scenario | None

    @property
    def method(self) -> Literal["central", "forward", "backward"]:
        if self.up is not None and self.down is not None:
            return "central"
        return "forward" if self.up is not None else "backward"


@dataclass(frozen=True)
class Sensitivity:
    """The change of one metric for one bump, with its standard error."""

    bump: str
    kind: str
    size: float
    method: str
    metric: str
    base: float
    change: float
    se: float


@dataclass(frozen=True)
class DebtService:
    """Breakeven collateral growth of a loan (or of all holdings, for the borrower) and the
    probability that the collateral beats it over the term."""

    who: str
    years: float
    collateral: float
    interest: float
    breakeven_growth: float | None
    p_beats: float | None
    p_beats_se: float
    method: str


@dataclass(frozen=True)
class SensitivityReport:
    scenario: str
    paths: int
    seed: int
    batches: int
    base: dict[str, float]
    rows: list[Sensitivity]
    notes: list[str]
    debt_service: list[DebtService] = field(default_factory=list)

    def table(self) -> dict[str, dict[str, Sensitivity]]:
        """bump name -> metric -> sensitivity."""
        out: dict[str, dict[str, Sensitivity]] = {}
        for row in self.rows:
            out.setdefault(row.bump, {})[row.metric] = row
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "paths": self.paths,
            "seed": self.seed,
            "batches": self.batches,
            "base": dict(self.base),
            "sensitivities": [asdict(r) for r in self.rows],
            "notes": list(self.notes),
            "debt_service": [asdict(d) for d in self.debt_service],
        }


# -- bumps ----------------------------------------------------------------------------------------


def _variant(scenario: Scenario, values: dict[str, Any]) -> Scenario | None:
    try:
        return with_values(scenario, values)
    except ScenarioError:
        return None


def bumps(
    scenario: Scenario,
    *,
    kinds: Sequence[str] | None = None,
    sizes: dict[str, float] | None = None,
) -> tuple[list[Bump], list[str]]:
    """The bumps of each kind (default: all) and notes on those skipped."""
    kinds = list(kinds or KINDS)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ScenarioError("--only", [(k, f"unknown kind of bump; kinds: {', '.join(KINDS)}") for k in unknown])
    size = {**DEFAULT_SIZES, **(sizes or {})}
    out: list[Bump] = []
    notes: list[str] = []

    def add(name: str, kind: str, up: dict[str, Any] | None, down: dict[str, Any] | None, why: str = "") -> None:
        s_up = _variant(scenario, up) if up is not None else None
        s_down = _variant(scenario, down) if down is not None else None
        if s_up is None and s_down is None:
            notes.append(f"{name}: skipped, neither side of the bump is a valid scenario{why}")
            return
        if s_up is None or s_down is None:
            side = "forward" if s_up is not None else "backward"
            notes.append(f"{name}: {side} difference (the other side is not a valid scenario{why})")
        out.append(Bump(name=name, kind=kind, size=size[kind], up=s_up, down=s_down))

    if "volatility" in kinds:
        h = size["volatility"]
        for a, asset in scenario.assets.items():
            path = f"assets.{a}.volatility"
            add(f"volatility {a} {h:+g}", "volatility", {path: asset.volatility + h},
                {path: asset.volatility - h} if asset.volatility - h >= 0.0 else None)
    if "correlation" in kinds:
        h = size["correlation"]
        ids = scenario.asset_ids
        matrix = scenario.correlation_matrix()
        for i in range(len(ids)):
            for j in range(i + 1, len(ids)):
                rho = float(matrix[i, j])
                up = _with_correlation(scenario, ids[i], ids[j], rho + h) if rho + h <= 1.0 else None
                down = _with_correlation(scenario, ids[i], ids[j], rho - h) if rho - h >= -1.0 else None
                add(f"correlation {ids[i]}/{ids[j]} {h:+g}", "correlation", up, down,
                    "; the correlation matrix would not be positive semi-definite" if up is not None else "")
    if "drift" in kinds:
        h = size["drift"]
        for a, asset in scenario.assets.items():
            path = f"assets.{a}.drift"
            add(f"drift {a} {h:+g}", "drift", {path: asset.drift + h}, {path: asset.drift - h})
    if "haircut" in kinds:
        h = size["haircut"]
        for loan_id, loan in scenario.loans.items():
            if not loan.secured:
                continue
            cuts = loan.accepted_haircuts
            for a, cut in cuts.items():
                path = f"loans.{loan_id}.haircuts"
                up = {path: {**cuts, a: cut + h}} if cut + h < 1.0 else None
                down = {path: {**cuts, a: cut - h}} if cut - h >= 0.0 else None
                add(f"haircut {loan_id}/{a} {h:+g}", "haircut", up, down)
    if "trigger" in kinds:
        h = size["trigger"]
        for loan_id, loan in scenario.loans.items():
            if not loan.secured:
                continue
            for name in TRIGGERS:
                level = getattr(loan, name)
                path = f"loans.{loan_id}.{name}"
                add(f"{name} {loan_id} {h:+g}", "trigger", {path: level + h}, {path: level - h} if level - h > 0 else None,
                    "; the order cure < call < liquidation would break")
    return out, notes


def _with_correlation(scenario: Scenario, a: str, b: str, rho: float) -> dict[str, Any]:
    pairs = [list(p) for p in scenario.correlation]
    for p in pairs:
        if {p[0], p[1]} == {a, b}:
            p[2] = rho
            break
    else:
        pairs.append([a, b, rho])
    return {"correlation": pairs}


# -- the headline metrics -------------------------------------------------------------------------


def headline(result: SimulationResult) -> dict[str, float]:
    """`<loan>.<metric>` and `borrower.<metric>` -> value, for the headline metrics."""
    out: dict[str, float] = {}
    for loan_id, r in result.loans.items():
        for m in HEADLINE_LOAN:
            if m == "p_margin_call" and not r.secured:
                continue
            out[f"{loan_id}.{m}"] = float(getattr(r, m))
    for m in HEADLINE_BORROWER:
        out[f"borrower.{m}"] = float(getattr(result.borrower, m))
    return out


Progress = Callable[[int, int], None]  # (runs done, runs in all)


def sensitivities(
    scenario: Scenario,
    *,
    paths: int = 20_000,
    seed: int = 0,
    batches: int = 8,
    kinds: Sequence[str] | None = None,
    sizes: dict[str, float] | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
) -> SensitivityReport:
    """The change of each headline metric for a bump of each volatility, correlation, drift,
    haircut and trigger, with standard errors from `batches` independent batches."""
    if batches < 2:
        raise ScenarioError("--batches", [("batches", "at least 2 batches are needed for a standard error")])
    if paths < batches:
        raise ScenarioError("--paths", [("paths", f"give at least one path per batch ({batches})")])
    bump_list, notes = bumps(scenario, kinds=kinds, sizes=sizes)
    per = paths // batches
    variants: list[Scenario] = [scenario]
    index: dict[int, int] = {id(scenario): 0}
    for b in bump_list:
        for s in (b.up, b.down):
            if s is not None and id(s) not in index:
                index[id(s)] = len(variants)
                variants.append(s)
    total = len(variants) * batches
    done = 0
    values: list[list[dict[str, float]]] = []  # [variant][batch] -> metrics
    for v in variants:
        row = []
        for k in range(batches):
            row.append(headline(simulate(v, paths=per, seed=seed + k, threads=threads)))
            done += 1
            if progress is not None:
                progress(done, total)
        values.append(row)
    metrics = list(values[0][0])
    base = {m: float(np.mean([values[0][k][m] for k in range(batches)])) for m in metrics}
    rows: list[Sensitivity] = []
    for b in bump_list:
        up = values[index[id(b.up)]] if b.up is not None else None
        down = values[index[id(b.down)]] if b.down is not None else None
        for m in metrics:
            if up is not None and down is not None:
                diffs = [(up[k][m] - down[k][m]) / 2.0 for k in range(batches)]
            elif up is not None:
                diffs = [up[k][m] - values[0][k][m] for k in range(batches)]
            else:
                assert down is not None
                diffs = [values[0][k][m] - down[k][m] for k in range(batches)]
            rows.append(Sensitivity(
                bump=b.name, kind=b.kind, size=b.size, method=b.method, metric=m, base=base[m],
                change=float(np.mean(diffs)), se=float(np.std(diffs, ddof=1) / math.sqrt(batches)),
            ))
    notes.append(
        f"standard errors from {batches} independent batches of {per:,} paths (seeds {seed}..{seed + batches - 1}); "
        "quantile metrics (loss VaR, liquidity at risk) are averages of the batch quantiles"
    )
    return SensitivityReport(
        scenario=scenario.name or "scenario", paths=per * batches, seed=seed, batches=batches, base=base,
        rows=rows, notes=notes, debt_service=debt_service(scenario, seed=seed),
    )


# -- debt service ---------------------------------------------------------------------------------


def _normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _shock_log(scenario: Scenario, asset: str, last_day: int) -> float:
    """Sum of the log moves of the scenario's shocks on `asset` on days 0..last_day."""
    total = 0.0
    for s in scenario.shocks:
        if s.asset != asset:
            continue
        start = scenario.day_number(s.day)
        days = sum(1 for k in range(s.over_days) if start + k <= last_day)
        if days == 0:
            continue
        if s.change <= -1.0:
            return -math.inf
        total += math.log1p(s.change) * days / s.over_days
    return total


def p_log_growth_at_least(drift: float, volatility: float, years: float, threshold: float, *,
                          jump_rate: float = 0.0, jump_mean: float = 0.0, jump_stdev: float = 0.0,
                          shift: float = 0.0) -> float:
    """P(X >= threshold) for X = (drift - vol^2/2) T + vol sqrt(T) Z + shift + Σ_{i<=N} J_i, with
    N ~ Poisson(jump_rate T) and J_i ~ N(jump_mean, jump_stdev^2): a Poisson mixture of normals."""
    if shift == -math.inf:
        return 0.0
    lam = jump_rate * years
    total = 0.0
    weight_sum = 0.0
    n = 0
    log_weight = -lam
    while True:
        weight = math.exp(log_weight)
        mean = (drift - 0.5 * volatility**2) * years + n * jump_mean + shift
        var = volatility**2 * years + n * jump_stdev**2
        if var <= 0.0:
            p = 1.0 if mean >= threshold else 0.0
        else:
            p = 1.0 - _normal_cdf((threshold - mean) / math.sqrt(var))
        total += weight * p
        weight_sum += weight
        n += 1
        if lam == 0.0 or (n > lam and 1.0 - weight_sum < 1e-13) or n > 10_000:
            break
        log_weight += math.log(lam) - math.log(n)
    return min(max(total, 0.0), 1.0)


def _p_pool_beats(scenario: Scenario, pledge: dict[str, float], years: float, days: int, growth: float, *,
                  seed: int, draws: int) -> tuple[float, float, str]:
    """P(pool value at the term >= day-0 pool value x (1 + growth)^years)."""
    threshold = years * math.log1p(growth)
    assets = [a for a, f in pledge.items() if f > 0.0]
    if len(assets) == 1:
        a = assets[0]
        spec = scenario.assets[a]
        j = spec.jumps
        p = p_log_growth_at_least(
            spec.drift, spec.volatility, years, threshold,
            jump_rate=j.rate if j else 0.0, jump_mean=j.mean if j else 0.0, jump_stdev=j.stdev if j else 0.0,
            shift=_shock_log(scenario, a, days),
        )
        return p, 0.0, "closed form (Poisson mixture of normals)"
    ids = scenario.asset_ids
    idx = [ids.index(a) for a in assets]
    corr = scenario.correlation_matrix()[np.ix_(idx, idx)]
    values = np.array([pledge[a] * scenario.assets[a].value for a in assets])
    rng = np.random.default_rng(seed)
    eigval, eigvec = np.linalg.eigh(corr)
    root = eigvec * np.sqrt(np.clip(eigval, 0.0, None))
    z = rng.standard_normal((draws, len(assets))) @ root.T
    logs = np.empty((draws, len(assets)))
    for k, a in enumerate(assets):
        spec = scenario.assets[a]
        x = (spec.drift - 0.5 * spec.volatility**2) * years + spec.volatility * math.sqrt(years) * z[:, k]
        if spec.jumps is not None and spec.jumps.rate > 0.0:
            n = rng.poisson(spec.jumps.rate * years, draws)
            x = x + n * spec.jumps.mean + np.sqrt(n) * spec.jumps.stdev * rng.standard_normal(draws)
        shift = _shock_log(scenario, a, days)
        logs[:, k] = x + shift if math.isfinite(shift) else -np.inf
    ratio = (np.exp(logs) * values).sum(axis=1) / values.sum()
    hits = ratio >= math.exp(threshold)
    p = float(hits.mean())
    return p, math.sqrt(max(p * (1 - p), 0.0) / draws), f"Monte Carlo of the same law at the term ({draws:,} draws)"


def debt_service(scenario: Scenario, *, seed: int = 0, draws: int = 200_000) -> list[DebtService]:
    """For each secured loan, the annual growth of its pledged collateral that pays its interest over
    its term (principal x rate x years; the breakeven), and the probability that the collateral's
    fair value beats it; the same for the borrower over all its holdings and its longest term. The
    probability follows the scenario's market law and shocks; it ignores the borrower's actions."""
    dpy = scenario.days_per_year
    out: list[DebtService] = []
    for loan_id, loan in scenario.loans.items():
        if not loan.secured:
            continue
        years = loan.term_days / dpy
        pledge = dict(loan.collateral or {})
        pool = sum(f * scenario.assets[a].value for a, f in pledge.items())
        interest = loan.principal * loan.annual_rate * years
        g = _breakeven(pool, interest, years)
        if g is None:
            out.append(DebtService(loan_id, years, pool, interest, None, None, 0.0, "no collateral value"))
            continue
        p, se, method = _p_pool_beats(scenario, pledge, years, loan.term_days, g, seed=seed, draws=draws)
        out.append(DebtService(loan_id, years, pool, interest, g, p, se, method))
    term = max(loan.term_days for loan in scenario.loans.values())
    years = term / dpy
    holdings = {a: 1.0 for a in scenario.assets}
    total = sum(asset.value for asset in scenario.assets.values())
    interest = sum(loan.principal * loan.annual_rate * loan.term_days / dpy for loan in scenario.loans.values())
    g = _breakeven(total, interest, years)
    if g is not None:
        p, se, method = _p_pool_beats(scenario, holdings, years, term, g, seed=seed, draws=draws)
        out.append(DebtService("borrower", years, total, interest, g, p, se, method))
    return out


def _breakeven(value: float, interest: float, years: float) -> float | None:
    if value <= 0.0 or years <= 0.0:
        return None
    return (1.0 + interest / value) ** (1.0 / years) - 1.0


__all__ = [
    "HEADLINE_BORROWER",
    "HEADLINE_LOAN",
    "KINDS",
    "Bump",
    "DebtService",
    "Sensitivity",
    "SensitivityReport",
    "bumps",
    "debt_service",
    "headline",
    "p_log_growth_at_least",
    "sensitivities",
]
