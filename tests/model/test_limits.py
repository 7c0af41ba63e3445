"""The bounds: defaults, overrides by environment variable, and messages that name the bound and its variable."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from margincall.model.limits import BOUNDS, LimitError, Limits, bound, limits, markdown_table

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_without_environment() -> None:
    got = limits({})
    assert got == Limits.defaults()
    assert got.file_bytes == 10_000_000 and got.horizon_days == 100 * 252 and got.paths == 1_000_000_000


def test_every_bound_is_overridden_by_its_variable() -> None:
    for b in BOUNDS:
        value = "7" if b.integral else "2.5"
        got = getattr(limits({b.env: value}), b.name)
        assert got == (7 if b.integral else 2.5), b.env
        others = {f.name: getattr(Limits.defaults(), f.name) for f in dataclasses.fields(Limits) if f.name != b.name}
        assert {k: getattr(limits({b.env: value}), k) for k in others} == others


@pytest.mark.parametrize("raw, expected", [("2e9", 2_000_000_000), ("2_000_000_000", 2_000_000_000), (" 5 ", 5), ("", 1_000_000_000)])
def test_overrides_accept_number_forms(raw: str, expected: int) -> None:
    assert limits({"MARGINCALL_MAX_PATHS": raw}).paths == expected


@pytest.mark.parametrize("raw", ["abc", "-5", "0", "1.5", "nan", "inf", "1e400"])
def test_a_bad_override_names_the_variable(raw: str) -> None:
    with pytest.raises(LimitError, match="MARGINCALL_MAX_PATHS") as info:
        limits({"MARGINCALL_MAX_PATHS": raw})
    assert "default of 1,000,000,000 paths per run" in str(info.value)


def test_the_environment_is_read_on_each_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARGINCALL_MAX_SWEEP_POINTS", "3")
    assert limits().sweep_points == 3
    monkeypatch.delenv("MARGINCALL_MAX_SWEEP_POINTS")
    assert limits().sweep_points == 10_000


def test_check_message_names_the_subject_the_bound_and_how_to_raise_it() -> None:
    with pytest.raises(LimitError) as info:
        limits({}).check("paths", 10**20, subject="--paths")
    message = str(info.value)
    assert message.startswith("--paths is 100,000,000,000,000,000,000, above the bound of 1,000,000,000 paths per run")
    assert "MARGINCALL_MAX_PATHS=100000000000000000000" in message
    assert info.value.bound is bound("paths") and info.value.value == 10**20
    limits({}).check("paths", 1_000_000_000)  # at the bound: allowed


def test_float_bounds_are_shown_plainly() -> None:
    message = limits({}).problem("amount", 1e308, "loans.x.principal")
    assert message is not None and "1e+308" in message and "1,000,000,000,000,000 currency units" in message


def test_unknown_bound_lists_the_bounds() -> None:
    with pytest.raises(KeyError, match="paths"):
        bound("nope")


@pytest.mark.parametrize("document", ["README.md", "docs/reliability.md"])
def test_documents_list_every_bound_with_its_override(document: str) -> None:
    """The README and docs/reliability.md carry the table that `markdown_table()` gives."""
    text = (ROOT / document).read_text(encoding="utf-8")
    assert markdown_table() in text, f"{document}: paste margincall.model.limits.markdown_table() into it"
