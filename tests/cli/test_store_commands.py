"""Every simulating command is recorded with its command, label, scenario path and hash; `runs`
lists headline figures; `show` describes any run; `compare` shows the scenario's changes value by
value and flags differences beyond --sigmas standard errors, probabilities in percentage points."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from margincall.cli.main import app
from margincall.store import open_store


def _cli(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, " ".join(result.output.replace("│", " ").split())


@pytest.fixture
def scenario(data_dir: Path, tmp_path: Path) -> Path:
    path = tmp_path / "single.yaml"
    path.write_text((data_dir / "single-stock.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return path


COMMANDS = {
    "run": ("run", "{s}", "-n", "1024"),
    "stress": ("stress", "{s}", "-n", "1024", "--stress", "S1"),
    "reverse": ("reverse", "{s}", "--asset", "acme", "--target", "p_default>=0.6", "-n", "1024", "--trace", "0", "--tolerance", "0.05"),
    "size": ("size", "{s}", "--loan", "acme-loan", "--max", "p_margin_call<=0.5", "-n", "1024", "--tolerance", "2"),
    "sensitivities": ("sensitivities", "{s}", "-n", "512", "--only", "trigger"),
    "sweep": ("sweep", "{s}", "--set", "loans.acme-loan.principal=40,50", "-n", "1024"),
}


@pytest.mark.slow
def test_every_simulating_command_is_recorded(scenario: Path) -> None:
    text = scenario.read_text(encoding="utf-8")
    for command, args in COMMANDS.items():
        code, output = _cli(*(a.format(s=scenario) for a in args), "--label", f"{command} label")
        assert code == 0, output
        assert "stored as run" in output
    with open_store(os.environ["MARGINCALL_DB"]) as store:
        runs = list(reversed(store.list_runs()))
        assert [r.command for r in runs] == list(COMMANDS)
        for r in runs:
            assert r.status == "complete" and r.label == f"{r.command} label"
            assert r.scenario_path == str(scenario) and r.scenario_hash == hashlib.sha256(text.encode()).hexdigest()
            assert r.headline, f"{r.command} has no headline figures"
            assert store.get_run(r.id).result is not None
        assert [f.path[-1] for f in runs[0].headline] == ["p_margin_call", "p_default", "p_default"]
        assert runs[0].headline[0].se is not None
        assert store.get_run(runs[1].id).options == {"stresses": ["s01-openai-stripe-down-round"]}
    code, listed = _cli("runs")
    assert code == 0
    for command in COMMANDS:
        assert command in listed and f"{command} label" in listed
    assert "acme-loan P(call)" in listed and "borrower P(default)" in listed and "±" in listed
    code, only = _cli("runs", "--command", "stress")
    assert code == 0 and "Runs (1)" in only
    code, shown = _cli("show", "2")
    assert code == 0 and "stress of single-stock" in shown and "stresses=" in shown and "headline:" in shown
    result = CliRunner().invoke(app, ["show", "2", "--json"])
    assert set(json.loads(result.stdout)) >= {"base", "s01-openai-stripe-down-round"}


def test_no_store_records_nothing_and_says_nothing(scenario: Path) -> None:
    code, output = _cli("run", scenario, "-n", "1024", "--no-store")
    assert code == 0 and "stored" not in output and "recorded" not in output
    assert not Path(os.environ["MARGINCALL_DB"]).exists()


def test_builtin_scenario_is_recorded_by_name() -> None:
    code, output = _cli("stress", "-n", "1024", "--stress", "S1")
    assert code == 0, output
    with open_store(os.environ["MARGINCALL_DB"]) as store:
        (run,) = store.list_runs()
        assert run.scenario_path == "built-in:softbank-openai" and run.command == "stress"


def test_compare_shows_scenario_changes_and_flags_beyond_sigmas(scenario: Path, tmp_path: Path) -> None:
    changed = tmp_path / "changed.yaml"
    changed.write_text(scenario.read_text(encoding="utf-8").replace("principal: 50.0", "principal: 65.0")
                       .replace("cash: 10.0", "cash: 10.0  # the same value, a comment added"), encoding="utf-8")
    assert _cli("run", scenario, "-n", "2048", "--label", "base")[0] == 0
    assert _cli("run", changed, "-n", "2048", "-s", "3", "--label", "bigger loan")[0] == 0
    code, output = _cli("compare", "1", "2")
    assert code == 0
    assert "scenario changes (A → B), 1 value: loans.acme-loan.principal: 50.0 → 65.0" in output
    assert "label: base → bigger loan" in output and "seed: 0 → 3" in output
    assert "beyond 3 SE" in output and " pp " in output and "YES" in output
    code, loose = _cli("compare", "1", "2", "--sigmas", "1000")
    assert code == 0 and "YES" not in loose and "0 of" in loose
    code, same = _cli("compare", "1", "1")
    assert code == 0 and "the same text in both runs" in same and "YES" not in same
    assert "same seed" in same  # the flag is conservative for runs that share their draws
