"""`--format csv|parquet`: the results as tables next to the JSON in --out, read back with pandas
to the JSON's own numbers; clear errors (exit status 2) before anything runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

EXE = shutil.which("margincall")
RESULT_TABLES = ("loans", "borrowers", "lenders", "system", "fan", "curves", "loss_distribution",
                 "called_together")
# pandas 3 reads CSV floats back exactly by default; pandas 2 is asked to
ROUND_TRIP = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, **ROUND_TRIP)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = [EXE, *args] if EXE else [sys.executable, "-m", "margincall.cli.main", *args]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=600, env=env or os.environ.copy())


def test_run_writes_csv_and_parquet_with_the_json_numbers(tmp_path, data_dir):
    out = _cli("run", str(data_dir / "rich.yaml"), "-n", "1024", "-s", "4", "--out", str(tmp_path), "--format", "csv",
               "--format", "parquet")
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / "result.json").read_text())
    for name in RESULT_TABLES:
        assert f"wrote {tmp_path / name}.csv" in out.stdout and (tmp_path / f"{name}.parquet").is_file()
    loans = _csv(tmp_path / "loans.csv")
    assert list(loans["loan"]) == list(data["loans"])
    for row in loans.to_dict("records"):
        loan = data["loans"][row["loan"]]
        for column in ("p_margin_call", "p_margin_call_se", "p_default", "p_default_se", "expected_loss", "expected_loss_se",
                       "loss_var_99", "loss_es_99"):
            assert row[column] == loan[column], column
        for cause, p in loan["p_default_by_cause"].items():
            assert row[f"p_default_{cause}"] == p
    borrowers = pd.read_parquet(tmp_path / "borrowers.parquet")
    (borrower_id, borrower), = data["borrowers"].items()
    assert list(borrowers["borrower"]) == [borrower_id]
    assert (borrowers["p_default"][0], borrowers["p_default_se"][0]) == (borrower["p_default"], borrower["p_default_se"])
    fan = pd.read_parquet(tmp_path / "fan.parquet")
    assert list(fan.columns) == ["scope", "who", "quantity", "day", "date", "quantile", "value"]
    assert str(fan["date"].min().date()) == data["start_date"]  # day 0 is the scenario's start date
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "lenders.parquet"), _csv(tmp_path / "lenders.csv"),
                                  check_dtype=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "--format", "csv"), "give --out FOLDER as well"),
        (("stress", "--stress", "S1", "--format", "csv"), "give --out FOLDER as well"),
        (("sweep", "softbank-openai", "--set", "borrower.cash=0", "--format", "parquet,csv"), "give --out FOLDER as well"),
        (("sensitivities", "--format", "csv"), "give --out FOLDER as well"),
        (("size", "--loan", "openai-margin-loan", "--max", "p_default<=0.1", "--format", "csv"), "give --out FOLDER as well"),
        (("debt-service", "--format", "csv"), "give --out FOLDER as well"),
        (("run", "--format", "xlsx", "--out", "x"), "unknown table format 'xlsx'"),
    ],
)
def test_format_errors_stop_before_anything_runs(args, message, tmp_path):
    out = _cli(*args, "--paths", "100")
    assert out.returncode == 2, out.stdout + out.stderr
    assert message in " ".join(out.stderr.split()) and "Traceback" not in out.stderr
    assert "simulating" not in out.stderr and "paths in" not in out.stdout


def test_parquet_without_pyarrow_names_the_fix(tmp_path):
    stub = tmp_path / "stub" / "pyarrow"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError('pyarrow is not installed (a test stub)')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(stub.parent), os.environ.get("PYTHONPATH")]))}
    out = _cli("run", "--paths", "100", "--out", str(tmp_path / "o"), "--format", "csv,parquet", env=env)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "pip install 'margincall[parquet]'" in " ".join(out.stderr.split())
    assert not (tmp_path / "o").exists()  # nothing ran, nothing written


@pytest.mark.slow  # five simulations and two processes: ~15 s on 2 cores
def test_stress_and_sweep_write_one_row_per_run_and_loan(tmp_path, data_dir):
    scenario = str(data_dir / "single-stock.yaml")
    out = _cli("stress", scenario, "--stress", "S7", "--stress", "S9", "-n", "512", "--out", str(tmp_path / "s"), "--format", "csv")
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / "s" / "stress.json").read_text())
    loans = _csv(tmp_path / "s" / "loans.csv")
    assert list(loans["run"].unique()) == list(data)  # base, then each stress
    assert len(loans) == sum(len(run["loans"]) for run in data.values())
    for row in loans.to_dict("records"):
        assert row["p_default"] == data[row["run"]]["loans"][row["loan"]]["p_default"]
    assert len(_csv(tmp_path / "s" / "borrowers.csv")) == len(data)

    out = _cli("sweep", scenario, "--set", "borrower.cash=0,10,20", "-n", "512", "--out", str(tmp_path / "w"), "--format", "csv")
    assert out.returncode == 0, out.stderr
    points = json.loads((tmp_path / "w" / "sweep.json").read_text())
    loans = _csv(tmp_path / "w" / "loans.csv")
    assert len(loans) == 3 * len(points[0]["loans"]) and sorted(set(loans["borrower.cash"])) == [0, 10, 20]
    borrowers = _csv(tmp_path / "w" / "borrowers.csv")
    assert list(borrowers["p_default"]) == [p["borrower"]["p_default"] for p in points]


@pytest.mark.slow  # two searches (reverse, size): run by `python -m pytest -m slow`
def test_searches_write_their_curve(tmp_path, data_dir):
    scenario = str(data_dir / "single-stock.yaml")
    out = _cli("size", scenario, "--loan", "acme-loan", "--max", "p_margin_call<=0.2", "-n", "512", "--out", str(tmp_path),
               "--format", "csv")
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / "size.json").read_text())
    curve = _csv(tmp_path / "curve.csv")
    assert list(curve.columns) == ["field", "value", "p_margin_call", "p_margin_call_se", "met", "answer"]
    assert list(curve["value"]) == [p["x"] for p in data["curve"]]
    assert list(curve.loc[curve["answer"], "value"]) == [data["value"]]
    out = _cli("reverse", scenario, "--asset", "*", "--target", "call", "--out", str(tmp_path), "--format", "csv")
    assert out.returncode == 0, out.stderr
    (row,) = _csv(tmp_path / "first_call.csv").to_dict("records")
    assert row["shock"] == json.loads((tmp_path / "reverse.json").read_text())["shock"] and row["loan"] == "acme-loan"


def test_sensitivities_write_their_rows(tmp_path: Path, data_dir):
    out = _cli("sensitivities", str(data_dir / "single-stock.yaml"), "--only", "trigger", "-n", "512", "--out", str(tmp_path),
               "--format", "csv")
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / "sensitivities.json").read_text())
    rows = _csv(tmp_path / "sensitivities.csv")
    assert len(rows) == len(data["sensitivities"]) and list(rows["change"]) == [r["change"] for r in data["sensitivities"]]
    assert len(_csv(tmp_path / "debt_service.csv")) == len(data["debt_service"])


def test_debt_service_writes_its_rows(tmp_path: Path, data_dir):
    out = _cli("debt-service", str(data_dir / "single-stock.yaml"), "-n", "2000", "--out", str(tmp_path), "--format", "csv")
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / "debt-service.json").read_text())["debt_service"]
    rows = _csv(tmp_path / "debt_service.csv")
    assert list(rows["who"]) == [d["who"] for d in data] and list(rows["p_beats"]) == [d["p_beats"] for d in data]
    assert list(rows["p_beats_se"]) == [d["p_beats_se"] for d in data]
