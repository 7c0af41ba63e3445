"""Named stresses: historical episodes as data files, applied to any scenario as a variant.

A stress file (`stresses/*.yaml`, shipped with margincall; or any file of the same form) holds

    id: S1                               # short handle, optional
    name: s01-openai-stripe-down-round   # the key of its results (built-in: the file stem)
    description: ...
    horizon_days: 1                      # optional: the episode's length in trading days
    sources: [...]                       # optional: where the numbers come from (also in comments)
    shocks:                              # relative moves, appended to the scenario's own shocks
      - {asset: "*private", change: -0.47, day: 0, over_days: 1}
    haircuts:                            # optional: lenders raise haircuts (never lower) or withdraw eligibility
      - {asset: "*public", haircut: 0.99, applies_to: top-up, loans: "*secured"}
    set:                                 # optional: other fields by dotted path (wildcards below)
      loans.*secured.cure_days: {at_most: 1}     # or a plain value; operators: times, plus, at_most, at_least

An `asset` is an asset id or a class: `*public`, `*private` or `*` (every asset). A named asset
that the scenario lacks, a class with no member, or a `set` path with no field is skipped with a
note; a stress of which nothing applies is an error that names the stress and the scenario's
assets. In `set` paths a component under `loans` may be `*`, `*secured` or `*unsecured`, one under
`assets`, `haircuts` or `collateral` may be `*`, `*public` or `*private`.

`run_stresses` simulates the base scenario and every stress with the same seed and path count:
the assets are the same, so each path sees the same market draws in every run (common random
numbers) and the differences between runs are the stresses' effect, not noise.
"""

from __future__ import annotations

import importlib.resources
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from margincall.analysis.files import read_text
from margincall.analysis.loading import _where, read_yaml_mapping
from margincall.analysis.results import SimulationResult
from margincall.analysis.simulate import simulate
from margincall.analysis.variants import field_value, with_values
from margincall.errors import InputFileError, ScenarioError
from margincall.model.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

CLASS_SELECTORS = ("*", "*public", "*private")
LOAN_SELECTORS = ("*", "*secured", "*unsecured")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class StressShock(_Frozen):
    """A relative move of an asset or of a class of assets."""

    asset: str = Field(description="Asset id, or a class: *public, *private, * (every asset).")
    change: float = Field(ge=-1.0, description="Relative move: -0.47 is a 47% fall, -1 a fall to zero.")
    day: int = Field(default=0, ge=0, description="Trading day of the move (0: before the first covenant test).")
    over_days: int = Field(default=1, ge=1, description="Spread the move evenly (in log terms) over this many days.")


class StressHaircut(_Frozen):
    """Lenders raise the haircut on an asset, or withdraw its eligibility (a haircut of 0.99)."""

    asset: str = Field(description="Asset id, or a class: *public, *private, *.")
    haircut: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        description="New haircut (the schema allows < 1; 0.99 stands for 'no longer accepted')."
    )
    applies_to: Literal["top-up", "pledged", "all"] = Field(
        default="top-up",
        description=(
            "top-up: only where the asset is accepted but not pledged (new pledges to cure a call); "
            "pledged: only on the pool already pledged; all: both."
        ),
    )
    loans: str | list[str] = Field(default="*secured", description="Loan ids, or *, *secured.")


class Stress(_Frozen):
    """A named historical episode: shocks, haircut changes and field overrides."""

    id: str | None = Field(default=None, description="Short handle, e.g. S1.")
    name: str = Field(description="Name; the key of this stress's results.")
    description: str = Field(default="", description="What happened, in words.")
    horizon_days: int | None = Field(default=None, ge=1, description="Length of the episode in trading days.")
    sources: list[str] = Field(default_factory=list, description="Where the numbers come from.")
    shocks: list[StressShock] = Field(default_factory=list)
    haircuts: list[StressHaircut] = Field(default_factory=list)
    set: dict[str, Any] = Field(default_factory=dict, description="Dotted field path -> value; wildcards allowed.")


@dataclass(frozen=True)
class AppliedStress:
    """A stress applied to a scenario: the variant to simulate, what was changed and what was skipped."""

    stress: Stress
    scenario: Scenario
    changes: list[str]
    notes: list[str]


@dataclass(frozen=True)
class StressRun:
    """The base run and one run per stress, all with the same seed and path count."""

    base: SimulationResult
    results: dict[str, SimulationResult]
    applied: dict[str, AppliedStress]

    def to_dict(self) -> dict[str, Any]:
        """`stress.json`: {"base": {...}, "<stress name>": {...}}, each with `loans` and `borrower`."""
        out: dict[str, Any] = {"base": _summary(self.base)}
        for name, result in self.results.items():
            applied = self.applied[name]
            entry = _summary(result)
            s = applied.stress
            entry["stress"] = {
                "id": s.id,
                "name": s.name,
                "description": s.description,
                "horizon_days": s.horizon_days,
                "sources": list(s.sources),
                "changes": list(applied.changes),
                "notes": list(applied.notes),
            }
            out[name] = entry
        return out

    def to_frame(self, table: str = "loans") -> pd.DataFrame:
        """One row per (run, loan), (run, borrower) or (run, lender) (`table`): `run` is "base" or
        the stress's name; the columns of `SimulationResult.to_frame`."""
        from margincall.analysis.frames import stress_frame

        return stress_frame(self, table)

    def frames(self) -> dict[str, pd.DataFrame]:
        from margincall.analysis.frames import STRESS_TABLES, stress_frame

        return {name: stress_frame(self, name) for name in STRESS_TABLES}


def _summary(result: SimulationResult) -> dict[str, Any]:
    """A run's figures in stress.json: per loan, borrower and lender, and for the system (a one-borrower
    book also keeps its `borrower` key)."""
    data = result.to_dict()
    keep = ("scenario", "paths", "seed", "horizon_days", "currency", "version", "loans", "borrower", "borrowers", "lenders", "system")
    return {key: data[key] for key in keep if key in data}


# -- the library ----------------------------------------------------------------------------------


def builtin_stresses() -> list[str]:
    """Names of the stresses shipped with margincall (the file stems), in file order."""
    files = importlib.resources.files("margincall.stresses")
    return sorted(p.name.removesuffix(".yaml") for p in files.iterdir() if p.name.endswith(".yaml"))


def load_stress(name_or_path: str | Path) -> Stress:
    """A stress by built-in name (`s1-openai-stripe-down-round`), short id (`S1`), or file path."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or _exists(path):
        try:
            content = read_text(path)
        except InputFileError as exc:
            hint = "; give a stress YAML file or a built-in name" if exc.reason == "not found" else ""
            raise ScenarioError(text, [("file", exc.reason + hint)]) from None
        return parse_stress(content, source=text, default_name=path.stem)
    files = importlib.resources.files("margincall.stresses")
    names = builtin_stresses()
    wanted = text.lower()
    for name in names:
        if name == wanted:
            return parse_stress((files / f"{name}.yaml").read_text(encoding="utf-8"), source=f"built-in:{name}", default_name=name)
    for name in names:  # a short id such as S1
        stress = parse_stress((files / f"{name}.yaml").read_text(encoding="utf-8"), source=f"built-in:{name}", default_name=name)
        if stress.id is not None and stress.id.lower() == wanted:
            return stress
    raise ScenarioError(text, [("stress", f"no built-in stress '{text}' and no such file; built in: {', '.join(names)}")])


def _exists(path: Path) -> bool:
    try:
        path.stat()
    except (OSError, ValueError):
        return False
    return True


def load_stresses(names: Sequence[str | Path] | None = None) -> list[Stress]:
    """The stresses named (built-in names, ids or files); all built-in ones when `names` is empty."""
    chosen = list(names or builtin_stresses())
    stresses = [load_stress(n) for n in chosen]
    seen: dict[str, int] = {}
    for s in stresses:
        seen[s.name] = seen.get(s.name, 0) + 1
    twice = [n for n, k in seen.items() if k > 1]
    if twice:
        raise ScenarioError("stresses", [("name", f"stress '{n}' is given twice; each stress once") for n in twice])
    return stresses


def parse_stress(text: str, *, source: str = "<stress>", default_name: str | None = None) -> Stress:
    """Validate stress YAML text; errors name each bad field and its line."""
    data, root = read_yaml_mapping(text, source, "a stress is a YAML mapping with keys name, shocks, haircuts, set")
    if data.get("name") is None and default_name is not None:
        data["name"] = default_name
    try:
        stress = Stress.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            message = "unknown field; allowed: id, name, description, horizon_days, sources, shocks, haircuts, set" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append((_where(tuple(err["loc"]), root), message))
        raise ScenarioError(source, problems) from None
    if not (stress.shocks or stress.haircuts or stress.set):
        raise ScenarioError(source, [("shocks", "a stress needs at least one shock, haircut or set entry")])
    if stress.horizon_days is not None:
        for i, shock in enumerate(stress.shocks):
            if shock.day + shock.over_days - 1 > stress.horizon_days:
                raise ScenarioError(
                    source,
                    [(_where(("shocks", i), root), f"ends on day {shock.day + shock.over_days - 1}, after the stress's horizon_days ({stress.horizon_days})")],
                )
    return stress


# -- applying a stress ----------------------------------------------------------------------------


def select_assets(scenario: Scenario, selector: str) -> list[str]:
    """Asset ids matched by an id or a class selector (*, *public, *private); [] when none."""
    if selector == "*":
        return scenario.asset_ids
    if selector in ("*public", "*private"):
        kind = selector[1:]
        return [a for a, asset in scenario.assets.items() if asset.kind == kind]
    if selector.startswith("*"):
        raise ScenarioError(selector, [("asset", f"unknown asset class '{selector}'; classes: {', '.join(CLASS_SELECTORS)}")])
    return [selector] if selector in scenario.assets else []


def select_loans(scenario: Scenario, selector: str | Sequence[str]) -> list[str]:
    """Loan ids matched by ids or by *, *secured, *unsecured."""
    selectors = [selector] if isinstance(selector, str) else list(selector)
    out: list[str] = []
    for sel in selectors:
        if sel == "*":
            found = list(scenario.loans)
        elif sel in ("*secured", "*unsecured"):
            secured = sel == "*secured"
            found = [k for k, loan in scenario.loans.items() if loan.secured == secured]
        elif sel.startswith("*"):
            raise ScenarioError(sel, [("loans", f"unknown loan class '{sel}'; classes: {', '.join(LOAN_SELECTORS)}")])
        else:
            found = [sel] if sel in scenario.loans else []
        out += [k for k in found if k not in out]
    return out


def describe_assets(scenario: Scenario) -> str:
    return ", ".join(f"{a} ({asset.kind})" for a, asset in scenario.assets.items())


def apply_stress(scenario: Scenario, stress: Stress) -> AppliedStress:
    """The scenario with the stress's shocks appended, its haircuts and overrides set; validated."""
    horizon = scenario.horizon
    changes: list[str] = []
    notes: list[str] = []
    new_shocks: list[dict[str, Any]] = []
    for shock in stress.shocks:
        targets = select_assets(scenario, shock.asset)
        if not targets:
            notes.append(f"shock on '{shock.asset}' skipped: {_no_asset(scenario, shock.asset)}")
            continue
        if shock.day > horizon:
            notes.append(f"shock on '{shock.asset}' on day {shock.day} skipped: after the scenario's horizon ({horizon} days)")
            continue
        last = shock.day + shock.over_days - 1
        # a move spread evenly in log over its days: past the horizon, only the days within it apply
        days = min(shock.over_days, horizon - shock.day + 1)
        change = shock.change
        if days < shock.over_days and change > -1.0:
            change = math.expm1(math.log1p(change) * days / shock.over_days)
        for asset_id in targets:
            new_shocks.append({"day": shock.day, "asset": asset_id, "change": change, "over_days": days})
            span = f"day {shock.day}" if days == 1 else f"days {shock.day}-{shock.day + days - 1}"
            changes.append(f"{asset_id} {change:+.1%} ({span})")
        if last > horizon:
            notes.append(f"shock on '{shock.asset}' runs past the horizon ({horizon} days): only the days within it "
                         f"apply ({shock.change:+.1%} over {shock.over_days} days becomes {change:+.1%} over {days})")

    values: dict[str, Any] = {}
    if new_shocks:
        values["shocks"] = [s.model_dump(mode="python") for s in scenario.shocks] + new_shocks

    haircuts: dict[str, dict[str, float]] = {}
    for rule in stress.haircuts:
        assets = select_assets(scenario, rule.asset)
        loans = select_loans(scenario, rule.loans)
        if not assets:
            notes.append(f"haircut on '{rule.asset}' skipped: {_no_asset(scenario, rule.asset)}")
            continue
        applied = False
        for loan_id in loans:
            loan = scenario.loans[loan_id]
            if not loan.secured:
                continue
            current = haircuts.setdefault(loan_id, loan.accepted_haircuts)
            for asset_id in assets:
                pledged = (loan.collateral or {}).get(asset_id, 0.0) > 0.0
                accepted = asset_id in current
                if rule.applies_to == "top-up" and (pledged or not accepted):
                    continue
                if rule.applies_to == "pledged" and not pledged:
                    continue
                if rule.applies_to == "all" and not (pledged or accepted):
                    continue
                if rule.haircut > current.get(asset_id, 0.0):
                    current[asset_id] = rule.haircut
                    changes.append(f"{loan_id} haircut on {asset_id} {rule.haircut:.0%} ({rule.applies_to})")
                applied = True
        if not applied:
            notes.append(f"haircut on '{rule.asset}' ({rule.applies_to}) skipped: no secured loan of {rule.loans!r} accepts it that way")
    for loan_id, cuts in haircuts.items():
        if cuts != scenario.loans[loan_id].accepted_haircuts:
            values[f"loans.{loan_id}.haircuts"] = cuts

    for pattern, value in stress.set.items():
        paths = expand_path(scenario, pattern)
        if not paths:
            notes.append(f"set {pattern} skipped: no such field in this scenario")
            continue
        for path in paths:
            new = _set_value(scenario, path, value, stress.name)
            if new is None:
                notes.append(f"set {path} skipped: it holds no number to change")
                continue
            values[path] = new
            changes.append(f"{path} = {new:g}" if isinstance(new, int | float) else f"{path} = {new}")

    if not values:
        raise ScenarioError(
            f"stress {stress.name}",
            [("shocks", f"nothing in this stress applies to the scenario '{scenario.name}'"
              + (f" ({'; '.join(notes)})" if notes else "") + f"; the scenario's assets are: {describe_assets(scenario)}")],
        )
    variant = with_values(scenario, values)
    variant = variant.model_copy(update={"name": f"{scenario.name or 'scenario'} + {stress.name}"})
    return AppliedStress(stress=stress, scenario=variant, changes=changes, notes=notes)


SET_OPERATORS = ("times", "plus", "at_most", "at_least")


def _set_value(scenario: Scenario, path: str, value: Any, stress: str) -> Any:
    """The new value of a `set` entry: the value itself, or {times|plus|at_most|at_least: x}
    applied to the field's current number (None when it holds none)."""
    if not (isinstance(value, dict) and len(value) == 1 and next(iter(value)) in SET_OPERATORS):
        if isinstance(value, dict) and set(value) & set(SET_OPERATORS):
            raise ScenarioError(f"stress {stress}", [(f"set.{path}", f"give one operator of {', '.join(SET_OPERATORS)}, e.g. {{times: 0.6}}")])
        return value
    (op, x), = value.items()
    current = field_value(scenario, path) if _has_value(scenario, path) else None
    if isinstance(current, bool) or not isinstance(current, int | float) or not isinstance(x, int | float):
        return None
    new = {"times": current * x, "plus": current + x, "at_most": min(current, x), "at_least": max(current, x)}[op]
    return type(current)(round(new)) if isinstance(current, int) else float(new)


def _has_value(scenario: Scenario, path: str) -> bool:
    try:
        return field_value(scenario, path) is not None
    except ScenarioError:
        return False


def _no_asset(scenario: Scenario, selector: str) -> str:
    return "the scenario has no asset of that class" if selector.startswith("*") else "the scenario has no such asset"


def expand_path(scenario: Scenario, pattern: str) -> list[str]:
    """Dotted paths matched by `pattern` (wildcards under loans, assets, haircuts, collateral) that
    hold a value in the scenario; [] when none."""
    parts = [p for p in pattern.split(".") if p]
    if not parts:
        raise ScenarioError("set", [(pattern or "(empty)", "give a dotted field path such as loans.*secured.cure_days")])
    data = scenario.model_dump(mode="python")
    out: list[str] = []

    def walk(node: Any, i: int, prefix: list[str], parent: str | None) -> None:
        if i == len(parts):
            out.append(".".join(prefix))
            return
        part = parts[i]
        if isinstance(node, dict):
            if part.startswith("*"):
                if parent == "loans":
                    keys = select_loans(scenario, part)
                elif parent in ("assets", "haircuts", "collateral"):
                    keys = [k for k in select_assets(scenario, part) if k in node]
                else:
                    raise ScenarioError("set", [(pattern, f"a wildcard goes under loans, assets, haircuts or collateral, not under '{parent}'")])
            else:
                keys = [part] if part in node else []
            for key in keys:
                if key in node and (node[key] is not None or i + 1 == len(parts)):
                    walk(node[key], i + 1, prefix + [key], key)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            walk(node[int(part)], i + 1, prefix + [part], parent)

    walk(data, 0, [], None)
    return out


# -- running --------------------------------------------------------------------------------------

StressProgress = Callable[[str, int, int], None]  # (run name, paths done, paths in all)


def run_stresses(
    scenario: Scenario,
    stresses: Sequence[Stress | str | Path] | None = None,
    *,
    paths: int = 100_000,
    seed: int = 0,
    threads: int | None = None,
    progress: StressProgress | None = None,
) -> StressRun:
    """Simulate the base scenario and each stress (default: every built-in one) with common random
    numbers: the same seed and path count, hence the same market draws on each path."""
    chosen = [s if isinstance(s, Stress) else load_stress(s) for s in (stresses if stresses is not None else load_stresses())]
    applied = {s.name: apply_stress(scenario, s) for s in chosen}  # fail fast, before any run

    def hook(name: str):
        if progress is None:
            return None
        return lambda done, total: progress(name, done, total)

    base = simulate(scenario, paths=paths, seed=seed, threads=threads, progress=hook("base"))
    results = {
        name: simulate(a.scenario, paths=paths, seed=seed, threads=threads, progress=hook(name))
        for name, a in applied.items()
    }
    return StressRun(base=base, results=results, applied=applied)


def stress_rows(run: StressRun) -> list[dict[str, Any]]:
    """One row per (run, loan) and one per (run, borrower): the numbers of the stress table. A borrower's
    row is "borrower" in a one-borrower book, "borrower ID" in a book of several."""
    rows: list[dict[str, Any]] = []
    for name, result in {"base": run.base, **run.results}.items():
        for loan_id, r in result.loans.items():
            rows.append({
                "run": name, "who": loan_id,
                "p_margin_call": r.p_margin_call if r.secured else None, "p_margin_call_se": r.p_margin_call_se if r.secured else None,
                "p_default": r.p_default, "p_default_se": r.p_default_se,
                "expected_loss": r.expected_loss, "expected_loss_se": r.expected_loss_se,
                "loss_var_99": r.loss_var_99,
            })
        for borrower_id, b in result.borrowers.items():
            rows.append({
                "run": name, "who": "borrower" if len(result.borrowers) == 1 else f"borrower {borrower_id}",
                "p_default": b.p_default, "p_default_se": b.p_default_se,
                "liquidity_at_risk_95": b.liquidity_at_risk_95,
                "p_cascade": b.p_cascade, "p_cascade_se": b.p_cascade_se,
            })
    return rows


__all__ = [
    "AppliedStress",
    "Stress",
    "StressHaircut",
    "StressRun",
    "StressShock",
    "apply_stress",
    "builtin_stresses",
    "expand_path",
    "load_stress",
    "load_stresses",
    "parse_stress",
    "run_stresses",
    "select_assets",
    "select_loans",
    "stress_rows",
]
