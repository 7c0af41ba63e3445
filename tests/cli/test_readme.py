"""Every command example of the README runs, as written but at small path counts, and gives the
answer it promises.

The README is parsed here, so the tests follow its edits: each `margincall ...` command of a
```bash block is one test; ```text blocks are synopses, whose every option must exist; the
```yaml block is a scenario that must validate. Commands run from a scratch folder that holds the
repository's `scenarios/` and `stresses/` and, for `calibrate prices.csv`, a real price file.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
EXE = shutil.which("margincall")

# paths of each simulation in the tests (debt-service: draws of its Monte Carlo)
SMALL_PATHS = {"run": 1024, "stress": 1024, "reverse": 1024, "size": 1024, "sensitivities": 512, "debt-service": 20_000,
               "sweep": 1024, "explain": 2048}
WRITES_JSON = {"run": "result.json", "stress": "stress.json", "reverse": "reverse.json", "size": "size.json",
               "sensitivities": "sensitivities.json", "debt-service": "debt-service.json", "calibrate": "calibration.json",
               "explain": "explain.json"}
# run in CI through the slow marker (`python -m pytest -m slow`): the searches (10-25 s on 2 cores),
# and the commands of 5-20 s here that other fast tests already cover (stress, sweep, sensitivities:
# tests/cli/test_answers.py, test_sweep_command.py; runs, show, compare: test_store_commands.py; the
# service: tests/web)
SLOW = {"reverse", "size", "stress", "sweep", "sensitivities", "runs", "show", "compare", "token", "serve"}
# the tables `--format csv` writes beside the JSON, by command
TABLES = {"run": ("loans", "borrowers", "lenders", "system", "fan", "curves", "loss_distribution", "called_together"),
          "stress": ("loans", "borrowers", "lenders"), "sweep": ("loans", "borrowers"),
          "sensitivities": ("sensitivities", "debt_service"), "size": ("curve",), "reverse": ("curve",)}


def _blocks(kind: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return [body for info, body in re.findall(r"^```(\w*)\n(.*?)^```", text, re.MULTILINE | re.DOTALL) if info == kind]


def _commands() -> list[list[str]]:
    """Each `margincall ...` command of the bash blocks, as argv (comments dropped)."""
    found = []
    for block in _blocks("bash"):
        for line in block.splitlines():
            for part in re.split(r"&&|;", line.split(" #", 1)[0]):
                argv = shlex.split(part, comments=True)
                if argv and argv[0] == "margincall":
                    found.append(argv)
    return found


COMMANDS = _commands()


def _cli(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [EXE, *argv[1:]] if EXE else [sys.executable, "-m", "margincall.cli.main", *argv[1:]]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=cwd, env=env)


def _option(argv: list[str], *names: str) -> str | None:
    for k, token in enumerate(argv):
        if token in names and k + 1 < len(argv):
            return argv[k + 1]
        for name in names:
            if token.startswith(name + "="):
                return token.split("=", 1)[1]
    return None


def _small(argv: list[str]) -> list[str]:
    """The command at a small path count, with --out where its answer is read from a file."""
    command = argv[1]
    out = list(argv)
    if command in SMALL_PATHS:
        paths = str(SMALL_PATHS[command])
        for k, token in enumerate(out):
            if token in ("--paths", "-n"):
                out[k + 1] = paths
                break
        else:
            out += ["--paths", paths]
    if command in WRITES_JSON and _option(out, "--out", "-o") is None:
        out += ["--out", "answer"]
    return out


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> Path:
    """A run store holding two runs of the built-in scenario (seeds 1 and 2), as after the README's
    run examples: what `runs`, `show 1` and `compare 1 2` read."""
    folder = tmp_path_factory.mktemp("store")
    env = {**os.environ, "MARGINCALL_DB": str(folder / "runs.db")}
    for seed in ("1", "2"):
        made = _cli(["margincall", "run", "softbank-openai", "--paths", "1024", "--seed", seed], folder, env)
        assert made.returncode == 0, made.stderr
    return folder / "runs.db"


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch) -> Path:
    """A scratch folder with the repository's scenarios and stresses, and its own run store."""
    for name in ("scenarios", "stresses"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    monkeypatch.setenv("MARGINCALL_DB", str(tmp_path / "runs.db"))
    return tmp_path


def _prices_csv(folder: Path) -> None:
    """A real daily OHLCV file as vendors ship it: the NASDAQ Composite, 1999-2018, from `arch`."""
    nasdaq = pytest.importorskip("arch.data.nasdaq", reason="arch (a test dependency) ships a real price file offline")
    nasdaq.load().to_csv(folder / "prices.csv", index_label="Date")


def _json(workdir: Path, argv: list[str]) -> dict:
    folder = workdir / (_option(argv, "--out", "-o") or "answer")
    return json.loads((folder / WRITES_JSON[argv[1]]).read_text(encoding="utf-8"))


def _meets(value: float, target: str) -> bool:
    op, bound = re.search(r"(<=|>=|<|>)\s*([-+0-9.e]+)\s*$", target).groups()  # type: ignore[union-attr]
    return {"<=": value <= float(bound), ">=": value >= float(bound), "<": value < float(bound), ">": value > float(bound)}[op]


# -- what each command promises -------------------------------------------------------------------


def _check_run(out: subprocess.CompletedProcess, argv: list[str], workdir: Path) -> None:
    data = _json(workdir, argv)
    assert data["paths"] == SMALL_PATHS["run"] and data["loans"]
    for loan_id, loan in data["loans"].items():
        assert loan_id in out.stdout and 0.0 <= loan["p_default"] <= 1.0
    assert re.search(r"[\d,]+ paths in [\d.]+ s", out.stdout)
    seed = _option(argv, "--seed", "-s")
    assert data["seed"] == int(seed or 0)
    report = workdir / (_option(argv, "--out", "-o") or "answer") / "report.html"
    assert report.stat().st_size < 2_000_000
    trace = _option(argv, "--trace")
    where = _option(argv, "--where")
    if trace:
        paths = {int(p) for p in re.findall(r"^path (\d+) day", out.stdout, re.MULTILINE)}
        assert paths and len(paths) <= int(trace)
        if where is None:
            assert paths <= set(range(int(trace)))
        else:  # every traced path has the event asked for
            event, _, who = where.partition(":")
            shown = "borrower_default" if (event, who) == ("default", "borrower") else event
            for p in paths:
                assert re.search(rf"^path {p} day +\d+ +{shown}\b", out.stdout, re.MULTILINE), f"path {p} has no {shown}"


def _check_explain(out: subprocess.CompletedProcess, argv: list[str], workdir: Path) -> None:
    data = _json(workdir, argv)
    assert data["paths"] == SMALL_PATHS["explain"] and 0.0 <= data["p_default"] <= 1.0
    assert data["stories"] and "A typical defaulting path" in out.stdout
    page = workdir / (_option(argv, "--out", "-o") or "answer") / "explain.html"
    assert page.stat().st_size < 2_000_000 and "fig-causes" in page.read_text(encoding="utf-8")


def _check_check(out: subprocess.CompletedProcess, argv: list[str], workdir: Path) -> None:
    assert "valid" in out.stdout and re.search(r"\d+ assets?, \d+ loans?", out.stdout)


def _check_schema(out: subprocess.CompletedProcess, argv: list[str], workdir: Path) -> None:
    part = argv[2] if len(argv) > 2 and not argv[2].startswith("-") else None
    assert "trading days" in out.stdout and "required" in out.stdout
    if part == "loans":
        assert "loans.<loan>.margin_call_ltv" in out.stdout and "assets.<asset>" not in out.stdout


def _check_stress(out: subprocess.CompletedProcess, argv: list[str], workdir: Path) -> None:
    data = _json(workdir, argv)
    chosen = [argv[k + 1] for k, token in enumerate(argv) if token == "--stress"]
    assert list(data)[0] == "base" and len(data) == 1 + len(chosen)
    for name in chosen:
        assert re.search(rf"^│ {name}\b", out.stdout, re.MULTILINE), f"{name} has rows in the table"
    report = workdir / (_option(argv, "--out", "-o") or "answer") / "report.html"
    assert report.stat().st_size < 2_000_000


def _check_reverse(out: subprocess.CompletedProcess, argv: list[str], workdir: Path) -> None:
    data = _json(workdir, argv)
    target = _option(argv, "--target", "-t")
    if target in ("call", "default") or (target or "").endswith((".call", ".default")):
        first = "first margin call of" if target.endswith("call") else "first default of"
        assert first in out.stdout and -1.0 < data["shock"] < 0.0 and data["checked_by_simulation"]
        assert re.search(r"smallest shock: [−-]\d+\.\d+%", out.stdout)
        return
    if data["no_shock_needed"]:
        assert data["shock"] == 0.0 and _meets(data["metric"], target) and "no shock is needed" in out.stdout
    else:
        assert -1.0 <= data["shock"] < 0.0 and _meets(data["metric"], target)
        assert data["low"] <= data["shock"] <= data["high"]
        assert f"smallest shock reaching" in out.stdout and f"{100 * data['shock']:+.2f}%" in out.stdout


def _check_size(out: subprocess.CompletedProcess, argv: list[str], workdir: Path) -> None:
    data = _json(workdir, argv)
    bound = _option(argv, "--max", "--bound")
    low, high = data["range"]
    assert low <= data["value"] <= high and _meets(data["metric"], bound)
    assert data["low"] <= data["value"] <= data["high"]
    assert "that meets" in out.stdout
    field = _option(argv, "--field")
    assert data["field"] == (field or f"loans.{_option(argv, '--loan')}.principal")


def _check_sensitivities(out: subprocess.CompletedProcess, argv: list[str], workdir: Path) -> None:
    data = _json(workdir, argv)
    metric = _option(argv, "--metric") or "borrower.p_default"
    rows = [r for r in data["sensitivities"] if r["metric"] == metric]
    assert rows and all(math.isfinite(r["change"]) and r["se"] >= 0 for r in rows)
    assert out.stdout.count("Sensitivities of") == 1
    top = max(rows, key=lambda r: r["swing"])
    first = next(line for line in out.stdout.splitlines() if re.match(r"│\s+1 │", line))
    assert top["bump"] in first, "the table is ranked by the metric's swing"
    assert (workdir / (_option(argv, "--out", "-o") or "answer") / "sensitivities.html").is_file()


def _check_debt_service(out: subprocess.CompletedProcess, argv: list[str], workdir: Path) -> None:
    data = _json(workdir, argv)
    assert data["debt_service"] and all(0.0 <= (d["p_beats"] or 0.0) <= 1.0 for d in data["debt_service"])
    assert "breakeven growth" in out.stdout and re.search(r"\d+\.\d+%", out.stdout)


def _check_sweep(out: subprocess.CompletedProcess, argv: list[str], workdir: Path) -> None:
    specs = [argv[k + 1] for k, token in enumerate(argv) if token == "--set"]
    points = 1
    for spec in specs:
        values = spec.split("=", 1)[1]
        points *= int(values.split(":")[2]) if ":" in values else len(values.split(","))
    assert f"{points} points" in out.stdout
    rows = [line for line in out.stdout.splitlines() if re.match(r"│\s*[^\s│]", line)]  # a point's first line
    assert len(rows) == points


def _check_calibrate(out: subprocess.CompletedProcess, argv: list[str], workdir: Path) -> None:
    data = _json(workdir, argv)
    assert list(data["assets"]) == ["Close"] and "Volume" in data["skipped_columns"]
    assert "skipped 'Volume'" in out.stdout and "assets:" in out.stdout
    assert 0.15 < data["assets"]["Close"]["volatility"]["value"] < 0.40  # the NASDAQ, 1999-2018


def _check_runs(out: subprocess.CompletedProcess, argv: list[str], workdir: Path) -> None:
    assert out.stdout.count("softbank-openai") >= 2


def _check_show(out: subprocess.CompletedProcess, argv: list[str], workdir: Path) -> None:
    assert "seed 1" in out.stdout
    report = _option(argv, "--report")
    if report:
        assert (workdir / report / "report.html").is_file()


def _check_compare(out: subprocess.CompletedProcess, argv: list[str], workdir: Path) -> None:
    assert "openai-margin-loan" in out.stdout and "p_margin_call" in out.stdout


def _check_token(out: subprocess.CompletedProcess, argv: list[str], workdir: Path) -> None:
    assert re.search(r"[A-Za-z0-9_-]{24,}", out.stdout), "the token is printed"
    again = _cli(argv, workdir, os.environ.copy())  # a second time: the name is taken, and it says so
    assert again.returncode == 2 and "exists already" in again.stderr and "Traceback" not in again.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(argv: list[str], workdir: Path) -> None:
    """Start the service as the README does (on a free local port), open its dashboard, stop it."""
    import urllib.error
    import urllib.request

    port = _free_port()
    command = [EXE or sys.executable, *([] if EXE else ["-m", "margincall.cli.main"]), *argv[1:], "--host", "127.0.0.1",
               "--port", str(port)]
    server = subprocess.Popen(command, cwd=workdir, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        status = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ui/", timeout=5) as response:
                    status = response.status
                break
            except urllib.error.HTTPError as exc:
                status = exc.code
                break
            except OSError:
                time.sleep(0.5)
        assert server.poll() is None, f"the service stopped: {server.stdout.read() if server.stdout else ''}"
        assert status == 200, f"GET /ui/ answered {status}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=20)


def _check_tables(argv: list[str], workdir: Path) -> None:
    """`--format csv`: each table is a CSV beside the JSON that pandas reads; a run's loans.csv has
    one row per loan with result.json's numbers and their standard errors, its fan.csv is long."""
    import pandas as pd

    folder = workdir / (_option(argv, "--out", "-o") or "answer")
    tables = {name: pd.read_csv(folder / f"{name}.csv") for name in TABLES[argv[1]]}
    assert all(len(t) > 0 for t in tables.values())
    if argv[1] != "run":
        return
    data = _json(workdir, argv)
    loans = tables["loans"]
    assert list(loans.columns[:6]) == ["loan", "borrower", "lender", "secured", "principal", "limit"]
    assert list(loans["loan"]) == list(data["loans"])
    for column in ("p_margin_call", "p_default", "expected_loss"):
        se = f"{column}_se"
        assert list(loans.columns).index(se) == list(loans.columns).index(column) + 1
        assert list(loans[column]) == pytest.approx([loan[column] for loan in data["loans"].values()], rel=1e-12)
        assert list(loans[se]) == pytest.approx([loan[se] for loan in data["loans"].values()], rel=1e-12)
    assert list(tables["borrowers"]["borrower"]) == list(data["borrowers"])
    assert list(tables["lenders"]["lender"]) == list(data["lenders"])
    fan = tables["fan"]
    assert list(fan.columns) == ["scope", "who", "quantity", "day", "date", "quantile", "value"] if data["start_date"] else \
        ["scope", "who", "quantity", "day", "quantile", "value"]


CHECKS: dict[str, Callable[[subprocess.CompletedProcess, list[str], Path], None]] = {
    "token": _check_token,
    "run": _check_run, "check": _check_check, "schema": _check_schema, "stress": _check_stress,
    "reverse": _check_reverse, "size": _check_size, "sensitivities": _check_sensitivities,
    "debt-service": _check_debt_service, "sweep": _check_sweep, "calibrate": _check_calibrate, "runs": _check_runs,
    "show": _check_show, "compare": _check_compare, "explain": _check_explain,
}


def _example_id(argv: list[str]) -> str:
    return " ".join(argv[1:])[:80]


@pytest.mark.parametrize(
    "argv",
    [pytest.param(a, marks=[pytest.mark.slow] if a[1] in SLOW else [], id=_example_id(a)) for a in COMMANDS],
)
def test_readme_command(argv: list[str], workdir: Path, request: pytest.FixtureRequest) -> None:
    assert argv[1] in CHECKS or argv[1] == "serve", f"README example `{' '.join(argv)}` has no check here: add one"
    env = os.environ.copy()
    if argv[1] == "calibrate":
        _prices_csv(workdir)
    if argv[1] in ("runs", "show", "compare"):
        shutil.copyfile(request.getfixturevalue("two_runs"), workdir / "runs.db")
    if argv[1] == "serve":  # a service: started, asked for its dashboard, stopped
        _serve(argv, workdir)
        return
    small = _small(argv)
    started = time.perf_counter()
    out = _cli(small, workdir, env)
    elapsed = time.perf_counter() - started
    print(f"{' '.join(small)}: {elapsed:.1f} s")
    assert out.returncode == 0, f"`{' '.join(small)}` exited {out.returncode}:\n{out.stderr[-3000:]}"
    assert "Traceback" not in out.stderr + out.stdout
    CHECKS[argv[1]](out, small, workdir)
    if _option(small, "--format"):
        _check_tables(small, workdir)


def test_the_readme_has_examples_of_every_command() -> None:
    commands = {argv[1] for argv in COMMANDS}
    assert {"run", "check", "schema", "stress", "reverse", "size", "sensitivities", "debt-service", "sweep",
            "calibrate", "runs", "show", "compare", "explain"} <= commands


def _help(command: str) -> str:
    # in this process (typer's test runner): the same help text as `margincall X --help`, without
    # starting a Python process per command
    from typer.testing import CliRunner

    from margincall.cli.main import app

    out = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert out.exit_code == 0, f"`margincall {command} --help` failed: {out.output}"
    return out.stdout


def test_synopses_and_inline_commands_name_real_options() -> None:
    """Every option of a ```text synopsis exists; every `margincall X` in the prose is a command."""
    text = README.read_text(encoding="utf-8")
    helps: dict[str, str] = {}
    for block in _blocks("text"):
        for line in re.split(r"\n(?!\s)", block):  # a synopsis may continue on indented lines
            if not line.startswith("margincall "):
                continue
            command = line.split()[1]
            helps.setdefault(command, _help(command))
            for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", line.split("#")[0]):
                assert option in helps[command], f"`margincall {command}` has no option {option}"
    for command in set(re.findall(r"`margincall ([a-z-]+)", text)):
        helps.setdefault(command, _help(command))
    # the question commands that simulate take --paths, --seed and --out like run
    for command in ("stress", "reverse", "size", "sensitivities", "debt-service", "sweep"):
        helps.setdefault(command, _help(command))
        for option in ("--paths", "--seed", "--out"):
            assert option in helps[command], f"`margincall {command}` has no {option}"


def test_the_python_example_runs_from_any_folder(tmp_path: Path) -> None:
    """The ```python block, as written but at a small path count, in a folder without the
    repository's files: the built-in scenario by name, its DataFrame, result.json."""
    (block,) = _blocks("python")
    code = re.sub(r"simulate\((.*)paths=[\d_]+", r"simulate(\1paths=1_000", block)
    assert code != block, "the example's simulate(..., paths=N) is made small here"
    code += "\nassert list(loans['loan']) == list(result.loans) and 'p_margin_call_se' in loans.columns\n"
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                         env=os.environ.copy())
    assert out.returncode == 0, out.stderr[-3000:]
    assert "±" in out.stdout and (tmp_path / "result.json").is_file()


def test_the_scenario_examples_are_valid(tmp_path: Path) -> None:
    blocks = _blocks("yaml")
    assert len(blocks) == 2  # the one-borrower shorthand and a book
    for k, block in enumerate(blocks):
        path = tmp_path / f"example-{k}.yaml"
        path.write_text(block, encoding="utf-8")
        out = _cli(["margincall", "check", str(path)], tmp_path, os.environ.copy())
        assert out.returncode == 0 and "valid" in out.stdout, out.stderr
