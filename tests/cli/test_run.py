"""`margincall run`, `check` and `schema` end to end, through the installed entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

EXE = shutil.which("margincall")


@pytest.fixture(autouse=True)
def _private_store(tmp_path, monkeypatch):
    """Each test records its runs in its own SQLite store, never the user's."""
    monkeypatch.setenv("MARGINCALL_DB", str(tmp_path / "runs.db"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    command = [EXE, *args] if EXE else [sys.executable, "-m", "margincall.cli.main", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=os.environ.copy())


def test_run_default_scenario_writes_result(tmp_path):
    out = _cli("run", "--paths", "3000", "--seed", "5", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "openai-margin-loan" in out.stdout and "Borrower" in out.stdout
    data = json.loads((tmp_path / "result.json").read_text())
    assert data["scenario"] == "softbank-openai" and data["paths"] == 3000 and data["seed"] == 5
    assert "simulating" in out.stderr  # the progress bar
    assert (tmp_path / "report.html").stat().st_size > 1_000_000  # plotly.js inlined
    assert "stored as run 1" in out.stdout


@pytest.mark.slow
def test_runs_show_compare(tmp_path, data_dir):
    scenario = str(data_dir / "single-stock.yaml")
    for seed in ("1", "2"):
        assert _cli("run", scenario, "-n", "2048", "-s", seed).returncode == 0
    listed = _cli("runs")
    assert listed.returncode == 0 and "single-stock" in listed.stdout and "complete" in listed.stdout
    shown = _cli("show", "2", "--report", str(tmp_path / "again"))
    assert shown.returncode == 0, shown.stderr
    assert "seed 2" in shown.stdout and (tmp_path / "again" / "report.html").exists()
    compared = _cli("compare", "1", "2")
    assert compared.returncode == 0 and "p_margin_call" in compared.stdout and "beyond 3 SE" in compared.stdout
    missing = _cli("show", "99")
    assert missing.returncode != 0 and "99" in missing.stderr and "Traceback" not in missing.stderr


@pytest.mark.slow
def test_run_is_reproducible_from_the_seed(tmp_path, data_dir):
    results = []
    for k, threads in enumerate(("1", "2")):
        folder = tmp_path / str(k)
        out = _cli("run", str(data_dir / "single-stock.yaml"), "-n", "2500", "-s", "9", "-o", str(folder), "--threads", threads)
        assert out.returncode == 0, out.stderr
        data = json.loads((folder / "result.json").read_text())
        data.pop("elapsed_seconds")
        results.append(data)
    assert results[0] == results[1]


def test_check_and_schema(data_dir):
    out = _cli("check", str(data_dir / "rich.yaml"))
    assert out.returncode == 0 and "valid" in out.stdout
    schema = json.loads(_cli("schema", "--json").stdout)
    assert "assets" in schema["properties"]
    described = json.dumps(schema)
    assert "currency per day" in described and "per year" in described  # units are stated


def test_schema_prints_a_readable_reference(data_dir):
    table = _cli("schema")
    assert table.returncode == 0, table.stderr
    assert not table.stdout.lstrip().startswith("{")  # a table, not JSON
    for expected in ("field", "type", "unit", "default", "meaning", "loans.<loan>.margin_call_ltv",
                     "assets.<asset>.volatility", "per year (0.3 = 30%)", "trading days", "required"):
        assert expected in table.stdout
    loans = _cli("schema", "loans")
    assert loans.returncode == 0 and "loans.<loan>.cure_days" in loans.stdout and "assets.<asset>" not in loans.stdout
    bad = _cli("schema", "lonas")
    assert bad.returncode == 2 and "loans" in bad.stderr and "Traceback" not in bad.stderr
    from margincall.model.reference import reference_markdown

    assert _cli("schema", "--markdown").stdout == reference_markdown()


@pytest.mark.parametrize("paths", ["0", "-5", "abc"])
def test_bad_path_count(paths):
    out = _cli("run", "--paths", paths)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr + out.stdout
    assert "--paths" in out.stderr


@pytest.mark.slow
def test_run_on_dask_workers_matches_one_process(tmp_path, data_dir):
    """`run --workers 2` (a local Dask cluster) writes the same result.json as a run in this process."""
    results = []
    for k, extra in enumerate(((), ("--workers", "2"))):
        folder = tmp_path / str(k)
        out = _cli("run", str(data_dir / "single-stock.yaml"), "-n", "3072", "-s", "4", "-o", str(folder), *extra)
        assert out.returncode == 0, out.stderr
        data = json.loads((folder / "result.json").read_text())
        data.pop("elapsed_seconds")
        results.append(data)
    assert results[0] == results[1]
    clash = _cli("run", str(data_dir / "single-stock.yaml"), "-n", "1024", "--workers", "2", "--threads", "2")
    assert clash.returncode != 0 and "--threads" in clash.stderr and "Traceback" not in clash.stderr
