"""Golden results: the headline figures of every shipped scenario at a fixed seed, pinned.

A change to the engine, the model or a shipped scenario that moves any of them fails here, so that
it is made on purpose: rerun with MARGINCALL_UPDATE_GOLDEN=1 to write the new figures, and say in
the commit why they moved. The figures are exact for a seed (the same whatever the thread count or
batching), so they are compared to 1e-9 relative."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

import margincall
from margincall.analysis.loading import builtin_scenarios

GOLDEN = Path(__file__).parents[1] / "data" / "golden" / "shipped.json"
PATHS = 4096
SEED = 20261202

LOAN_FIGURES = ("p_margin_call", "p_default", "p_loss", "expected_loss", "loss_var_99", "expected_drawn")
BORROWER_FIGURES = ("p_default", "p_forced_sale", "expected_sold_value", "liquidity_at_risk_95", "p_cascade", "expected_equity")
LENDER_FIGURES = ("p_loss", "expected_loss", "loss_var_99")
SYSTEM_FIGURES = ("p_any_default", "expected_defaults", "expected_forced_sales")


def headline(result: margincall.SimulationResult) -> dict[str, Any]:
    """The figures pinned per scenario: by loan, borrower and lender, and for the system."""
    d = result.to_dict()

    def pick(block: dict[str, Any], names: tuple[str, ...]) -> dict[str, float]:
        return {name: float(block[name]) for name in names if block.get(name) is not None}

    return {
        "loans": {k: pick(v, LOAN_FIGURES) for k, v in d["loans"].items()},
        "borrowers": {k: pick(v, BORROWER_FIGURES) for k, v in d["borrowers"].items()},
        "lenders": {k: pick(v, LENDER_FIGURES) for k, v in d["lenders"].items()},
        "system": pick(d["system"], SYSTEM_FIGURES),
    }


def run(name: str) -> dict[str, Any]:
    return headline(margincall.simulate(margincall.load_scenario(name), paths=PATHS, seed=SEED))


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))


def _diff(want: Any, got: Any, where: str = "") -> list[str]:
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{where}: expected a mapping"]
        out = [f"{where}.{k}: missing" for k in want if k not in got]
        out += [f"{where}.{k}: new" for k in got if k not in want]
        for k in want:
            if k in got:
                out += _diff(want[k], got[k], f"{where}.{k}")
        return out
    return [] if _close(float(want), float(got)) else [f"{where}: pinned {want!r}, now {got!r}"]


@pytest.mark.parametrize("name", builtin_scenarios())
def test_shipped_scenario_keeps_its_pinned_figures(name: str) -> None:
    got = run(name)
    pinned = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
    if os.environ.get("MARGINCALL_UPDATE_GOLDEN") == "1":
        pinned[name] = got
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(pinned, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return
    assert name in pinned, f"{name} has no pinned figures: run with MARGINCALL_UPDATE_GOLDEN=1"
    problems = _diff(pinned[name], got, name)
    assert not problems, "figures moved (rerun with MARGINCALL_UPDATE_GOLDEN=1 if on purpose):\n" + "\n".join(problems)


def test_every_pinned_scenario_is_still_shipped() -> None:
    pinned = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(pinned) == sorted(builtin_scenarios())
