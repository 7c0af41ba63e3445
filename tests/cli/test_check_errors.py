"""`margincall check FILE` on bad files: a non-zero exit, a message that names the field (and its
line) and says what is allowed, and never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

VALID = """\
name: cli-check
assets:
  s: {kind: public, value: 100.0, volatility: 0.3, adv: 1.0e9}
  t: {kind: public, value: 50.0, volatility: 0.2, adv: 1.0e9}
  u: {kind: private, value: 80.0, volatility: 0.5}
correlation: []
borrower:
  cash: 10.0
loans:
  l:
    principal: 40.0
    rate: 0.05
    term_days: 252
    collateral: {s: 1.0}
    margin_call_ltv: 0.6
    cure_ltv: 0.5
    cure_days: 5
    liquidation_ltv: 0.8
"""


def check(path: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "margincall.cli.main", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_passes(tmp_path):
    done = check(write(tmp_path, VALID))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr


CASES = [
    ("wrong-type", VALID.replace("volatility: 0.3", 'volatility: "abc"'), ["assets.s.volatility (line 3)", "valid number", "'abc'"]),
    ("negative", VALID.replace("volatility: 0.3", "volatility: -0.2"), ["assets.s.volatility (line 3)", "greater than or equal to 0"]),
    ("unknown-asset", VALID.replace("collateral: {s: 1.0}", "collateral: {zz: 1.0}"), ["loans.l.collateral.zz (line 14)", "'zz'", "s, t, u"]),
    ("cure-order", VALID.replace("cure_ltv: 0.5", "cure_ltv: 0.7"), ["loans.l.cure_ltv (line 16)", "cure < call < liquidation"]),
    ("liquidation-order", VALID.replace("liquidation_ltv: 0.8", "liquidation_ltv: 0.6"), ["loans.l.liquidation_ltv (line 18)", "cure < call < liquidation"]),
    (
        "not-psd",
        VALID.replace("correlation: []", "correlation: [[s, t, 0.9], [s, u, 0.9], [t, u, -0.9]]"),
        ["correlation (line 6)", "positive semi-definite"],
    ),
    ("yaml-syntax", VALID.replace("collateral: {s: 1.0}", "collateral: {s: 1.0"), ["YAML syntax error", "line "]),
    ("missing-field", VALID.replace("    principal: 40.0\n", ""), ["loans.l.principal", "required field is missing"]),
    ("unknown-field", VALID.replace("  cash: 10.0\n", "  cash: 10.0\n  cahs: 3\n"), ["borrower.cahs (line 9)", "unknown field"]),
    # text that looks like terminal markup must come out verbatim, and must not crash the printer
    ("markup-like-value", VALID.replace("volatility: 0.3", 'volatility: "[abc]"'), ["assets.s.volatility (line 3)", "'[abc]'"]),
    ("closing-tag-value", VALID.replace("volatility: 0.3", 'volatility: "[/]"'), ["assets.s.volatility (line 3)", "'[/]'"]),
]


@pytest.mark.parametrize(("text", "expected"), [(text, expected) for _, text, expected in CASES], ids=[c[0] for c in CASES])
def test_bad_file_fails_cleanly(tmp_path, text, expected):
    path = write(tmp_path, text)
    done = check(path)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Traceback" not in output, output
    assert str(path) in output
    for piece in expected:
        assert piece in output, f"{piece!r} not in:\n{output}"


def test_missing_file(tmp_path):
    done = check(tmp_path / "nowhere.yaml")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Traceback" not in output
    assert "not found" in output


def test_directory_instead_of_file(tmp_path):
    done = check(tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Traceback" not in output
    assert "is a folder" in output and "regular files" in output
