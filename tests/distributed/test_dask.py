"""Runs on a Dask cluster give the single-process numbers, bit for bit, with any number of workers
and when tasks fail or workers die along the way."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import distributed
import pytest

import margincall
from margincall.analysis.simulate import BLOCK_PATHS
from margincall.distributed import DaskSession, plan_tasks, run_task, simulate_on_dask

pytestmark = pytest.mark.slow

PATHS, SEED = 5000, 7  # 5 blocks, the last one partial


@pytest.fixture(scope="module")
def cluster():
    """One local cluster of two worker processes for the module."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR
    ) as local:
        yield local


@pytest.fixture(scope="module")
def reference(single_stock) -> dict:
    """The single-process run (it also leaves the compiled kernels in numba's cache for the workers)."""
    return _numbers(margincall.simulate(single_stock, paths=PATHS, seed=SEED))


def _numbers(result) -> dict:
    data = result.to_dict()
    data.pop("elapsed_seconds")
    return data


def _fail_once(marker_dir: Path, *, kill_block: int | None = None):
    """A task that fails the first time it runs for a block (a marker file remembers): it raises,
    or, for `kill_block`, ends its worker process. Defined in a function so that it travels to
    the workers by value."""

    def task(inputs, *, paths, seed, first_block, n_blocks):
        marker = marker_dir / f"block-{first_block}"
        if kill_block is None or first_block == kill_block:
            try:
                marker.touch(exist_ok=False)
            except FileExistsError:
                pass
            else:
                if kill_block is not None:
                    os._exit(1)
                raise RuntimeError(f"injected failure in block {first_block}")
        return run_task(inputs, paths=paths, seed=seed, first_block=first_block, n_blocks=n_blocks)

    return task


def test_plan_covers_every_block_once():
    for paths in (1, BLOCK_PATHS, BLOCK_PATHS + 1, 5000, 100_000):
        total = -(-paths // BLOCK_PATHS)
        for n_workers, per_task in ((1, None), (2, None), (8, None), (2, 3)):
            plan = plan_tasks(paths, n_workers=n_workers, blocks_per_task=per_task)
            assert [first for first, _ in plan] == sorted(first for first, _ in plan)
            covered = [first + k for first, count in plan for k in range(count)]
            assert covered == list(range(total))
    assert len(plan_tasks(100 * BLOCK_PATHS, n_workers=2)) == 8  # about four tasks per worker
    with pytest.raises(margincall.SimulationError, match="blocks_per_task"):
        plan_tasks(5000, n_workers=2, blocks_per_task=0)


def test_two_workers_match_one_process(cluster, single_stock, reference):
    seen = []
    result = simulate_on_dask(
        single_stock, paths=PATHS, seed=SEED, scheduler=cluster.scheduler_address, progress=lambda done, total: seen.append((done, total))
    )
    assert _numbers(result) == reference
    assert seen[-1] == (PATHS, PATHS) and len(seen) == 5  # one call per task, as tasks finish
    with DaskSession(scheduler=cluster.scheduler_address) as session:
        for per_task in (2, 5):  # tasks of 2 blocks (the last one shorter), one task of all blocks
            assert _numbers(session.simulate(single_stock, paths=PATHS, seed=SEED, blocks_per_task=per_task)) == reference


def test_own_local_cluster_of_one_worker(single_stock, reference):
    """workers=1 starts (and closes) a cluster of its own: the same numbers."""
    assert _numbers(simulate_on_dask(single_stock, paths=PATHS, seed=SEED, workers=1)) == reference


def test_failed_tasks_are_retried(cluster, single_stock, reference, tmp_path):
    task = _fail_once(tmp_path)
    with DaskSession(scheduler=cluster.scheduler_address, retries=1) as session:
        result = session.simulate(single_stock, paths=PATHS, seed=SEED, blocks_per_task=2, task=task)
    assert _numbers(result) == reference
    assert sorted(p.name for p in tmp_path.iterdir()) == ["block-0", "block-2", "block-4"]  # each task failed once


def test_failure_without_retries_is_a_simulation_error(cluster, single_stock, tmp_path):
    with DaskSession(scheduler=cluster.scheduler_address, retries=0) as session, pytest.raises(margincall.SimulationError, match="injected failure"):
        session.simulate(single_stock, paths=PATHS, seed=SEED, task=_fail_once(tmp_path))


def test_bad_arguments(single_stock):
    with pytest.raises(margincall.SimulationError, match="not both"):
        simulate_on_dask(single_stock, paths=PATHS, workers=2, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(margincall.SimulationError, match="workers"):
        simulate_on_dask(single_stock, paths=PATHS, workers=0)
    with pytest.raises(margincall.SimulationError, match="paths"):
        simulate_on_dask(single_stock, paths=0, workers=1)
    with pytest.raises(margincall.SimulationError, match="cannot reach the Dask scheduler"), DaskSession(scheduler="tcp://127.0.0.1:9", timeout=1.0):
        pass


def test_a_killed_worker_is_replaced(cluster, single_stock, reference, tmp_path):
    """The worker running block 2 dies; the scheduler reruns the lost tasks on the other worker
    (and the nanny starts a new one): the same numbers. Last in the module: it restarts a worker."""
    with DaskSession(scheduler=cluster.scheduler_address, retries=0) as session:
        result = session.simulate(single_stock, paths=PATHS, seed=SEED, blocks_per_task=1, task=_fail_once(tmp_path, kill_block=2))
    assert _numbers(result) == reference
    assert (tmp_path / "block-2").exists()
