"""A short run of the loopback load test (benchmarks/load_service.py: 10 clients for 10 s): no
server error, every job submitted ended complete, failed or cancelled, and memory stayed under a cap."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_short_load(tmp_path):
    out = tmp_path / "load.json"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "load_service.py"), "--clients", "10", "--seconds", "10",
                             "--max-jobs", "40", "--drain", "240", "--json", str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["requests"] > 0 and figures["server_errors_5xx"] == 0 and figures["transport_errors"] == {}
    assert figures["jobs_submitted"] > 0
    assert figures["jobs_submitted"] == figures["jobs_complete"] + figures["jobs_failed"] + figures["jobs_cancelled"]
    assert figures["jobs_unaccounted"] == 0
    # memory bounded: docs/service.md measured 183 MiB (service) and 646 MiB (with 2 workers) under
    # 50 clients for 60 s; these caps leave room over that and catch gross growth, not a slow leak
    assert 0 < figures["peak_rss_service_mib"] < 512, figures
    assert 0 < figures["peak_rss_with_workers_mib"] < 2048, figures
