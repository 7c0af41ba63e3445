"""Property: whatever scenario document a user writes, `check` and `run` either succeed with finite
results or exit with status 2 and one clear message, never a traceback; and a document that
`check` passes is one that `run` runs.

Documents are generated from a small valid scenario: fields set to values of other types,
hostile strings, deleted or unknown keys, deep nesting, renamed ids, then text-level damage
(a line duplicated or dropped, a character inserted, the text cut short). Runs are tiny (64
paths, no store). Hypothesis draws from a fixed seed (derandomize), so a failure repeats.

`test_hostile_numbers` puts non-finite, huge, tiny and out-of-range numbers into numeric fields.
Before running a document that check passed it asserts that the document is within the
schema's bounds (finite numbers, physical ranges, the horizon bound), so that a bound that goes
missing fails the test instead of running for hours.
"""

from __future__ import annotations

import copy
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

import margincall
from hostile_support import BASE, Outcome, assert_clean_error, cli, write
from margincall.model.limits import limits

BASE_DOC: dict[str, Any] = yaml.safe_load(BASE)
BASE_DOC["horizon_days"] = 60
BASE_DOC["loans"]["acme-loan"].update(term_days=63, extension_days=0)
BASE_DOC["assets"]["co"]["marks"]["every_days"] = 21

HOSTILE_TEXT = [
    "yes", "no", "on", "off", "252", "0x10", "1_000", ".nan", "", " ", "~", "null", "[/x]", "[blink red]loan[/]",
    ":smile:", "\x1b[2J", "\u202eevil", "a" * 300, "é" * 50, "{a: 1}", "- item", "&anchor", "*alias", "2026-02-30",
    "acme", "co", "acme-loan", "borrower", "\t", "line\nbreak",
]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and list positions) in the document, parents before children."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _set(doc: Any, path: tuple, value: Any) -> None:
    _get(doc, path[:-1])[path[-1]] = value


def _delete(doc: Any, path: tuple) -> None:
    parent = _get(doc, path[:-1])
    del parent[path[-1]]


ALL_PATHS = _paths(BASE_DOC)
NUMBER_PATHS = [p for p in ALL_PATHS if isinstance(_get(BASE_DOC, p), int | float) and not isinstance(_get(BASE_DOC, p), bool)]
MAPPING_PATHS = [()] + [p for p in ALL_PATHS if isinstance(_get(BASE_DOC, p), dict)]

other_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 400),
    st.floats(-2.0, 2.0, allow_nan=False),
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=20),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.sampled_from(["a", "kind", "value", "day"]), st.integers(0, 3), max_size=2),
    st.integers(1, 60).map(lambda depth: _nested(depth)),
)


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def structural_mutation(draw: st.DrawFn, doc: dict[str, Any]) -> None:
    kind = draw(st.sampled_from(["set", "set", "delete", "unknown", "rename", "replace-mapping"]))
    paths = _paths(doc)
    if kind == "set" and paths:
        _set(doc, draw(st.sampled_from(paths)), draw(other_values))
    elif kind == "delete" and paths:
        _delete(doc, draw(st.sampled_from(paths)))
    elif kind == "unknown":
        mappings = [p for p in [(), *paths] if isinstance(_get(doc, p), dict)]
        _get(doc, draw(st.sampled_from(mappings)))[draw(st.sampled_from(["unknown", "principle", "volatilty"]))] = 1
    elif kind == "rename":
        for group in ("loans", "assets"):
            if isinstance(doc.get(group), dict) and doc[group]:
                old = draw(st.sampled_from(sorted(doc[group], key=str)))
                doc[group] = {(draw(st.sampled_from(HOSTILE_TEXT)) if k == old else k): v for k, v in doc[group].items()}
                break
    elif kind == "replace-mapping":
        mappings = [p for p in paths if isinstance(_get(doc, p), dict)]
        if mappings:
            _set(doc, draw(st.sampled_from(mappings)), draw(other_values))


@st.composite
def text_damage(draw: st.DrawFn, text: str) -> str:
    kind = draw(st.sampled_from(["none", "none", "duplicate-line", "drop-line", "insert", "cut"]))
    lines = text.splitlines(keepends=True)
    if kind == "duplicate-line" and lines:
        i = draw(st.integers(0, len(lines) - 1))
        lines.insert(i, lines[i])
    elif kind == "drop-line" and lines:
        del lines[draw(st.integers(0, len(lines) - 1))]
    elif kind == "insert":
        i = draw(st.integers(0, len(text)))
        return text[:i] + draw(st.sampled_from(["\t", "\x00", "{", "}", ":", "&a ", "*a ", "- ", "'", '"', "\ufeff", "yes"])) + text[i:]
    elif kind == "cut":
        return text[: draw(st.integers(0, len(text)))]
    return "".join(lines)


@st.composite
def hostile_documents(draw: st.DrawFn) -> str:
    doc = copy.deepcopy(BASE_DOC)
    for _ in range(draw(st.integers(1, 3))):
        draw(structural_mutation(doc))
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    return draw(text_damage(text))


HOSTILE_NUMBERS = [math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, -5e-324, 2**63, 2**70, 10**7, -1, 0, 1e16]


@st.composite
def number_documents(draw: st.DrawFn) -> str:
    doc = copy.deepcopy(BASE_DOC)
    for path in draw(st.lists(st.sampled_from(NUMBER_PATHS), min_size=1, max_size=3, unique=True)):
        _set(doc, path, draw(st.sampled_from(HOSTILE_NUMBERS)))
    return yaml.safe_dump(doc, sort_keys=False)


# Values beyond any physical meaning: if check accepts one, running could take hours or overflow.
_DAY_LIMIT = limits({}).horizon_days
_MONEY_LIMIT = limits({}).amount


def _beyond_sense(scenario: margincall.Scenario) -> str | None:
    """What in a validated scenario is beyond the bounds the schema promises, or None."""
    if scenario.horizon > _DAY_LIMIT:
        return f"a horizon of {scenario.horizon} days"

    def walk(node: Any, path: str) -> str | None:
        if isinstance(node, dict):
            for key, value in node.items():
                found = walk(value, f"{path}.{key}" if path else str(key))
                if found:
                    return found
        elif isinstance(node, list | tuple):
            for i, value in enumerate(node):
                found = walk(value, f"{path}.{i}")
                if found:
                    return found
        elif isinstance(node, int | float) and not isinstance(node, bool):
            name = path.rsplit(".", 1)[-1]
            if not math.isfinite(node):
                return f"{path} = {node}"
            if (name.endswith("_days") or name == "day") and node > _DAY_LIMIT:
                return f"{path} = {node} days"
            if abs(node) > _MONEY_LIMIT:
                return f"{path} = {node}"
            if name in ("rate", "rounds_per_year") and node > 1e4:
                return f"{path} = {node} a year"
            if name in ("volatility", "drift", "index", "spread", "mean", "stdev", "impact") and abs(node) > 100:
                return f"{path} = {node}"
        return None

    return walk(scenario.model_dump(mode="python"), "")


def _assert_property(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), text)
        checked = cli("check", path)
        if checked.code != 0:
            event("check refused it")
            assert_clean_error(checked)
            return
        event("check passed; run")
        assert checked.crashed is None, repr(checked.crashed)
        problem = _beyond_sense(margincall.parse_scenario(text, base_dir=folder))
        assert problem is None, f"check accepted {problem}"
        ran: Outcome = cli("run", path, "--paths", "64", "--no-store")
        assert ran.crashed is None, f"check passed, then run crashed: {ran.crashed!r}\n{ran.output}"
        # run refuses to show a result that is not finite (exit 2), so exit 0 means finite results
        assert ran.code == 0, f"check passed, then run failed:\n{ran.output}"


COMMON = {"deadline": None, "derandomize": True, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


@pytest.mark.slow
@settings(max_examples=150, **COMMON)
@given(hostile_documents())
def test_hostile_documents(text: str) -> None:
    _assert_property(text)


@pytest.mark.slow
@settings(max_examples=60, phases=[Phase.explicit, Phase.generate], **COMMON)
@example(BASE.replace("drift: 0.05", "drift: .nan"))
@given(number_documents())
def test_hostile_numbers(text: str) -> None:
    _assert_property(text)
