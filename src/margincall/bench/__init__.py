"""`margincall bench`: the engine's throughput against the machine's floor and two peers.

Every figure comes from one run on the current machine; engine runs each execute in a fresh
process so that their peak memory (RSS) is their own.
"""

from margincall.bench.suite import BenchConfig, run_benchmark

__all__ = ["BenchConfig", "run_benchmark"]
