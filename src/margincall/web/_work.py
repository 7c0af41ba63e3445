"""The work of one job, as run in a worker process (or a Dask worker): a picklable spec in, a
JSON-ready dict out, progress reported in paths. Nothing here touches the store or HTTP.

`check_job` runs the same option checks in the request, before a job is queued, so that bad
options are a 422 at once rather than a failed job later.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from margincall.analysis.loading import parse_scenario
from margincall.errors import MarginCallError
from margincall.model.scenario import Scenario

Progress = Callable[[int, int | None], None]  # (paths done, paths in all or None when not known ahead)
KINDS = ("run", "stress", "reverse", "size", "sensitivities", "sweep", "explain", "monitor")


class JobCancelled(Exception):
    """Raised from a progress callback when the job's client cancelled it."""


@dataclass(frozen=True)
class JobSpec:
    """What a worker needs to run a job."""

    job_id: int
    kind: str
    scenario_name: str
    scenario_text: str
    options: dict[str, Any]
    paths: int
    seed: int
    threads: int | None = None


def load(spec_name: str, text: str) -> Scenario:
    return parse_scenario(text, source=f"scenario {spec_name}", default_name=spec_name)


def planned_paths(kind: str, scenario: Scenario, options: dict[str, Any], paths: int) -> int | None:
    """Paths the job simulates in all (None for searches, whose number of steps is not known
    ahead). Raises `MarginCallError` (a 422) for options that cannot be used."""
    if kind in ("run", "monitor", "explain"):
        return paths
    if kind == "stress":
        from margincall.analysis.stress import load_stresses

        return paths * (1 + len(load_stresses(options.get("stresses") or None)))
    if kind == "sweep":
        from margincall.analysis.sweep import sweep_grid

        return paths * len(sweep_grid(scenario, options["sets"]))
    if kind == "sensitivities":
        from margincall.analysis.sensitivities import BLOCK_PATHS, bumps

        block = int(options.get("block_paths") or BLOCK_PATHS)
        if paths < 2 * block:
            raise MarginCallError(f"paths ({paths}) must be at least two blocks of block_paths ({block}) for a standard error")
        bump_list, _ = bumps(scenario, kinds=options.get("only"))
        variants = 1 + sum((b.up is not None) + (b.down is not None) for b in bump_list)
        return paths * variants
    if kind == "reverse":
        from margincall.analysis.search import parse_direction, parse_target

        parse_direction(scenario, options["assets"])
        if options["target"].strip() != "call" and not options["target"].strip().endswith(".call"):
            parse_target(options["target"]).resolve(scenario, options.get("loan") or _first_secured(scenario))
        return None
    if kind == "size":
        from margincall.analysis.search import parse_target

        loan = options.get("loan")
        if loan is not None and loan not in scenario.loans:
            raise MarginCallError(f"unknown loan '{loan}'; loans: {', '.join(scenario.loans)}")
        if loan is None and options.get("field") is None:
            raise MarginCallError("give loan (its principal is sized) or field (the path of the field searched)")
        parse_target(options["bound"]).resolve(scenario, loan)
        return None
    raise MarginCallError(f"unknown kind '{kind}'; kinds: {', '.join(KINDS)}")


def _first_secured(scenario: Scenario) -> str | None:
    return next((k for k, loan in scenario.loans.items() if loan.secured), None)


def execute(spec: JobSpec, progress: Progress) -> dict[str, Any]:
    """Run the job; its result as JSON-ready data (a run: `SimulationResult.to_dict()`)."""
    scenario = load(spec.scenario_name, spec.scenario_text)
    o, paths, seed, threads = spec.options, spec.paths, spec.seed, spec.threads
    if spec.kind == "run":
        from margincall.analysis.finite import first_nonfinite
        from margincall.analysis.simulate import simulate
        from margincall.errors import SimulationError

        data = simulate(scenario, paths=paths, seed=seed, threads=threads, antithetic=bool(o.get("antithetic")),
                        progress=lambda done, total: progress(done, total)).to_dict()
        where = first_nonfinite(data)
        if where is not None:  # as `margincall run`: NaN or infinity is not an answer, not a null either
            raise SimulationError(f"the simulation produced a number that is not finite at {'.'.join(where)}: the scenario's "
                                  "values are beyond what the model can take; check them (POST /scenarios/validate)")
        return _finite(data)
    if spec.kind == "stress":
        return _stress(scenario, spec, progress)
    if spec.kind == "sweep":
        from margincall.analysis.simulate import simulate
        from margincall.analysis.sweep import sweep, sweep_grid

        points = len(sweep_grid(scenario, o["sets"]))
        done = [0]

        def runner(variant: Scenario, *, paths: int, seed: int):
            before = done[0] * paths
            result = simulate(variant, paths=paths, seed=seed, threads=threads,
                              progress=lambda d, t: progress(before + d, points * paths))
            done[0] += 1
            return result

        rows = sweep(scenario, o["sets"], paths=paths, seed=seed, runner=runner)
        return _finite({"scenario": scenario.name, "paths": paths, "seed": seed, "rows": [row.to_dict() for row in rows]})
    if spec.kind == "sensitivities":
        from margincall.analysis.sensitivities import sensitivities

        from margincall.analysis.sensitivities import BLOCK_PATHS

        report = sensitivities(scenario, paths=paths, seed=seed, kinds=o.get("only"), threads=threads,
                               block_paths=int(o.get("block_paths") or BLOCK_PATHS),
                               progress=lambda done, total: progress(done * paths, total * paths))
        return _finite(report.to_dict())
    if spec.kind == "reverse":
        return _reverse(scenario, spec, progress)
    if spec.kind == "explain":
        from margincall.analysis.explain import explain

        progress(0, paths)
        explained = explain(scenario, paths=paths, seed=seed, threads=threads)
        progress(paths, paths)
        return _finite(explained.to_dict())
    if spec.kind == "size":
        from margincall.analysis.search import solve_field

        steps = [0]

        def step(_point: Any) -> None:
            steps[0] += 1
            progress(steps[0] * paths, None)

        path = o.get("field") or f"loans.{o['loan']}.principal"
        rng = o.get("search_range")
        result = solve_field(scenario, path, o["bound"], loan=o.get("loan"), search_range=tuple(rng) if rng else None,
                             prefer="smallest" if o.get("smallest") else "largest", tolerance=o.get("tolerance"),
                             paths=paths, seed=seed, threads=threads, on_step=step)
        return _finite(result.to_dict())
    if spec.kind == "monitor":
        import datetime as dt

        from margincall.analysis.daily import daily_monitor
        from margincall.analysis.marks import read_marks

        as_of = dt.date.fromisoformat(o["as_of"]) if o.get("as_of") else None
        report = daily_monitor(scenario, read_marks(o["marks_csv"]), as_of=as_of, rules=o.get("alerts") or [],
                               paths=paths, seed=seed, cash=o.get("cash"), threads=threads,
                               progress=lambda done, total: progress(done, total))
        return report.to_dict()
    raise MarginCallError(f"unknown kind '{spec.kind}'")


def _stress(scenario: Scenario, spec: JobSpec, progress: Progress) -> dict[str, Any]:
    from margincall.analysis.simulate import simulate
    from margincall.analysis.stress import StressRun, apply_stress, load_stresses

    chosen = load_stresses(spec.options.get("stresses") or None)
    applied = {s.name: apply_stress(scenario, s) for s in chosen}
    runs = [("base", scenario)] + [(name, a.scenario) for name, a in applied.items()]
    total = spec.paths * len(runs)
    results = {}
    for k, (name, variant) in enumerate(runs):
        before = k * spec.paths
        results[name] = simulate(variant, paths=spec.paths, seed=spec.seed, threads=spec.threads,
                                 progress=lambda d, t, before=before: progress(before + d, total))
    run = StressRun(base=results.pop("base"), results=results, applied=applied)
    data = run.to_dict()
    data["base_result"] = run.base.to_dict()  # for the report's charts
    return _finite(data)


def _reverse(scenario: Scenario, spec: JobSpec, progress: Progress) -> dict[str, Any]:
    from margincall.analysis.search import first_call_shock, parse_direction, reverse_stress

    o = spec.options
    weights = parse_direction(scenario, o["assets"])
    target = o["target"].strip()
    if target == "call" or target.endswith(".call"):
        loan = o.get("loan") if target == "call" else target[: -len(".call")]
        return _finite(first_call_shock(scenario, weights, loan=loan).to_dict())
    steps = [0]

    def step(_point: Any) -> None:
        steps[0] += 1
        progress(steps[0] * spec.paths, None)

    rng = o.get("shock_range") or (-1.0, 0.0)
    result = reverse_stress(scenario, target, weights, loan=o.get("loan"), day=int(o.get("day", 0)),
                            over_days=int(o.get("over_days", 1)), shock_range=(float(rng[0]), float(rng[1])),
                            tolerance=float(o.get("tolerance", 0.002)), paths=spec.paths, seed=spec.seed,
                            threads=spec.threads, trace_paths=int(o.get("trace", 3)), on_step=step)
    return _finite(result.to_dict())


def _finite(value: Any) -> Any:
    """JSON-ready: infinite and NaN numbers as None, tuples as lists, numpy scalars as numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return _finite(value.item())
    return value


def throttled(report: Callable[[int, int | None], None], *, every_s: float = 0.25,
              clock: Callable[[], float] | None = None) -> Progress:
    """A progress callback that passes on at most one report per `every_s` (and always the last)."""
    import time

    now = clock or time.monotonic
    last = [-math.inf]

    def progress(done: int, total: int | None) -> None:
        t = now()
        if t - last[0] >= every_s or (total is not None and done >= total):
            last[0] = t
            report(done, total)

    return progress


