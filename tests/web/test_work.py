"""The work of a job, in-process: a run whose result holds NaN or infinity fails naming the field,
as `margincall run` does, rather than completing with nulls."""

from __future__ import annotations

import math

import pytest
from service_support import SCENARIO_TEXT

from margincall.errors import SimulationError
from margincall.web._work import JobSpec, execute


class _Result:
    def __init__(self, data: dict):
        self.data = data

    def to_dict(self) -> dict:
        return self.data


def test_a_run_with_a_non_finite_number_fails_naming_it(monkeypatch: pytest.MonkeyPatch):
    import margincall.analysis.simulate as simulate_module

    spec = JobSpec(job_id=1, kind="run", scenario_name="single", scenario_text=SCENARIO_TEXT, options={}, paths=16, seed=0)
    monkeypatch.setattr(simulate_module, "simulate", lambda *a, **k: _Result({"loans": {"acme-loan": {"p_default": math.nan}}}))
    with pytest.raises(SimulationError, match=r"not finite at loans\.acme-loan\.p_default"):
        execute(spec, lambda done, total: None)
    monkeypatch.setattr(simulate_module, "simulate", lambda *a, **k: _Result({"loans": {"acme-loan": {"p_default": 0.25}}}))
    assert execute(spec, lambda done, total: None) == {"loans": {"acme-loan": {"p_default": 0.25}}}
