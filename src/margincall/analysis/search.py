"""Searches over one number with common random numbers: reverse stress tests, loan sizing and
trigger design.

A *target* is a bound on one result metric, such as `p_default>=0.05`,
`openai-margin-loan.p_margin_call<=0.01` or `borrower.liquidity_at_risk_95<=5e9`.

- `reverse_stress` finds the smallest shock along a direction (one asset, a class of assets or
  a vector of moves) that reaches the target; `first_call_shock` the smallest move that calls a
  loan on day 1 in a world without diffusion or jumps.
- `solve_field` finds, within a range, the boundary value of any numeric scenario field (a loan's
  principal, `margin_call_ltv`, `cure_ltv`, a haircut, ...) at which the target turns from met to
  not met; `size_loan` is its form for a loan's principal.

Every evaluation simulates with the same seed and path count, so each path sees the same market
draws at every point of the search: the metric is then (nearly) monotone path by path, and the
bisection converges on the number that the simulation defines, not on noise. `low` and `high`
bound the values at which the metric's confidence interval (± 2 standard errors) contains the
target; the search range is assumed to hold one crossing of the target (a monotone metric).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from margincall.analysis.metrics import METRICS, find, metrics_of
from margincall.analysis.results import SimulationResult
from margincall.analysis.simulate import TracedEvent, simulate, trace
from margincall.analysis.stress import select_assets
from margincall.analysis.variants import field_value, with_values
from margincall.errors import MarginCallError, ScenarioError
from margincall.model.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

Z_BAND = 2.0  # the confidence band uses metric ± Z_BAND standard errors

LOAN_METRICS = tuple(m.name for m in metrics_of("loan"))
BORROWER_METRICS = tuple(m.name for m in metrics_of("borrower"))
LENDER_METRICS = tuple(m.name for m in metrics_of("lender"))
SYSTEM_METRICS = tuple(m.name for m in metrics_of("system"))
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, ">": lambda a, b: a > b,
}
_TARGET = re.compile(r"^\s*(?:(?P<scope>.+)\.)?(?P<metric>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op><=|>=|<|>|=<|=>)\s*(?P<value>\S+)\s*$")


class TargetError(MarginCallError, ValueError):
    """A target that cannot be read, or names a metric or loan that does not exist."""


class SearchError(MarginCallError):
    """A search that cannot be done: no value in the range meets the target, a bad range or field."""


# -- targets --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A bound on one metric of a loan, a borrower, a lender or the system (`scope`: its id,
    `borrower` for a one-borrower book, or `system`)."""

    metric: str
    op: str
    value: float
    scope: str | None = None

    @property
    def text(self) -> str:
        prefix = f"{self.scope}." if self.scope else ""
        return f"{prefix}{self.metric}{self.op}{self.value:g}"

    def met(self, x: float) -> bool:
        return _OPS[self.op](x, self.value)

    @property
    def upper(self) -> bool:
        """True for an upper bound (<=, <): the metric must stay below the value."""
        return self.op in ("<=", "<")

    def resolve(self, scenario: Scenario, default_loan: str | None) -> Target:
        """The target with its scope filled in and checked against the scenario's book: a loan id,
        a borrower id (`borrower` for a one-borrower book), a lender id, or `system`. Without a scope a
        loan metric reads the default loan, a borrower metric the only borrower, a system metric
        the system."""
        book = scenario.book()
        borrowers = ["borrower"] if len(book.borrowers) == 1 else list(book.borrowers)
        scope = self.scope
        if scope is None:
            if self.metric in LOAN_METRICS and default_loan is not None:
                scope = default_loan
            elif self.metric in BORROWER_METRICS and len(borrowers) == 1:
                scope = "borrower"
            elif self.metric in SYSTEM_METRICS:
                scope = "system"
            else:
                raise TargetError(
                    f"target {self.text}: name what it is about, as in <loan id>.{self.metric}; loans: {', '.join(scenario.loans)}; "
                    f"borrowers: {', '.join(borrowers)}; lenders: {', '.join(book.lenders)}; or system"
                )
        kind, names = self._kind(scope, scenario, borrowers, list(book.lenders))
        allowed = {"loan": LOAN_METRICS, "borrower": BORROWER_METRICS, "lender": LENDER_METRICS, "system": SYSTEM_METRICS}[kind]
        if kind is None or self.metric not in allowed:
            raise TargetError(f"target {self.text}: '{self.metric}' is not a {kind} metric; {kind} metrics: {', '.join(allowed)}")
        if kind == "loan" and self.metric == "p_margin_call" and not scenario.loans[scope].secured:
            raise TargetError(f"target {self.text}: loan '{scope}' is unsecured and has no margin call")
        return Target(self.metric, self.op, self.value, scope)

    def _kind(self, scope: str, scenario: Scenario, borrowers: list[str], lenders: list[str]) -> tuple[str, list[str]]:
        if scope in scenario.loans:
            return "loan", list(scenario.loans)
        if scope in borrowers:
            return "borrower", borrowers
        if scope in lenders:
            return "lender", lenders
        if scope == "system":
            return "system", ["system"]
        raise TargetError(
            f"target {self.text}: unknown '{scope}'; loans: {', '.join(scenario.loans)}; borrowers: {', '.join(borrowers)}; "
            f"lenders: {', '.join(lenders)}; or system"
        )

    def read(self, result: SimulationResult) -> tuple[float, float | None]:
        """The metric and its standard error (None for a quantile) in a result."""
        if self.scope is None:
            raise TargetError(f"target {self.text} has no scope; resolve it against the scenario first")
        source: Any
        if self.scope in result.loans:
            source, kind = result.loans[self.scope], "loan"
        elif self.scope == "borrower" and len(result.borrowers) == 1:
            source, kind = result.borrower, "borrower"
        elif self.scope in result.borrowers:
            source, kind = result.borrowers[self.scope], "borrower"
        elif self.scope in result.lenders:
            source, kind = result.lenders[self.scope], "lender"
        else:
            source, kind = result.system, "system"
        value = float(getattr(source, self.metric))
        metric = find(kind, self.metric)  # type: ignore[arg-type]
        se_name = metric.se if metric is not None else None
        return value, (float(getattr(source, se_name)) if se_name else None)


def parse_target(text: str) -> Target:
    """`p_default>=0.05`, `openai-margin-loan.p_margin_call<=0.01`, `borrower.p_cascade<0.1`."""
    allowed = (
        f"allowed: [SCOPE.]METRIC OP NUMBER with METRIC one of {', '.join(LOAN_METRICS)} (a loan), "
        f"{', '.join(BORROWER_METRICS)} (borrower. or a borrower id), {', '.join(LENDER_METRICS)} (a lender id) "
        f"or {', '.join(SYSTEM_METRICS)} (system.), OP one of <=, >=, <, >; e.g. p_default>=0.05"
    )
    match = _TARGET.match(text or "")
    if match is None:
        raise TargetError(f"target '{text}' cannot be read; {allowed}")
    metric, op, raw = match["metric"], match["op"], match["value"]
    op = {"=<": "<=", "=>": ">="}.get(op, op)
    if metric not in LOAN_METRICS + BORROWER_METRICS + LENDER_METRICS + SYSTEM_METRICS:
        raise TargetError(f"target '{text}': unknown metric '{metric}'; {allowed}")
    try:
        value = float(raw)
    except ValueError:
        raise TargetError(f"target '{text}': '{raw}' is not a number; {allowed}") from None
    if not math.isfinite(value):
        raise TargetError(f"target '{text}': the bound must be a finite number")
    if metric.startswith("p_") and not 0.0 <= value <= 1.0:
        raise TargetError(f"target '{text}': a probability bound is between 0 and 1 (0.05 is 5%)")
    return Target(metric, op, value, match["scope"])


# -- the search -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurvePoint:
    """One evaluation: the searched value, the metric there and its standard error."""

    x: float
    metric: float
    se: float | None
    met: bool


@dataclass(frozen=True)
class SearchResult:
    """What a search found. `value` is the boundary on the met side; `low`/`high` bound the values
    whose metric's confidence interval (± 2 SE) contains the target."""

    kind: Literal["reverse", "size"]
    field: str
    target: Target
    value: float
    low: float
    high: float
    metric: float
    metric_se: float | None
    se_note: str | None
    range: tuple[float, float]
    curve: list[CurvePoint]
    paths: int
    seed: int
    note: str | None = None
    moves: dict[str, float] = dataclass_field(default_factory=dict)
    events: list[TracedEvent] = dataclass_field(default_factory=list)
    evaluations: int = 0
    no_shock_needed: bool = False  # a reverse stress whose target holds in the scenario as it is

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "field": self.field,
            "target": self.target.text,
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "metric": self.metric,
            "metric_se": self.metric_se,
            "se_note": self.se_note,
            "range": list(self.range),
            "paths": self.paths,
            "seed": self.seed,
            "note": self.note,
            "evaluations": self.evaluations,
            "curve": [asdict(p) for p in self.curve],
        }
        if self.kind == "reverse":
            out["shock"] = self.value
            out["no_shock_needed"] = self.no_shock_needed
            out["moves"] = dict(self.moves)
            out["events"] = [e._asdict() for e in self.events]
        elif self.field.endswith(".principal"):
            out["principal"] = self.value
        return out

    def to_frame(self) -> pd.DataFrame:
        """The points searched (`curve`), one row each: the value tried, the target's
        metric there ± SE, whether it meets the target and whether it is the answer."""
        from margincall.analysis.frames import search_frame

        return search_frame(self)


Step = Callable[[CurvePoint], None]


class _Search:
    """Bisection over x in a range, with a cache of evaluations (common random numbers)."""

    def __init__(self, evaluate: Callable[[float], tuple[float, float | None]], target: Target, *,
                 integer: bool, on_step: Step | None, paths: int = 0) -> None:
        self.evaluate = evaluate
        self.paths = paths
        self.target = target
        self.integer = integer
        self.on_step = on_step
        self.cache: dict[float, tuple[float, float | None]] = {}
        self.se_fallback: float | None = None  # SE used where the metric has none (a quantile)

    def at(self, x: float) -> tuple[float, float | None]:
        x = float(round(x)) if self.integer else float(x)
        if x not in self.cache:
            value, se = self.evaluate(x)
            self.cache[x] = (value, se)
            if self.on_step is not None:
                self.on_step(CurvePoint(x, value, se, self.target.met(value)))
        return self.cache[x]

    def met(self, x: float) -> bool:
        return self.target.met(self.at(x)[0])

    def _se(self, x: float) -> float:
        se = self.at(x)[1]
        if se is None:
            return self.se_fallback or 0.0
        if self.target.metric.startswith("p_") and self.paths:
            # a probability of 0 or 1 has a binomial SE of 0; floor it so that ± 2 SE spans the
            # "rule of three" 95% bound, 3 / paths
            return max(se, 1.5 / self.paths)
        return se

    def optimistic(self, x: float) -> bool:
        """Some value within the metric's ± Z SE interval meets the target."""
        value = self.at(x)[0]
        shift = Z_BAND * self._se(x)
        return self.target.met(value - shift if self.target.upper else value + shift)

    def pessimistic(self, x: float) -> bool:
        """Every value within the metric's ± Z SE interval meets the target."""
        value = self.at(x)[0]
        shift = Z_BAND * self._se(x)
        return self.target.met(value + shift if self.target.upper else value - shift)

    def boundary(self, predicate: Callable[[float], bool], no: float, yes: float, tol: float) -> float:
        """Bisect between `no` (predicate false) and `yes` (true), starting from the tightest
        bracket already in the cache; returns the point on the `yes` side."""
        lo_side, hi_side = no, yes
        for x in sorted(self.cache):
            if min(no, yes) < x < max(no, yes):
                if predicate(x):
                    if abs(x - no) < abs(hi_side - no):
                        hi_side = x
                elif abs(x - yes) < abs(lo_side - yes):
                    lo_side = x
        if (hi_side - lo_side) * (yes - no) < 0:  # the cache is not monotone here: start afresh
            lo_side, hi_side = no, yes
        while abs(hi_side - lo_side) > tol:
            mid = (lo_side + hi_side) / 2.0
            if self.integer:
                mid = float(round(mid))
                if mid in (lo_side, hi_side):
                    break
            if predicate(mid):
                hi_side = mid
            else:
                lo_side = mid
        return hi_side

    def curve(self) -> list[CurvePoint]:
        return [CurvePoint(x, v, se, self.target.met(v)) for x, (v, se) in sorted(self.cache.items())]


def _run_search(search: _Search, preferred: float, other: float, tol: float, *, what: str,
                fmt: Callable[[float], str], stop_at_preferred: bool) -> tuple[float, float, float, str | None]:
    """(value, low, high, note). When the target is met at one end only, `value` is the crossing, on
    the met side; when met at both, the preferred end. With `stop_at_preferred` (a reverse stress:
    no shock at all is preferred), a target met at the preferred end stops there."""
    t = search.target
    met_pref, met_other = search.met(preferred), search.met(other)
    if not met_pref and not met_other:
        (v1, s1), (v2, s2) = search.at(preferred), search.at(other)
        raise SearchError(
            f"no {what} in [{fmt(min(preferred, other))}, {fmt(max(preferred, other))}] meets {t.text}: "
            f"{t.metric} is {_pm(v1, s1)} at {fmt(preferred)} and {_pm(v2, s2)} at {fmt(other)}; "
            "widen the range or loosen the bound"
        )
    if met_pref and (met_other or stop_at_preferred):
        # the crossing lies at or beyond the preferred end: the band runs from that end to where
        # the target is met beyond doubt
        value = preferred
        note = f"{t.text} is met at the end of the range ({fmt(preferred)})"
        if search.pessimistic(preferred):
            edge = preferred
        elif met_other and search.pessimistic(other):
            edge = search.boundary(search.pessimistic, preferred, other, tol)
        else:
            edge = other if met_other else preferred
        low, high = sorted((preferred, edge))
        return value, low, high, note
    if met_pref:  # only the preferred end meets it: the crossing, seen from the other end
        value = search.boundary(search.met, other, preferred, tol)
        yes_end, no_end = preferred, other
    else:
        value = search.boundary(search.met, preferred, other, tol)
        yes_end, no_end = other, preferred
    # the band: the values whose ± Z SE interval contains the target lie between where the
    # optimistic reading starts to meet it and where the pessimistic reading does
    optimistic_edge = no_end if search.optimistic(no_end) else search.boundary(search.optimistic, no_end, value, tol)
    if search.pessimistic(value):
        pessimistic_edge = value
    elif search.pessimistic(yes_end):
        pessimistic_edge = search.boundary(search.pessimistic, value, yes_end, tol)
    else:
        pessimistic_edge = yes_end
    low, high = sorted((optimistic_edge, pessimistic_edge))
    return value, low, high, None


def _pm(value: float, se: float | None) -> str:
    return f"{value:.4g}" if se is None else f"{value:.4g} ± {se:.2g}"


def _quantile_se(scenario_at: Callable[[float], Scenario], x: float, target: Target, *, paths: int, seed: int,
                 threads: int | None, batches: int = 4) -> float:
    """SE of a metric without one (a quantile), from `batches` independent batches of paths/batches
    paths (seeds seed+1 ...): the spread of the batch values / sqrt(batches)."""
    per = max(paths // batches, 1)
    values = [target.read(simulate(scenario_at(x), paths=per, seed=seed + 1 + k, threads=threads))[0] for k in range(batches)]
    return float(np.std(values, ddof=1) / math.sqrt(batches))


# -- reverse stress -------------------------------------------------------------------------------


def parse_direction(scenario: Scenario, direction: str | Mapping[str, float] | list[str]) -> dict[str, float]:
    """Asset -> weight from 'openai', '*public', 'openai=1,arm=0.5', a list of such, or a mapping.
    Weights are scaled so that the largest magnitude is 1: the shock is that asset's move."""
    items: list[tuple[str, float]] = []
    if isinstance(direction, Mapping):
        items = [(str(k), float(v)) for k, v in direction.items()]
    else:
        parts = [direction] if isinstance(direction, str) else list(direction)
        for part in parts:
            for piece in str(part).split(","):
                piece = piece.strip()
                if not piece:
                    continue
                label, _, raw = piece.partition("=")
                try:
                    items.append((label.strip(), float(raw) if raw else 1.0))
                except ValueError:
                    raise ScenarioError("--asset", [(piece, f"'{raw}' is not a number; write ASSET or ASSET=WEIGHT")]) from None
    if not items:
        raise ScenarioError("--asset", [("direction", "name at least one asset to shock (an id, *public, *private or *)")])
    out: dict[str, float] = {}
    known = ", ".join(f"{a} ({x.kind})" for a, x in scenario.assets.items())
    for name, weight in items:
        assets = select_assets(scenario, name)
        if not assets:
            raise ScenarioError("--asset", [(name, f"unknown asset (or empty class); the scenario's assets are: {known}")])
        for a in assets:
            out[a] = weight
    scale = max(abs(w) for w in out.values())
    if scale == 0.0:
        raise ScenarioError("--asset", [("direction", "every weight is 0; give a non-zero weight")])
    return {a: w / scale for a, w in out.items() if w != 0.0}


def shocked(scenario: Scenario, moves_per_unit: Mapping[str, float], x: float, *, day: int = 0, over_days: int = 1) -> Scenario:
    """The scenario with a shock of x along the direction appended (each asset moves x * weight,
    at least -100%)."""
    if x == 0.0:
        return scenario
    extra = [
        {"day": day, "asset": a, "change": max(x * w, -1.0), "over_days": over_days}
        for a, w in moves_per_unit.items()
    ]
    shocks = [s.model_dump(mode="python") for s in scenario.shocks] + extra
    return with_values(scenario, {"shocks": shocks})


def first_secured_loan(scenario: Scenario) -> str:
    for loan_id, loan in scenario.loans.items():
        if loan.secured:
            return loan_id
    raise ScenarioError("scenario", [("loans", "no secured loan: give the loan in the target (<loan id>.metric)")])


def reverse_stress(
    scenario: Scenario,
    target: str | Target,
    direction: str | Mapping[str, float] | list[str],
    *,
    loan: str | None = None,
    day: int = 0,
    over_days: int = 1,
    shock_range: tuple[float, float] = (-1.0, 0.0),
    tolerance: float = 0.002,
    paths: int = 20_000,
    seed: int = 0,
    threads: int | None = None,
    trace_paths: int = 3,
    on_step: Step | None = None,
) -> SearchResult:
    """The smallest shock along `direction` (a relative move of the lead asset, e.g. -0.55) at
    which the target holds, by bisection with common random numbers.

    The shock is applied on `day` (0: before the first covenant test), spread over `over_days`.
    `shock_range` holds the shocks searched; the end nearer 0 is preferred. A target that names no
    loan is about `loan` (default: the first secured loan).
    """
    if loan is not None and loan not in scenario.loans:
        raise TargetError(f"unknown loan '{loan}'; loans: {', '.join(scenario.loans)}")
    target = (parse_target(target) if isinstance(target, str) else target).resolve(scenario, loan or first_secured_loan_or_none(scenario))
    weights = parse_direction(scenario, direction)
    if day > scenario.horizon:
        raise SearchError(f"day {day} is after the scenario's horizon ({scenario.horizon} days)")
    if over_days < 1 or day + over_days - 1 > scenario.horizon:
        raise SearchError(f"a shock from day {day} over {over_days} days ends after the scenario's horizon "
                          f"({scenario.horizon} days); give --over-days of at most {max(scenario.horizon - day + 1, 1)}")
    a, b = float(shock_range[0]), float(shock_range[1])
    if a == b:
        raise SearchError(f"the shock range [{a}, {b}] is empty; give two different ends")
    if min(a, b) < -1.0:
        raise SearchError(f"a shock below -1 (a fall of more than 100%) is not a move; got {min(a, b)}")
    preferred, other = (a, b) if abs(a) < abs(b) else (b, a)

    def scenario_at(x: float) -> Scenario:
        return shocked(scenario, weights, x, day=day, over_days=over_days)

    def evaluate(x: float) -> tuple[float, float | None]:
        return target.read(simulate(scenario_at(x), paths=paths, seed=seed, threads=threads))

    search = _Search(evaluate, target, integer=False, on_step=on_step, paths=paths)
    se_note = None
    value, low, high, note = _search_with_se(search, scenario_at, target, preferred, other, tolerance,
                                             what="shock", fmt=lambda x: f"{x:+.2%}", paths=paths, seed=seed, threads=threads,
                                             stop_at_preferred=True)
    if search.se_fallback is not None:
        se_note = "the metric is a quantile: its SE comes from 4 independent batches of paths/4 at the shock found"
    metric, se = search.at(value)
    no_shock = value == 0.0 and search.met(0.0)
    if no_shock:
        note = (f"{target.text} already holds without a shock ({target.metric} {_pm(metric, se)} in the scenario as it "
                f"is): no shock is needed; for the shock that a stricter target needs, raise the bound above {metric:.4g}")
    events = _story(scenario_at(value), target, paths=paths, seed=seed, k=trace_paths) if trace_paths else []
    return SearchResult(
        kind="reverse", field="shock", target=target, value=value, low=low, high=high, metric=metric,
        metric_se=se if se is not None else search.se_fallback, se_note=se_note, range=(a, b), curve=search.curve(),
        paths=paths, seed=seed, note=note, moves={k: max(value * w, -1.0) for k, w in weights.items()}, events=events,
        evaluations=len(search.cache), no_shock_needed=no_shock,
    )


def first_secured_loan_or_none(scenario: Scenario) -> str | None:
    return next((k for k, loan in scenario.loans.items() if loan.secured), None)


def _search_with_se(search: _Search, scenario_at: Callable[[float], Scenario], target: Target, preferred: float,
                    other: float, tol: float, *, what: str, fmt: Callable[[float], str], paths: int, seed: int,
                    threads: int | None, stop_at_preferred: bool) -> tuple[float, float, float, str | None]:
    """`_run_search`; for a metric without a standard error (a quantile), the crossing is found
    first and its SE estimated there from independent batches, then the band is drawn with it."""
    if not any(m.name == target.metric and m.se for m in METRICS):
        value, _, _, _ = _run_search(search, preferred, other, tol, what=what, fmt=fmt, stop_at_preferred=stop_at_preferred)
        search.se_fallback = _quantile_se(scenario_at, value, target, paths=paths, seed=seed, threads=threads)
    return _run_search(search, preferred, other, tol, what=what, fmt=fmt, stop_at_preferred=stop_at_preferred)


_STORY_EVENTS = {
    "p_margin_call": ("call",),
    "p_default": ("default", "borrower_default"),
    "p_loss": ("loss",),
    "expected_loss": ("loss",),
    "p_forced_sale": ("sell", "liquidation_sale"),
    "p_cascade": ("call",),
}


def _story(scenario: Scenario, target: Target, *, paths: int, seed: int, k: int) -> list[TracedEvent]:
    """Events of up to k paths at the shock: the first paths on which the target's event happens
    (the first k paths when none does)."""
    look = min(paths, 256)
    events = trace(scenario, paths=look, seed=seed, max_events=200_000)
    wanted = _STORY_EVENTS.get(target.metric, ("call", "default", "loss", "borrower_default"))
    chosen: list[int] = []
    for e in events:
        if e.event in wanted and (target.scope == "borrower" or e.loan in (None, target.scope)) and e.path not in chosen:
            chosen.append(e.path)
            if len(chosen) == k:
                break
    if not chosen:
        chosen = list(range(min(k, look)))
    keep = set(chosen)
    return [e for e in events if e.path in keep]


# -- the deterministic first call -----------------------------------------------------------------


@dataclass(frozen=True)
class FirstCall:
    """The smallest move along a direction (applied on day 0) at which `loan` is called on day 1
    (event `call`) or defaults by the deadline of a day-1 call or notice (event `default`), with no
    diffusion, no jumps and no random marks. `shock` itself triggers the event; `high` (the next point towards no shock)
    does not; high - shock is at most the tolerance."""

    loan: str
    shock: float
    moves: dict[str, float]
    ltv_day1: float
    margin_call_ltv: float
    checked: bool
    events: list[TracedEvent]
    method: str
    event: str = "call"
    high: float = 0.0
    tolerance: float = 0.0
    trigger_ltv: float = 0.0  # the level the event's analytic value uses (call or liquidation LTV)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": f"{self.loan}.{self.event}",
            "loan": self.loan,
            "event": self.event,
            "shock": self.shock,
            "low": self.shock,
            "high": self.high,
            "tolerance": self.tolerance,
            "moves": dict(self.moves),
            "ltv_day1_without_shock": self.ltv_day1,
            "margin_call_ltv": self.margin_call_ltv,
            "trigger_ltv": self.trigger_ltv,
            "checked_by_simulation": self.checked,
            "method": self.method,
            "events": [e._asdict() for e in self.events],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row: the loan, the event, the shock found and each asset's move."""
        from margincall.analysis.frames import search_frame

        return search_frame(self)


def deterministic(scenario: Scenario) -> Scenario:
    """The scenario with volatility and drift 0, no jumps and no random valuation events: prices
    move only by its shocks."""
    values: dict[str, Any] = {}
    for a, asset in scenario.assets.items():
        values[f"assets.{a}.volatility"] = 0.0
        values[f"assets.{a}.drift"] = 0.0
        values[f"assets.{a}.jumps"] = None
        if asset.marks is not None:
            values[f"assets.{a}.marks"] = {"every_days": asset.marks.every_days, "rounds_per_year": 0.0}
    return with_values(scenario, values)


def first_call_shock(
    scenario: Scenario,
    direction: str | Mapping[str, float] | list[str],
    *,
    loan: str | None = None,
    event: Literal["call", "default"] = "call",
    tolerance: float = 1e-7,
    trace_events: bool = True,
) -> FirstCall:
    """The smallest move along the direction, applied on day 0 in a world without diffusion,
    jumps or random marks, at which `loan` (default: the first secured loan) is called on day 1
    (`call`) or defaults (`default`, any cause) by the deadline of a day-1 call or liquidation
    notice: when the borrower cannot cure, at the call level; when it can, at the liquidation level.

    Found by bisection of the deterministic simulation to within `tolerance` (of the relative
    move), so that the shock returned triggers the event and `high`, at most `tolerance` milder,
    does not. The analytic day-1 crossing (debt with one day of interest over the pledged value
    moved by the shock, against the call level, or the liquidation level for `default`) is
    reported beside it: the two agree when nothing but that test acts on day 1."""
    loan_id = loan or first_secured_loan(scenario)
    if loan_id not in scenario.loans:
        raise TargetError(f"unknown loan '{loan_id}'; loans: {', '.join(scenario.loans)}")
    spec = scenario.loans[loan_id]
    if event == "call" and not spec.secured:
        raise TargetError(f"loan '{loan_id}' is unsecured and has no margin call")
    if not 0.0 < tolerance < 0.1:
        raise SearchError(f"tolerance must be between 0 and 0.1 (a relative move); got {tolerance}")
    weights = parse_direction(scenario, direction)
    base = deterministic(scenario)
    book = base.book()
    dt = 1.0 / scenario.days_per_year
    debt = spec.principal * (1.0 + spec.annual_rate * dt)
    haircuts = spec.accepted_haircuts
    owner = book.loan_borrower[loan_id]
    lending = {a: f * book.holding_value(owner, a) * (1.0 - haircuts.get(a, 0.0)) for a, f in (spec.collateral or {}).items()}
    # existing day-0 shocks of the scenario are part of the day-1 price
    for s in scenario.shocks:
        if scenario.day_number(s.day) <= 1 and s.asset in lending:
            steps = sum(1 for k in range(s.over_days) if scenario.day_number(s.day) + k <= 1)
            lending[s.asset] *= math.exp(math.log1p(s.change) * steps / s.over_days) if s.change > -1 else 0.0
    pool = sum(lending.values())
    call = float(spec.margin_call_ltv or 0.0)
    level = call if event == "call" else float(spec.liquidation_ltv or 0.0)
    ltv1 = debt / pool if pool > 0 else math.inf
    slope = sum(lending.get(a, 0.0) * w for a, w in weights.items())
    analytic: float | None = None
    if spec.secured and level > 0.0:
        if ltv1 >= level:
            analytic = 0.0
        elif slope > 0.0:
            analytic = max((debt / level - pool) / slope, -1.0)  # negative

    names = ("call", "notice") if event == "call" else ("default",)
    # the days on which the shock acts: a call on day 1 (the first covenant test); a default by
    # the deadline of a day-1 call or liquidation notice (accrual and maturities play no part)
    last_day = 1 if event == "call" else 1 + max(spec.cure_days or 0, spec.liquidation_cure_days)

    def happens(x: float) -> bool:
        events = trace(shocked(base, weights, x), paths=1, seed=0)
        return any(e.loan == loan_id and e.event in names and e.day <= last_day for e in events)

    if happens(0.0):
        shock, high, method = 0.0, 0.0, "no shock is needed: the deterministic path already has the event"
    else:
        if not happens(-1.0):
            raise SearchError(f"even a fall to zero along this direction does not make {loan_id} {event} (by day {last_day}); "
                              "it does not lower the loan's pledged value, or the borrower cures it")
        lo, hi = -1.0, 0.0  # the event at lo, not at hi
        if analytic is not None and -1.0 < analytic < 0.0:  # start from a small bracket around the analytic value
            a_lo, a_hi = max(analytic - tolerance, -1.0), min(analytic + tolerance, 0.0)
            if happens(a_lo) and not happens(a_hi):
                lo, hi = a_lo, a_hi
        while hi - lo > tolerance:
            mid = (lo + hi) / 2
            if happens(mid):
                lo = mid
            else:
                hi = mid
        shock, high = lo, hi
        method = f"bisection of the deterministic simulation to {tolerance:g}"
        if analytic is not None:
            method += f"; the analytic day-1 crossing is {analytic:+.6%}"
    checked = shock == 0.0 or happens(shock)
    events = trace(shocked(base, weights, shock), paths=1, seed=0) if trace_events else []
    return FirstCall(
        loan=loan_id, shock=shock, moves={a: max(shock * w, -1.0) for a, w in weights.items()}, ltv_day1=ltv1,
        margin_call_ltv=call, checked=checked, events=[e for e in events if e.loan in (loan_id, None) or e.day <= 5][:50],
        method=method, event=event, high=high, tolerance=tolerance, trigger_ltv=level,
    )


# -- sizing and trigger design --------------------------------------------------------------------


def default_range(scenario: Scenario, path: str) -> tuple[float, float]:
    """A search range for well-known fields; other fields need an explicit range."""
    parts = path.split(".")
    if len(parts) >= 3 and parts[0] == "loans" and parts[1] in scenario.loans:
        loan = scenario.loans[parts[1]]
        name = parts[2]
        if name == "principal":
            if loan.secured and loan.margin_call_ltv:
                book = scenario.book()
                held = book.holdings[book.loan_borrower[parts[1]]]
                lending = sum(f * held.get(a, 0.0) * book.prices[a] * (1.0 - loan.accepted_haircuts.get(a, 0.0))
                              for a, f in (loan.collateral or {}).items())
                top = loan.margin_call_ltv * lending
                return (top / 100.0, top)
            return (loan.principal / 100.0, loan.principal * 10.0)
        if name == "margin_call_ltv" and loan.cure_ltv and loan.liquidation_ltv:
            return (loan.cure_ltv * 1.001, loan.liquidation_ltv * 0.999)
        if name == "cure_ltv" and loan.margin_call_ltv:
            return (loan.margin_call_ltv * 0.01, loan.margin_call_ltv * 0.999)
        if name == "liquidation_ltv" and loan.margin_call_ltv:
            return (loan.margin_call_ltv * 1.001, loan.margin_call_ltv * 3.0)
        if name == "haircuts":
            return (0.0, 0.95)
        if name == "cure_days":
            return (0.0, 20.0)
    raise SearchError(f"no default search range for {path}; give one (--range LOW HIGH)")


def _materialise(scenario: Scenario, path: str) -> Scenario:
    """Make `loans.<id>.haircuts.<asset>` settable where the loan uses default haircuts."""
    parts = path.split(".")
    if len(parts) == 4 and parts[0] == "loans" and parts[2] == "haircuts" and parts[1] in scenario.loans:
        loan = scenario.loans[parts[1]]
        if loan.secured and loan.haircuts is None:
            cuts = loan.accepted_haircuts
            if parts[3] in scenario.assets:
                cuts.setdefault(parts[3], 0.0)
            return with_values(scenario, {f"loans.{parts[1]}.haircuts": cuts})
    return scenario


def solve_field(
    scenario: Scenario,
    path: str,
    bound: str | Target,
    *,
    loan: str | None = None,
    search_range: tuple[float, float] | None = None,
    prefer: Literal["largest", "smallest"] = "largest",
    tolerance: float | None = None,
    paths: int = 20_000,
    seed: int = 0,
    threads: int | None = None,
    on_step: Step | None = None,
) -> SearchResult:
    """The value of the numeric field at `path` where `bound` turns from met to not met, within
    the range (default: a range for principal, the LTV triggers, haircuts and cure_days).

    When only one end of the range meets the bound, the answer is the crossing, on the met side;
    when both do, it is the preferred end (`largest` by default). Whole-number fields are searched
    over whole numbers.
    """
    scenario = _materialise(scenario, path)
    try:
        current = field_value(scenario, path)
    except ScenarioError as exc:
        raise SearchError(f"field {path}: {exc.problems[0][1] if exc.problems else exc}") from None
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise SearchError(f"field {path} holds {current!r}, not a number; give the path of a numeric field")
    integer = isinstance(current, int)
    target = (parse_target(bound) if isinstance(bound, str) else bound).resolve(scenario, loan or _loan_of(path))
    lo, hi = search_range if search_range is not None else default_range(scenario, path)
    lo, hi = float(min(lo, hi)), float(max(lo, hi))
    if lo == hi:
        raise SearchError(f"the range [{lo}, {hi}] is empty; give two different ends")
    for end in (lo, hi):
        try:
            with_values(scenario, {path: round(end) if integer else end})
        except ScenarioError as exc:
            raise SearchError(f"{path} = {end:g} (an end of the range) is not a valid scenario: {exc.problems[0][0]}: {exc.problems[0][1]}") from None
    tol = tolerance if tolerance is not None else (1.0 if integer else (hi - lo) * 1e-3)

    def scenario_at(x: float) -> Scenario:
        return with_values(scenario, {path: round(x) if integer else x})

    def evaluate(x: float) -> tuple[float, float | None]:
        return target.read(simulate(scenario_at(x), paths=paths, seed=seed, threads=threads))

    search = _Search(evaluate, target, integer=integer, on_step=on_step, paths=paths)
    preferred, other = (hi, lo) if prefer == "largest" else (lo, hi)
    value, low, high, note = _search_with_se(search, scenario_at, target, preferred, other, tol, what=f"value of {path}",
                                             fmt=lambda x: f"{x:.6g}", paths=paths, seed=seed, threads=threads,
                                             stop_at_preferred=False)
    metric, se = search.at(value)
    se_note = "the metric is a quantile: its SE comes from 4 independent batches of paths/4 at the value found" if search.se_fallback is not None else None
    return SearchResult(
        kind="size", field=path, target=target, value=value, low=low, high=high, metric=metric,
        metric_se=se if se is not None else search.se_fallback, se_note=se_note, range=(lo, hi), curve=search.curve(),
        paths=paths, seed=seed, note=note, evaluations=len(search.cache),
    )


def _loan_of(path: str) -> str | None:
    parts = path.split(".")
    return parts[1] if len(parts) >= 2 and parts[0] == "loans" else None


def size_loan(
    scenario: Scenario,
    loan: str,
    bound: str | Target,
    *,
    search_range: tuple[float, float] | None = None,
    paths: int = 20_000,
    seed: int = 0,
    threads: int | None = None,
    tolerance: float | None = None,
    on_step: Step | None = None,
) -> SearchResult:
    """The largest principal of `loan` that meets `bound` (e.g. `p_margin_call<=0.01`)."""
    if loan not in scenario.loans:
        raise TargetError(f"unknown loan '{loan}'; loans: {', '.join(scenario.loans)}")
    return solve_field(scenario, f"loans.{loan}.principal", bound, loan=loan, search_range=search_range, prefer="largest",
                       tolerance=tolerance, paths=paths, seed=seed, threads=threads, on_step=on_step)


__all__ = [
    "BORROWER_METRICS",
    "LOAN_METRICS",
    "CurvePoint",
    "FirstCall",
    "SearchError",
    "SearchResult",
    "Target",
    "TargetError",
    "default_range",
    "deterministic",
    "first_call_shock",
    "parse_direction",
    "parse_target",
    "reverse_stress",
    "shocked",
    "size_loan",
    "solve_field",
]
