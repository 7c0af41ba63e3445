"""`margincall sweep` end to end, through the installed entry point."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

EXE = shutil.which("margincall")
SETS = ("--set", "loans.acme-loan.principal=40:60:2", "--set", "loans.acme-loan.margin_call_ltv=0.6,0.7")


@pytest.fixture(autouse=True)
def _private_store(tmp_path, monkeypatch):
    """Never the user's run store (sweep does not record runs, but keep it that way)."""
    monkeypatch.setenv("MARGINCALL_DB", str(tmp_path / "runs.db"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    command = [EXE, *args] if EXE else [sys.executable, "-m", "margincall.cli.main", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=os.environ.copy())


def _sweep(data_dir, out, *extra: str) -> subprocess.CompletedProcess:
    return _cli("sweep", str(data_dir / "single-stock.yaml"), *SETS, "--paths", "2048", "--seed", "3", "--out", str(out), *extra)


def test_sweep_writes_table_and_files(data_dir, tmp_path):
    out = _sweep(data_dir, tmp_path / "sweep")
    assert out.returncode == 0, out.stderr
    assert "sweeping" in out.stderr and "4/4" in out.stderr  # the progress bar counts points
    for text in ("loans.acme-loan.principal", "loans.acme-loan.margin_call_ltv", "acme-loan", "P(call)", "P(default)", "expected loss", "±"):
        assert text in out.stdout, text
    with (tmp_path / "sweep" / "sweep.csv").open(newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0][:3] == ["loans.acme-loan.principal", "loans.acme-loan.margin_call_ltv", "acme-loan.p_margin_call"]
    assert [line[:2] for line in table[1:]] == [["40", "0.6"], ["40", "0.7"], ["60", "0.6"], ["60", "0.7"]]
    rows = json.loads((tmp_path / "sweep" / "sweep.json").read_text())
    assert [r["values"]["loans.acme-loan.principal"] for r in rows] == [40, 40, 60, 60]
    assert {"p_margin_call", "p_default", "expected_loss", "loss_var_99"} <= rows[0]["loans"]["acme-loan"].keys()
    assert {"p_default", "p_cascade", "liquidity_at_risk_95"} <= rows[0]["borrower"].keys()
    calls = {(r["values"]["loans.acme-loan.principal"], r["values"]["loans.acme-loan.margin_call_ltv"]): r["loans"]["acme-loan"]["p_margin_call"] for r in rows}
    assert calls[(40, 0.6)] < calls[(60, 0.6)] and calls[(40, 0.7)] < calls[(60, 0.7)]


@pytest.mark.slow
def test_sweep_on_dask_workers_gives_the_same_files(data_dir, tmp_path):
    local = _sweep(data_dir, tmp_path / "local")
    dask = _sweep(data_dir, tmp_path / "dask", "--workers", "2")
    assert local.returncode == 0 and dask.returncode == 0, local.stderr + dask.stderr
    for name in ("sweep.json", "sweep.csv"):
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--set", "loans.nope.principal=5"), "no field 'nope'"),
        (("--set", "loans.acme-loan.principal=1:2"), "START:STOP:COUNT"),
        (("--set", "loans.acme-loan.principal=5", "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"), "give one of them"),
        ((), "--set"),
    ],
)
def test_sweep_errors_are_clean(data_dir, args, message):
    out = _cli("sweep", str(data_dir / "single-stock.yaml"), *args, "--paths", "1024")
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr + out.stdout


@pytest.mark.slow
def test_sweep_builtin_scenario_by_name(tmp_path):
    out = _cli("sweep", "softbank-openai", "--set", "borrower.cash=1e9,5e9", "--paths", "1024", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    rows = json.loads((tmp_path / "sweep.json").read_text())
    assert [r["values"] for r in rows] == [{"borrower.cash": 1e9}, {"borrower.cash": 5e9}]
    assert "openai-margin-loan" in rows[0]["loans"]
