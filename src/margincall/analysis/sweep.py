"""Parameter sweeps: the same scenario over a grid of field values, every point from the same seed.

A `--set` spec names a numeric field by its dotted path and gives its values:

    loans.acme-loan.principal=5e9:15e9:11      11 values from 5e9 to 15e9, both included
    loans.acme-loan.margin_call_ltv=0.2,0.25   a list
    borrower.cash=1e9                          one value

The grid is the Cartesian product of the specs (the last spec varies fastest). Every point runs
with the same seed and path count: the engine's random streams are keyed by (seed, block of
paths), so every point sees the same market draws (common random numbers). Differences between
points are then differences of the loan terms, not of noise, and a comparison that holds path by
path (a larger principal is called whenever a smaller one is) holds exactly in the results.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from margincall.analysis.results import BorrowerResult, LoanResult, SimulationResult
from margincall.analysis.simulate import simulate
from margincall.analysis.variants import field_value, with_values
from margincall.errors import ScenarioError, SimulationError
from margincall.model.limits import LimitError, limits
from margincall.model.scenario import Scenario

Number = int | float
Runner = Callable[..., SimulationResult]  # runner(scenario, *, paths, seed) -> SimulationResult
PointProgress = Callable[[int, int], None]  # (points done, points in all)

SPEC_FORMS = "give PATH=VALUE, PATH=V1,V2,... or PATH=START:STOP:COUNT (e.g. loans.my-loan.principal=5e9:15e9:11)"
CSV_LOAN_FIELDS = ("p_margin_call", "p_margin_call_se", "p_default", "p_default_se", "expected_loss", "loss_var_99")
CSV_BORROWER_FIELDS = ("p_default", "p_cascade", "liquidity_at_risk_95")


@dataclass(frozen=True)
class SetSpec:
    """One parsed `--set`: a dotted field path and the values it takes, in order."""

    path: str
    values: tuple[Number, ...]
    text: str


@dataclass(frozen=True)
class SweepRow:
    """One grid point: the values set (by path) and the results as in result.json."""

    values: dict[str, Number]
    loans: dict[str, LoanResult]
    borrowers: dict[str, BorrowerResult]

    @property
    def borrower(self) -> BorrowerResult:
        """The borrower of a one-borrower book."""
        if len(self.borrowers) != 1:
            raise AttributeError(f"the book has {len(self.borrowers)} borrowers; use row.borrowers[id]")
        return next(iter(self.borrowers.values()))

    def to_dict(self) -> dict[str, Any]:
        """As result.json: `borrowers` by id, and `borrower` too in a one-borrower book."""
        out: dict[str, Any] = {"values": dict(self.values), "loans": {k: asdict(v) for k, v in self.loans.items()},
                               "borrowers": {k: asdict(v) for k, v in self.borrowers.items()}}
        if len(self.borrowers) == 1:
            out["borrower"] = asdict(self.borrower)
        return out


def _problem(spec: str, where: str, what: str) -> ScenarioError:
    return ScenarioError(f"--set {spec}", [(where, what)])


def _number(token: str, spec: str, path: str) -> Number:
    text = token.strip()
    if not text:
        raise _problem(spec, path, f"a value is empty; {SPEC_FORMS}")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise _problem(spec, path, f"'{text}' is not a number; sweeps set numeric fields ({SPEC_FORMS})") from None
    if not math.isfinite(value):
        raise _problem(spec, path, f"'{text}' is not a finite number")
    return value


def _linspace(start: Number, stop: Number, count: int) -> tuple[Number, ...]:
    values = np.linspace(start, stop, count).tolist()
    if isinstance(start, int) and isinstance(stop, int) and all(float(v).is_integer() for v in values):
        return tuple(int(v) for v in values)
    return tuple(float(v) for v in values)


def parse_set(spec: str) -> SetSpec:
    """Parse one `PATH=VALUES` spec; a `ScenarioError` names the spec and the fix."""
    path, sep, rhs = spec.partition("=")
    path = path.strip()
    if not sep:
        raise _problem(spec, path or "(empty)", f"no '=' in the spec; {SPEC_FORMS}")
    if not path or any(not part for part in path.split(".")):
        raise _problem(spec, path or "(empty)", f"give a dotted field path before '='; {SPEC_FORMS}")
    rhs = rhs.strip()
    if not rhs:
        raise _problem(spec, path, f"no value after '='; {SPEC_FORMS}")
    if ":" in rhs:
        parts = rhs.split(":")
        if len(parts) != 3 or "," in rhs:
            raise _problem(spec, path, f"a range is START:STOP:COUNT with three parts, got '{rhs}'; {SPEC_FORMS}")
        start, stop = _number(parts[0], spec, path), _number(parts[1], spec, path)
        try:
            count = int(parts[2].strip())
        except ValueError:
            raise _problem(spec, path, f"the count '{parts[2].strip()}' of START:STOP:COUNT must be a whole number of 1 or more") from None
        if count < 1:
            raise _problem(spec, path, f"the count {count} of START:STOP:COUNT must be 1 or more")
        _check_points(count, spec, path)
        values = _linspace(start, stop, count)
    else:
        tokens = rhs.split(",")
        _check_points(len(tokens), spec, path)
        values = tuple(_number(token, spec, path) for token in tokens)
    return SetSpec(path=path, values=values, text=spec)


def _check_points(count: int, spec: str, path: str) -> None:
    """A `ScenarioError` when `count` points pass the sweep_points bound (before any is made)."""
    try:
        message = limits().problem("sweep_points", count, "the number of points")
    except LimitError as exc:
        raise _problem(spec, path, str(exc)) from None
    if message is not None:
        raise _problem(spec, path, message)


def _current_value(scenario: Scenario, spec: SetSpec) -> Any:
    """The field's value now (None for an optional field not set); a ScenarioError naming the
    path when there is no such field."""
    parent_path, _, last = spec.path.rpartition(".")
    try:
        parent = field_value(scenario, parent_path) if parent_path else scenario.model_dump(mode="python")
    except ScenarioError as exc:
        raise ScenarioError(f"--set {spec.text}", [(spec.path, what) for _, what in exc.problems]) from None
    if isinstance(parent, dict):
        if last not in parent:
            raise _problem(spec.text, spec.path, f"no field '{last}' here; fields: {', '.join(map(str, parent))}")
        return parent[last]
    return field_value(scenario, spec.path)


def sweep_grid(scenario: Scenario, sets: Sequence[str]) -> list[tuple[dict[str, Number], Scenario]]:
    """Every point of the grid: the values set by path and the validated scenario variant.
    All points are checked here, before anything runs."""
    if not sets:
        raise ScenarioError("--set", [("(none)", f"a sweep needs at least one --set spec; {SPEC_FORMS}")])
    specs = [parse_set(spec) for spec in sets]
    seen: dict[str, str] = {}
    for spec in specs:
        if spec.path in seen:
            raise _problem(spec.text, spec.path, f"this field is already swept by '--set {seen[spec.path]}'; give each field once")
        seen[spec.path] = spec.text
        current = _current_value(scenario, spec)
        if isinstance(current, bool) or not (current is None or isinstance(current, int | float)):
            kinds = {bool: "a switch (true/false)", str: "text", dict: "a group of fields", list: "a list"}
            kind = kinds.get(type(current), f"a {type(current).__name__}")
            raise _problem(spec.text, spec.path, f"holds {kind}, not a number; sweeps set numeric fields only")
    size = math.prod(len(spec.values) for spec in specs)
    try:
        message = limits().problem("sweep_points", size, f"the grid's number of points ({' x '.join(str(len(s.values)) for s in specs)})")
    except LimitError as exc:
        message = str(exc)
    if message is not None:
        raise ScenarioError("--set", [("grid", message)])
    points = []
    for combo in itertools.product(*(spec.values for spec in specs)):
        values = {spec.path: value for spec, value in zip(specs, combo, strict=True)}
        try:
            variant = with_values(scenario, values)
        except ScenarioError as exc:
            where = ", ".join(f"{path}={value}" for path, value in values.items())
            raise ScenarioError(f"sweep point {where}", exc.problems) from None
        points.append((values, variant))
    return points


def sweep(
    scenario: Scenario,
    sets: Sequence[str],
    *,
    paths: int = 100_000,
    seed: int = 0,
    runner: Runner | None = None,
    progress: PointProgress | None = None,
) -> list[SweepRow]:
    """Run every point of the grid the `sets` specs give, with the same paths and seed.

    `runner(variant, paths=paths, seed=seed)` runs one point: `margincall.simulate` by default;
    `DaskSession(...).simulate` runs each point on a Dask cluster with the same numbers.
    `progress(points done, points)` is called after each point."""
    run = runner or simulate
    points = sweep_grid(scenario, sets)
    rows = []
    for k, (values, variant) in enumerate(points):
        result = run(variant, paths=paths, seed=seed)
        if result.seed != seed or result.paths != paths:
            raise SimulationError(f"the sweep's runner ran seed {result.seed} with {result.paths} paths, not seed {seed} with {paths}")
        rows.append(SweepRow(values=values, loans=result.loans, borrowers=result.borrowers))
        if progress is not None:
            progress(k + 1, len(points))
    return rows


def sweep_csv_header(rows: Sequence[SweepRow]) -> list[str]:
    """Columns of sweep.csv: the paths set, then `loan.metric` per loan, then `borrower.metric` (in a
    book of several borrowers, `BORROWER-ID.metric` per borrower)."""
    if not rows:
        return []
    first = rows[0]
    loans = [f"{loan}.{name}" for loan in first.loans for name in CSV_LOAN_FIELDS]
    who = ["borrower"] if len(first.borrowers) == 1 else list(first.borrowers)
    return [*first.values, *loans, *(f"{b}.{name}" for b in who for name in CSV_BORROWER_FIELDS)]


def write_sweep_csv(rows: Sequence[SweepRow], path: str | Path) -> Path:
    """One line per point; floats at full precision (they read back to the same numbers)."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(sweep_csv_header(rows))
        for row in rows:
            loans = [getattr(result, name) for result in row.loans.values() for name in CSV_LOAN_FIELDS]
            borrower = [getattr(result, name) for result in row.borrowers.values() for name in CSV_BORROWER_FIELDS]
            writer.writerow([*row.values.values(), *loans, *borrower])
    return path


def write_sweep_json(rows: Sequence[SweepRow], path: str | Path) -> Path:
    """A list of rows, each {"values", "loans", "borrowers"} (and "borrower" in a one-borrower book) with
    the objects of result.json."""
    path = Path(path)
    path.write_text(json.dumps([row.to_dict() for row in rows], indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return path


def write_sweep(rows: Sequence[SweepRow], folder: str | Path) -> list[Path]:
    """sweep.csv and sweep.json in `folder` (created if needed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_sweep_csv(rows, folder / "sweep.csv"), write_sweep_json(rows, folder / "sweep.json")]
