"""The benchmark suite: floor, engine on workloads (a), (b) and the book (c), peers, memory, first
start, and the time each variance-reduction method needs to reach a target standard error."""

from __future__ import annotations

import json
import math
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np

from margincall._version import __version__
from margincall.bench.peers import numpy_peer, numpy_streaming, quantlib_peer
from margincall.bench.workloads import assets_in, workload

Say = Callable[[str], None]


@dataclass(frozen=True)
class BenchConfig:
    paths: int = 1_000_000  # engine paths on workloads (a) and (b)
    numpy_paths: int = 200_000  # the numpy peer's paths (its rate is per path-day)
    quantlib_paths: int = 4_000  # QuantLib's paths (slow: scaled)
    memory_paths: int = 10_000_000  # workload (a) for the peak-memory check; 0 skips it
    efficiency_paths: int = 200_000  # paths per method when timing a target standard error
    repeats_a: int = 3  # engine runs of workload (a): the fastest counts, as for the floor and numpy
    repeats_b: int = 2  # engine runs of workload (b)
    book_paths: int = 100_000  # engine paths on the book, workload (c), all cores, one run; 0 skips it
    start_paths: int = 20_000  # paths of the timed first and second `margincall run` (the README's first command)
    target_se: float = 0.001
    threads: int = numba.config.NUMBA_NUM_THREADS  # "all cores"


def _machine() -> dict[str, Any]:
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "margincall": __version__,
        "platform": platform.platform(),
    }


def _worker(name: str, paths: int, threads: int, antithetic: bool = False, repeats: int = 1) -> dict[str, Any]:
    args = [sys.executable, "-m", "margincall.bench.worker", name, str(paths), str(threads), f"repeats={repeats}"]
    if antithetic:
        args.append("antithetic")
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["path_days_per_s"] = data["path_days"] / data["wall_s"]
    data["asset_days_per_s"] = data["asset_days"] / data["wall_s"]
    data["paths"] = paths
    data["threads"] = threads
    return data


def _floor(threads: int, assets: int, paths: int, days: int = 504) -> dict[str, float]:
    from margincall.market.floor import floor_kernel

    numba.set_num_threads(threads)
    floor_kernel(1024, 8, assets, 1, 0.0, 0.02)  # compile or load
    wall = math.inf
    for _ in range(3):  # the best of three: the floor is what the machine can do
        started = time.perf_counter()
        floor_kernel(paths, days, assets, 1, 0.0, 0.02)
        wall = min(wall, time.perf_counter() - started)
    return {"wall_s": wall, "asset_days_per_s": paths * days * assets / wall, "threads": threads}


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _start_times(paths: int) -> dict[str, float | None]:
    """The README's first command, `margincall run --paths N` on the built-in scenario, in a fresh
    process with an empty kernel cache (a fresh install: XDG_CACHE_HOME points at an empty folder,
    so the install's own cache folder logic is used), then again with the cache it left. Wall and
    CPU seconds of each (CPU summed over the process and the helper that compiles beside it), and
    the compile seconds the run reported."""
    env = {key: value for key, value in os.environ.items() if key != "NUMBA_CACHE_DIR"}
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as work:
        env.update(XDG_CACHE_HOME=cache, MARGINCALL_DB=str(Path(work) / "runs.db"))
        walls, cpus, compiles = [], [], []
        for _ in range(2):
            cpu, started = _children_cpu_s(), time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "margincall.cli.main", "run", "--paths", str(paths), "--no-store"],
                capture_output=True, check=True, env=env, text=True,
            )
            walls.append(time.perf_counter() - started)
            cpus.append(_children_cpu_s() - cpu)
            reported = re.search(r"kernels compiled in ([0-9.]+) s", done.stderr + done.stdout)
            compiles.append(float(reported.group(1)) if reported else 0.0)
    return {
        "paths": paths,
        "first_start_s": walls[0],
        "first_start_cpu_s": cpus[0],
        "first_start_compile_s": compiles[0],
        "second_start_s": walls[1],
        "second_start_cpu_s": cpus[1],
        "second_start_compile_s": compiles[1],
    }


def run_benchmark(config: BenchConfig = BenchConfig(), say: Say = lambda _: None) -> dict[str, Any]:
    """Run everything once on this machine and return the figures (see docs/performance.md)."""
    report: dict[str, Any] = {"machine": _machine(), "config": asdict(config)}

    def floors() -> dict[str, dict[str, float]]:
        return {
            "1_thread": _floor(1, 1, max(config.paths // 8, 50_000)),
            "all_cores": _floor(config.threads, 1, max(config.paths // 2, 100_000)),
        }

    say("floor: one normal and one exp per asset-day")
    report["floor"] = floors()
    engine: dict[str, Any] = {}
    for name in ("a", "b"):
        repeats = config.repeats_a if name == "a" else config.repeats_b
        for label, threads in (("1_thread", 1), ("all_cores", config.threads)):
            say(f"engine: workload ({name}), {config.paths:,} paths, {label.replace('_', ' ')}, fastest of {repeats}")
            engine[f"{name}_{label}"] = _worker(name, config.paths, threads, repeats=repeats)
    if config.book_paths:
        say(f"engine: workload (c), the book, {config.book_paths:,} paths x {workload('c').horizon} days, all cores")
        engine["c_all_cores"] = _worker("c", config.book_paths, config.threads)
    report["engine"] = engine
    # a shared machine's speed drifts: the floor is measured again after the engine, and the
    # faster of the two counts (the stricter target)
    say("floor again, after the engine runs")
    report["floor_after"] = floors()
    floor_all = max(report["floor"]["all_cores"]["asset_days_per_s"], report["floor_after"]["all_cores"]["asset_days_per_s"])
    report["floor_all_cores_used"] = floor_all
    say(f"numpy peer: {config.numpy_paths:,} paths (best of three)")
    report["numpy_peer"] = min((numpy_peer(config.numpy_paths) for _ in range(3)), key=lambda r: r["wall_s"])
    report["numpy_peer"]["path_days_per_s"] = report["numpy_peer"]["path_days"] / report["numpy_peer"]["wall_s"]
    report["numpy_streaming"] = min((numpy_streaming(config.numpy_paths) for _ in range(3)), key=lambda r: r["wall_s"])
    report["numpy_streaming"]["path_days_per_s"] = report["numpy_streaming"]["path_days"] / report["numpy_streaming"]["wall_s"]
    say(f"QuantLib peer: {config.quantlib_paths:,} paths")
    ql = quantlib_peer(config.quantlib_paths)
    if ql is not None:
        ql["path_days_per_s"] = ql["path_days"] / ql["wall_s"]
    report["quantlib_peer"] = ql
    a_all = engine["a_all_cores"]["asset_days_per_s"]
    report["ratios"] = {
        "a_all_cores_vs_floor": a_all / floor_all,
        "b_all_cores_vs_floor": engine["b_all_cores"]["asset_days_per_s"] / floor_all,
        "a_all_cores_vs_numpy": a_all / report["numpy_peer"]["path_days_per_s"],
        "a_all_cores_vs_numpy_by_day": a_all / report["numpy_streaming"]["path_days_per_s"],
        "a_all_cores_vs_quantlib": a_all / ql["path_days_per_s"] if ql else None,
        "a_threads_speedup": a_all / engine["a_1_thread"]["asset_days_per_s"],
        "b_threads_speedup": engine["b_all_cores"]["asset_days_per_s"] / engine["b_1_thread"]["asset_days_per_s"],
    }
    if "c_all_cores" in engine:
        report["ratios"]["c_all_cores_vs_floor"] = engine["c_all_cores"]["asset_days_per_s"] / floor_all
    if config.memory_paths:
        say(f"memory: workload (a), {config.memory_paths:,} paths")
        report["memory"] = _worker("a", config.memory_paths, config.threads)
    say(f"first start: `margincall run --paths {config.start_paths:,}` with an empty kernel cache, then again")
    report["start"] = _start_times(config.start_paths)
    efficiency = {}
    for method in ("plain", "antithetic"):
        say(f"efficiency: {method}, {config.efficiency_paths:,} paths")
        run = _worker("a", config.efficiency_paths, config.threads, antithetic=method == "antithetic", repeats=config.repeats_a)
        se = run["p_margin_call_se"]
        factor = (se / config.target_se) ** 2
        efficiency[method] = {
            "paths": config.efficiency_paths,
            "wall_s": run["wall_s"],
            "p_margin_call": run["p_margin_call"],
            "se": se,
            "paths_for_target": int(config.efficiency_paths * factor),
            "seconds_for_target": run["wall_s"] * factor,
        }
    efficiency["sobol_brownian_bridge"] = None  # not implemented: see docs/performance.md
    report["efficiency"] = efficiency
    report["workload_assets"] = {"a": assets_in("a"), "b": assets_in("b"), "c": assets_in("c")}
    report["workload_b_horizon_days"] = workload("b").horizon
    return report
