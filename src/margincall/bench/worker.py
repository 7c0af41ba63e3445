"""One engine run in its own process:
`python -m margincall.bench.worker WORKLOAD PATHS THREADS [antithetic] [repeats=N]`.

Prints one JSON line: wall seconds of the fastest of N runs (after a small warm-up run that
loads the compiled kernels), every run's wall seconds, path-days, P(margin call) of the first
loan with its SE, peak RSS in bytes.
"""

from __future__ import annotations

import json
import resource
import sys
import time


def main(argv: list[str]) -> None:
    from margincall.analysis.simulate import simulate
    from margincall.bench.workloads import workload

    name, paths, threads = argv[0], int(argv[1]), int(argv[2])
    antithetic = "antithetic" in argv[3:]
    repeats = next((int(a.split("=", 1)[1]) for a in argv[3:] if a.startswith("repeats=")), 1)
    scenario = workload(name)
    simulate(scenario, paths=2048, seed=1, threads=threads, antithetic=antithetic)  # load the kernels
    walls = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = simulate(scenario, paths=paths, seed=1, threads=threads, antithetic=antithetic)
        walls.append(time.perf_counter() - started)
    wall = min(walls)
    loan = next(iter(result.loans.values()))
    print(
        json.dumps(
            {
                "wall_s": wall,
                "wall_s_runs": walls,
                "path_days": paths * result.horizon_days,
                "asset_days": paths * result.horizon_days * len(scenario.assets),
                "p_margin_call": loan.p_margin_call,
                "p_margin_call_se": loan.p_margin_call_se,
                "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
