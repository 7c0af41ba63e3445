"""YAML read faithfully and within bounds (margincall.analysis.yamlsafe)."""

from __future__ import annotations

import datetime as dt
import math
import time

import pytest

from margincall.analysis.yamlsafe import YamlError, read_yaml


def _problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(YamlError) as info:
        read_yaml(text)
    return info.value.problems


def test_yaml_12_scalars() -> None:
    data, root = read_yaml(
        "a: 5e9\nb: 0x1F\nc: 0o17\nd: true\ne: 1_000\nf: .nan\ng: -.inf\nh: 2026-01-05\ni: ~\nj: 'yes'\n"
        "k: 0\nl: -0.5\nm: .5\nn: FALSE\no: '010'\np: 1.0e+3\n"
    )
    assert data["a"] == 5e9 and isinstance(data["a"], float)
    assert (data["b"], data["c"], data["d"], data["e"]) == (31, 15, True, 1000)
    assert math.isnan(data["f"]) and data["g"] == -math.inf
    assert data["h"] == dt.date(2026, 1, 5) and data["i"] is None and data["j"] == "yes"
    assert (data["k"], data["l"], data["m"], data["n"], data["o"], data["p"]) == (0, -0.5, 0.5, False, "010", 1000.0)
    assert root is not None and root.start_mark.line == 0


def test_empty_document() -> None:
    assert read_yaml("") == (None, None)
    assert read_yaml("# only a comment\n") == (None, None)


def test_duplicate_key_names_both_lines() -> None:
    [(where, what)] = _problems("loans:\n  x:\n    principal: 1\n    rate: 0.1\n    principal: 2\n")
    assert where == "loans.x.principal (line 5)"
    assert "lines 3 and 5" in what and "twice" in what


def test_duplicate_key_at_the_top() -> None:
    [(where, what)] = _problems("assets: {}\nassets: {}\n")
    assert where == "assets (line 2)" and "lines 1 and 2" in what


def test_merge_keys_are_not_duplicates() -> None:
    data, _ = read_yaml("base: &b {rate: 0.1, term: 5}\nloan: {<<: *b, rate: 0.2}\n")
    assert data["loan"] == {"rate": 0.2, "term": 5}


@pytest.mark.parametrize("word, reading", [("yes", "true"), ("No", "false"), ("ON", "true"), ("off", "false")])
def test_yaml_11_booleans_are_refused(word: str, reading: str) -> None:
    [(where, what)] = _problems(f"x:\n  recourse: {word}\n")
    assert where == "x.recourse (line 2)"
    assert f"reads it as {reading}" in what and "write true or false" in what and f'"{word}"' in what


@pytest.mark.parametrize("text, needle", [("010", "leading zero"), ("-007", "leading zero"), ("1:30", "base-60"), ("1:30:00.5", "base-60")])
def test_numbers_that_yaml_11_reads_otherwise_are_refused(text: str, needle: str) -> None:
    [(where, what)] = _problems(f"a: {text}\n")
    assert where == "a (line 1)" and needle in what


def test_every_problem_is_reported() -> None:
    problems = _problems("a: yes\nb: 010\nc: 1\nc: 2\n")
    assert [where for where, _ in problems] == ["a (line 1)", "b (line 2)", "c (line 4)"]


@pytest.mark.parametrize("text, needle", [
    ("a: 1e400\n", "beyond the range"),
    ("a: -1.5e999\n", "beyond the range"),
    ("start_date: 2026-02-30\n", "'2026-02-30' is not a valid date"),
    ("a: " + "9" * 5000 + "\n", "5,000 digits"),
])
def test_values_that_cannot_be_what_was_written(text: str, needle: str) -> None:
    [(where, what)] = _problems(text)
    assert where == "line 1, column 4" or where.startswith("line 1, column ")
    assert needle in what


@pytest.mark.parametrize("text", [
    "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "a: " + "{b: " * 5000 + "1" + "}" * 5000 + "\n",
    "".join("  " * i + f"k{i}:\n" for i in range(200)),
    "- " * 3000 + "1\n",
])
def test_deep_nesting_is_refused_without_recursion_error(text: str) -> None:
    [(where, what)] = _problems(text)
    assert where.startswith("line ")
    # libyaml's scanner refuses 1,000 open brackets itself, sometimes before the bound is reached
    assert ("nesting depth is 33, above the bound of 32 levels" in what and "MARGINCALL_MAX_YAML_DEPTH" in what) or (
        "exceeded maximum nesting depth" in what)


def test_depth_bound_is_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "a: " + "[" * 40 + "]" * 40 + "\n"
    _problems(text)
    monkeypatch.setenv("MARGINCALL_MAX_YAML_DEPTH", "50")
    assert read_yaml(text)[0] is not None


def _laughs(levels: int) -> str:
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for k in range(1, levels):
        lines.append(f"l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_fast() -> None:
    started = time.monotonic()
    [(where, what)] = _problems(_laughs(9))
    assert "with every alias expanded" in what and "above the bound of 1,000,000 nodes" in what
    assert time.monotonic() - started < 10


def test_small_alias_use_is_fine() -> None:
    data, _ = read_yaml(_laughs(3))
    assert len(data["l2"]) == 10 and data["l2"][0][0] == ["lol"] * 10


def test_alias_count_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARGINCALL_MAX_YAML_ALIASES", "5")
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 6) + "]\n"
    [(where, what)] = _problems(text)
    assert "alias uses" in what and "MARGINCALL_MAX_YAML_ALIASES" in what


def test_recursive_alias_is_refused() -> None:
    [(where, what)] = _problems("a: &a [1, *a]\n")
    assert "recursive" in what


def test_value_count_is_bounded_while_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARGINCALL_MAX_YAML_NODES", "1000")
    text = "flows:\n" + "".join(f"  - {{day: {i + 1}, amount: -1.0}}\n" for i in range(1000))
    [(where, what)] = _problems(text)
    assert "the number of values in the document is 1,001" in what and "MARGINCALL_MAX_YAML_NODES" in what


@pytest.mark.parametrize("text, needle", [
    ("a: [1, 2\n", "YAML syntax error"),
    ("a: 1\n---\nb: 2\n", "expected a single document"),
    ("a:\n\t- 1\n", "YAML syntax error"),
    ("a: \x00\n", "control characters"),
])
def test_syntax_errors(text: str, needle: str) -> None:
    [(where, what)] = _problems(text)
    assert needle in what
