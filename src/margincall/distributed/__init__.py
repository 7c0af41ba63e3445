"""Execution on a Dask cluster: the blocks of one run spread over worker processes.

    from margincall.distributed import simulate_on_dask
    result = simulate_on_dask(scenario, paths=1_000_000, seed=1, workers=8)

The numbers are the same, bit for bit, as `margincall.simulate(scenario, paths=..., seed=...)`
in one process, whatever the number of workers or tasks: every block of paths draws from its own
random stream, and block statistics merge exactly (`margincall.analysis.statistics`).
"""

from margincall.distributed._dask import DaskSession, plan_tasks, run_task, simulate_on_dask

__all__ = ["DaskSession", "plan_tasks", "run_task", "simulate_on_dask"]
