"""The compiled kernel against its plain-Python twin: the same code run by the interpreter
(NUMBA_DISABLE_JIT=1, in a subprocess) must give the same statistics, bit for bit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import margincall

SCRIPT = """
import json, sys, warnings
import numpy as np
warnings.simplefilter("ignore")  # numpy warns on uint64 wrap-around, which the generator relies on
import margincall
from margincall.analysis.simulate import run_statistics
from margincall.engine.lower import lower
s = margincall.load_scenario(sys.argv[1])
stats = run_statistics(lower(s), paths=int(sys.argv[2]), seed=int(sys.argv[3]), threads=1)
print(json.dumps({k: v.tolist() for k, v in {**stats.blocks, **stats.hists}.items()}))
"""


def _compiled(path: Path, paths: int, seed: int) -> dict:
    from margincall.analysis.simulate import run_statistics
    from margincall.engine.lower import lower

    stats = run_statistics(lower(margincall.load_scenario(path)), paths=paths, seed=seed, threads=1)
    return {k: v.tolist() for k, v in {**stats.blocks, **stats.hists}.items()}


def test_compiled_kernel_equals_python_twin(data_dir: Path):
    path = data_dir / "rich.yaml"
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path), "6", "21"], env=env, capture_output=True, text=True, check=True
    )
    python = json.loads(out.stdout)
    compiled = _compiled(path, 6, 21)
    assert python.keys() == compiled.keys()
    for name in compiled:
        assert python[name] == compiled[name], name
    # and the twin ran something: the six paths were called and traded
    assert sum(map(sum, compiled["counts"])) > 0
