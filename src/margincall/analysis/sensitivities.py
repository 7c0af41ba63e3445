"""Sensitivities of the headline metrics by common-random-number finite differences, and the
debt-service breakeven of each loan with the probability that the collateral beats it.

`sensitivities` bumps each volatility, correlation and drift, each haircut and the call and
liquidation LTVs of each secured loan (the cure level too when asked: kind `cure`), down and up
by a size of the usual order of uncertainty of that input (`DEFAULT_SIZES`), simulates each bumped scenario once with the same seed as the base (so every
path sees the same market draws and a difference is the bump's effect, not noise), and reports
the change of each headline metric on each side. The standard error of a change comes from the
paths themselves: the run's sums are kept per block of `block_paths` paths, the same blocks in
every variant, and the change is estimated block by block (a paired, cluster estimate), so one
simulation per variant gives both the change and its error. Metrics are probabilities and means
(P(margin call), P(default), expected loss, ...): their block sums add up exactly.

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
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from margincall.analysis.history import history_returns
from margincall.analysis.simulate import run_statistics
from margincall.analysis.statistics import RunStatistics
from margincall.analysis.variants import with_values
from margincall.engine import codes as c
from margincall.engine.layout import LI_SECURED
from margincall.engine.lower import EngineInputs, lower
from margincall.engine.outputs import AB_LAR, AL_LOSS, N_AB, N_AL, Amounts, Indicators
from margincall.errors import ScenarioError
from margincall.model.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

HEADLINE_LOAN = ("p_margin_call", "p_default", "expected_loss")
HEADLINE_BORROWER = ("p_default", "p_cascade", "expected_liquidity_used")
KINDS = ("volatility", "correlation", "drift", "haircut", "trigger", "cure")
# bumped unless --only says otherwise: the cure level moves the cash spent on cures more than
# whether a loan defaults, so it is asked for by name (`cure`)
DEFAULT_KINDS = ("volatility", "correlation", "drift", "haircut", "trigger")
# bump sizes, absolute: 5 volatility points, 0.1 of correlation, 5% a year of drift, 5 points of
# haircut, 2.5 points of an LTV level
DEFAULT_SIZES = {"volatility": 0.05, "correlation": 0.1, "drift": 0.05, "haircut": 0.05, "trigger": 0.025, "cure": 0.025}
TRIGGERS = {"trigger": ("margin_call_ltv", "liquidation_ltv"), "cure": ("cure_ltv",)}
DEFAULT_PATHS = 4_096  # 16 blocks of 256
DEFAULT_METRIC = "borrower.p_default"
SYSTEM_DEFAULT_METRIC = "system.p_any_default"  # the default of a book of several borrowers
BLOCK_PATHS = 256  # paths per block: the pairing unit of the standard errors


@dataclass(frozen=True)
class Bump:
    """One input moved down and up by `size` (`down`/`up` are None where that side is not a valid
    scenario). `field` is its path in the scenario; `value` its value in the base."""

    name: str
    kind: str
    field: str
    size: float
    value: float
    up: Scenario | None
    down: Scenario | None

    @property
    def method(self) -> Literal["central", "forward", "backward"]:
        if self.up is not None and self.down is not None:
            return "central"
        return "forward" if self.up is not None else "backward"


@dataclass(frozen=True)
class Sensitivity:
    """The change of one metric for one bump: on each side (None where that side is not valid),
    and `change` = the central difference per bump (up − down) / 2, or the one side there is,
    each with its standard error. `swing` = |change up − change down|, the tornado bar's length."""

    bump: str
    kind: str
    field: str
    size: float
    value: float
    method: str
    metric: str
    base: float
    change: float
    se: float
    down_change: float | None
    down_se: float | None
    up_change: float | None
    up_se: float | None

    @property
    def swing(self) -> float:
        return abs((self.up_change or 0.0) - (self.down_change or 0.0))


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
    currency: str
    paths: int
    seed: int
    block_paths: int
    base: dict[str, float]
    base_se: dict[str, float]
    rows: list[Sensitivity]
    notes: list[str]
    debt_service: list[DebtService] = field(default_factory=list)
    simulations: int = 0
    elapsed_seconds: float = 0.0

    @property
    def metrics(self) -> list[str]:
        return list(self.base)

    @property
    def default_metric(self) -> str:
        """The borrower's P(default); for a book of several borrowers, P(any borrower defaults)."""
        return DEFAULT_METRIC if DEFAULT_METRIC in self.base else SYSTEM_DEFAULT_METRIC

    def table(self) -> dict[str, dict[str, Sensitivity]]:
        """bump name -> metric -> sensitivity."""
        out: dict[str, dict[str, Sensitivity]] = {}
        for row in self.rows:
            out.setdefault(row.bump, {})[row.metric] = row
        return out

    def ranked(self, metric: str | None = None) -> list[Sensitivity]:
        """The bumps' rows for `metric` (default: `default_metric`), largest swing first (the order
        of a tornado chart)."""
        metric = metric or self.default_metric
        if metric not in self.base:
            raise ScenarioError("--metric", [(metric, f"not a metric of this report; metrics: {', '.join(self.base)}")])
        rows = [r for r in self.rows if r.metric == metric]
        return sorted(rows, key=lambda r: (-r.swing, r.bump))

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "currency": self.currency,
            "paths": self.paths,
            "seed": self.seed,
            "block_paths": self.block_paths,
            "simulations": self.simulations,
            "elapsed_seconds": self.elapsed_seconds,
            "base": dict(self.base),
            "base_se": dict(self.base_se),
            "sensitivities": [{**asdict(r), "swing": r.swing} for r in self.rows],
            "notes": list(self.notes),
            "debt_service": [asdict(d) for d in self.debt_service],
        }

    def to_frame(self, table: str = "sensitivities") -> pd.DataFrame:
        """`sensitivities`: one row per (bump, metric), the change on each side ± SE and the swing;
        `debt_service`: one row per loan."""
        from margincall.analysis.frames import sensitivities_frame

        return sensitivities_frame(self, table)

    def frames(self) -> dict[str, pd.DataFrame]:
        return {name: self.to_frame(name) for name in ("sensitivities", "debt_service")}


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
    """The bumps of each kind (default: all) and notes on those skipped or one-sided."""
    kinds = list(kinds or DEFAULT_KINDS)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ScenarioError("--only", [(k, f"unknown kind of bump; kinds: {', '.join(KINDS)}") for k in unknown])
    size = {**DEFAULT_SIZES, **(sizes or {})}
    out: list[Bump] = []
    notes: list[str] = []

    def add(name: str, kind: str, path: str, value: float, up: dict[str, Any] | None, down: dict[str, Any] | None,
            why: str = "") -> None:
        s_up = _variant(scenario, up) if up is not None else None
        s_down = _variant(scenario, down) if down is not None else None
        if s_up is None and s_down is None:
            notes.append(f"{name}: skipped, neither side of the bump is a valid scenario{why}")
            return
        if s_up is None or s_down is None:
            side = "up only" if s_up is not None else "down only"
            notes.append(f"{name}: {side} (the other side is not a valid scenario{why})")
        out.append(Bump(name=name, kind=kind, field=path, size=size[kind], value=value, up=s_up, down=s_down))

    market_kinds = [k for k in ("volatility", "correlation", "drift") if k in kinds]
    if scenario.historical and market_kinds:
        notes.append(f"{', '.join(market_kinds)}: not bumped, the historical market model replays real returns and ignores them")
        kinds = [k for k in kinds if k not in market_kinds]
    if "volatility" in kinds:
        h = size["volatility"]
        for a, asset in scenario.assets.items():
            path = f"assets.{a}.volatility"
            add(f"volatility {a}", "volatility", path, asset.volatility, {path: asset.volatility + h},
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
                add(f"correlation {ids[i]}/{ids[j]}", "correlation", f"correlation {ids[i]}/{ids[j]}", rho, up, down,
                    "; the correlation matrix would not be positive semi-definite")
    if "drift" in kinds:
        h = size["drift"]
        for a, asset in scenario.assets.items():
            path = f"assets.{a}.drift"
            add(f"drift {a}", "drift", path, asset.drift, {path: asset.drift + h}, {path: asset.drift - h})
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
                add(f"haircut {loan_id}/{a}", "haircut", f"{path}.{a}", cut, up, down)
    for kind in ("trigger", "cure"):
        if kind not in kinds:
            continue
        h = size[kind]
        for loan_id, loan in scenario.loans.items():
            if not loan.secured:
                continue
            for name in TRIGGERS[kind]:
                level = getattr(loan, name)
                path = f"loans.{loan_id}.{name}"
                add(f"{name} {loan_id}", kind, path, level, {path: level + h}, {path: level - h} if level - h > 0 else None,
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


# -- the headline metrics, block by block ---------------------------------------------------------


def borrower_scope(inputs: EngineInputs, b: int) -> str:
    """How a borrower's metrics are named: `borrower` in a one-borrower book, else its id."""
    return "borrower" if len(inputs.borrower_ids) == 1 else inputs.borrower_ids[b]


def block_sums(stats: RunStatistics, inputs: EngineInputs) -> dict[str, np.ndarray]:
    """`<loan>.<metric>`, `borrower.<metric>` (a borrower's id in a book of several) and, for a book of
    several borrowers, `system.p_any_default` and `system.expected_defaults` -> the metric's sum in
    each block (a count of paths for a probability, a sum of currency or borrowers for a mean);
    divided by the paths it is the metric."""
    return _block_sums(stats.blocks["counts"], stats.blocks["sums"], inputs)


def metric_names(inputs: EngineInputs) -> list[str]:
    """The metrics a sensitivities report of this (lowered) scenario has, known before it runs."""
    ind, amt = _layouts(inputs)
    return list(_block_sums(np.zeros((1, ind.size), np.int64), np.zeros((1, amt.size)), inputs))


def _layouts(inputs: EngineInputs) -> tuple[Indicators, Amounts]:
    n_loans, n_borrowers, n_lenders = len(inputs.loan_ids), len(inputs.borrower_ids), len(inputs.lender_ids)
    return Indicators(n_loans, n_borrowers, n_lenders), Amounts(n_loans, n_borrowers, n_lenders)


def _block_sums(counts: np.ndarray, sums: np.ndarray, inputs: EngineInputs) -> dict[str, np.ndarray]:
    """`block_sums` from the blocks' indicator counts [block, indicator] and amount sums [block, amount]."""
    n_borrowers = len(inputs.borrower_ids)
    ind, amt = _layouts(inputs)
    out: dict[str, np.ndarray] = {}
    for l, loan_id in enumerate(inputs.loan_ids):
        flags = ind.loan_flags + l * c.N_LOAN_FLAGS
        if inputs.loan_i[l, LI_SECURED]:
            out[f"{loan_id}.p_margin_call"] = counts[:, flags + 0].astype(float)
        out[f"{loan_id}.p_default"] = counts[:, flags + 4].astype(float)
        out[f"{loan_id}.expected_loss"] = sums[:, amt.loans + l * N_AL + AL_LOSS].astype(float)
    for b in range(n_borrowers):
        scope = borrower_scope(inputs, b)
        flags = ind.borrower_flags + b * c.N_BORROWER_FLAGS
        out[f"{scope}.p_default"] = counts[:, flags + 0].astype(float)
        out[f"{scope}.p_cascade"] = counts[:, flags + 2].astype(float)
        out[f"{scope}.expected_liquidity_used"] = sums[:, amt.borrowers + b * N_AB + AB_LAR].astype(float)
    if n_borrowers > 1:
        in_default = counts[:, ind.defaults_count : ind.defaults_count + n_borrowers + 1].astype(float)  # [block, k]
        out[SYSTEM_DEFAULT_METRIC] = in_default[:, 1:].sum(axis=1)
        out["system.expected_defaults"] = in_default @ np.arange(n_borrowers + 1, dtype=float)
    return out


def _paths_per_block(paths: int, block_paths: int) -> np.ndarray:
    blocks = math.ceil(paths / block_paths)
    n = np.full(blocks, float(block_paths))
    n[-1] = paths - block_paths * (blocks - 1)
    return n


def _ratio(x: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Σx / Σn and its standard error over blocks (a cluster estimate: blocks are independent)."""
    total = float(n.sum())
    estimate = float(x.sum()) / total
    blocks = len(x)
    resid = x - n * estimate
    var = blocks / max(blocks - 1, 1) * float((resid * resid).sum()) / total**2
    return estimate, math.sqrt(var)


Progress = Callable[[int, int], None]  # (simulations done, simulations in all)


def sensitivities(
    scenario: Scenario,
    *,
    paths: int = DEFAULT_PATHS,
    seed: int = 0,
    kinds: Sequence[str] | None = None,
    sizes: dict[str, float] | None = None,
    threads: int | None = None,
    block_paths: int = BLOCK_PATHS,
    progress: Progress | None = None,
    metric: str | None = None,
) -> SensitivityReport:
    """The change of each headline metric for a bump down and up of each volatility, correlation,
    drift, haircut and trigger: one simulation of `paths` paths per variant, all from `seed`
    (common random numbers), standard errors from blocks of `block_paths` paths paired across
    the variants. `metric`, when given, is checked before anything runs (the metric a caller
    will rank by)."""
    started = time.perf_counter()
    if block_paths < 1:
        raise ScenarioError("block_paths", [("block_paths", "give a positive number of paths per block")])
    if paths < 2 * block_paths:
        raise ScenarioError("--paths", [("paths", f"give at least {2 * block_paths} paths (two blocks of {block_paths}) for a standard error")])
    base_inputs = lower(scenario, history=history_returns(scenario))
    if metric is not None and metric not in (known := metric_names(base_inputs)):
        raise ScenarioError("--metric", [(metric, f"not a metric of this scenario; metrics: {', '.join(known)}")])
    bump_list, notes = bumps(scenario, kinds=kinds, sizes=sizes)
    variants: list[Scenario] = [scenario]
    index: dict[int, int] = {id(scenario): 0}
    for b in bump_list:
        for v in (b.up, b.down):
            if v is not None and id(v) not in index:
                index[id(v)] = len(variants)
                variants.append(v)
    sums: list[dict[str, np.ndarray]] = []
    for k, v in enumerate(variants):
        inputs = base_inputs if k == 0 else lower(v, history=history_returns(v))
        stats = run_statistics(inputs, paths=paths, seed=seed, threads=threads, block_paths=block_paths)
        sums.append(block_sums(stats, inputs))
        if progress is not None:
            progress(k + 1, len(variants))
    n = _paths_per_block(paths, block_paths)
    base_sums = sums[0]
    base: dict[str, float] = {}
    base_se: dict[str, float] = {}
    for m, x in base_sums.items():
        base[m], base_se[m] = _ratio(x, n)
    rows: list[Sensitivity] = []
    for b in bump_list:
        up = sums[index[id(b.up)]] if b.up is not None else None
        down = sums[index[id(b.down)]] if b.down is not None else None
        for m, x0 in base_sums.items():
            up_change = up_se = down_change = down_se = None
            if up is not None:
                up_change, up_se = _ratio(up[m] - x0, n)
            if down is not None:
                down_change, down_se = _ratio(down[m] - x0, n)
            if up is not None and down is not None:
                change, se = _ratio((up[m] - down[m]) / 2.0, n)
            elif up is not None:
                change, se = up_change, up_se
            else:
                change, se = -down_change, down_se  # type: ignore[operator]
            rows.append(Sensitivity(
                bump=b.name, kind=b.kind, field=b.field, size=b.size, value=b.value, method=b.method, metric=m,
                base=base[m], change=float(change), se=float(se), down_change=down_change, down_se=down_se,  # type: ignore[arg-type]
                up_change=up_change, up_se=up_se,
            ))
    blocks = len(n)
    notes.append(
        f"one simulation of {paths:,} paths per variant ({len(variants)} in all), seed {seed}: every variant sees the same "
        f"market draws; standard errors from {blocks} blocks of {block_paths} paths, paired across the variants"
    )
    return SensitivityReport(
        scenario=scenario.name or "scenario", currency=scenario.currency, paths=paths, seed=seed, block_paths=block_paths,
        base=base, base_se=base_se, rows=rows, notes=notes, debt_service=debt_service(scenario, seed=seed),
        simulations=len(variants), elapsed_seconds=time.perf_counter() - started,
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


def _p_pool_beats(scenario: Scenario, pool: dict[str, float], years: float, days: int, growth: float, *,
                  seed: int, draws: int) -> tuple[float, float, str]:
    """P(pool value at the term >= day-0 pool value x (1 + growth)^years); `pool` is each asset's
    day-0 value in the pool (currency)."""
    threshold = years * math.log1p(growth)
    assets = [a for a, v in pool.items() if v > 0.0]
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
    values = np.array([pool[a] for a in assets])
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
    fair value beats it; the same for each borrower over all its holdings and its longest term. The
    probability follows the scenario's market law and shocks; it ignores the borrowers' actions."""
    dpy = scenario.days_per_year
    book = scenario.book()
    out: list[DebtService] = []
    for loan_id, loan in scenario.loans.items():
        if not loan.secured:
            continue
        years = loan.term_days / dpy
        borrower_id = book.loan_borrower[loan_id]
        pool = {a: f * book.holding_value(borrower_id, a) for a, f in (loan.collateral or {}).items()}
        out.append(_debt_service_row(scenario, loan_id, pool, loan.principal * loan.annual_rate * years,
                                     years, loan.term_days, seed=seed, draws=draws))
    for borrower_id in book.borrowers:
        loans = [loan for loan_id, loan in scenario.loans.items() if book.loan_borrower[loan_id] == borrower_id]
        holdings = {a: book.holding_value(borrower_id, a) for a in book.holdings[borrower_id]}
        if not loans or not any(v > 0.0 for v in holdings.values()):
            continue
        term = max(loan.term_days for loan in loans)
        interest = sum(loan.principal * loan.annual_rate * loan.term_days / dpy for loan in loans)
        row = _debt_service_row(scenario, borrower_id, holdings, interest, term / dpy, term, seed=seed, draws=draws)
        if row.breakeven_growth is not None:
            out.append(row)
    return out


def _debt_service_row(scenario: Scenario, who: str, pool: dict[str, float], interest: float, years: float,
                      days: int, *, seed: int, draws: int) -> DebtService:
    value = sum(pool.values())
    g = _breakeven(value, interest, years)
    if g is None:
        return DebtService(who, years, value, interest, None, None, 0.0, "no collateral value")
    p, se, method = _p_pool_beats(scenario, pool, years, days, g, seed=seed, draws=draws)
    return DebtService(who, years, value, interest, g, p, se, method)


def _breakeven(value: float, interest: float, years: float) -> float | None:
    if value <= 0.0 or years <= 0.0:
        return None
    return (1.0 + interest / value) ** (1.0 / years) - 1.0


__all__ = [
    "DEFAULT_KINDS",
    "DEFAULT_METRIC",
    "SYSTEM_DEFAULT_METRIC",
    "DEFAULT_PATHS",
    "DEFAULT_SIZES",
    "HEADLINE_BORROWER",
    "HEADLINE_LOAN",
    "KINDS",
    "Bump",
    "DebtService",
    "Sensitivity",
    "SensitivityReport",
    "block_sums",
    "bumps",
    "debt_service",
    "p_log_growth_at_least",
    "sensitivities",
]
