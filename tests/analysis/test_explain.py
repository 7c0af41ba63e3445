"""`explain` and `select_paths`: the paths they pick are the ones they say, and stories read well."""

from __future__ import annotations

import numpy as np
import pytest

import margincall
from margincall.analysis.explain import ExplainError, _sentences, explain, select_paths
from margincall.analysis.simulate import TracedEvent, prepare, run_statistics
from margincall.engine import codes as c
from margincall.engine.outputs import PB_CAUSE, PB_FLAGS, PL_LOSS

PATHS = 3000
SEED = 5


@pytest.fixture(scope="module")
def scenario() -> margincall.Scenario:
    return margincall.load_scenario("softbank-openai")


@pytest.fixture(scope="module")
def outcome(scenario):
    inputs, _ = prepare(scenario)
    stats = run_statistics(inputs, paths=PATHS, seed=SEED, record_paths=True)
    return inputs, stats.paths["path_loans"], stats.paths["path_borrowers"]


@pytest.fixture(scope="module")
def explanation(scenario):
    return explain(scenario, paths=PATHS, seed=SEED)


def test_the_causes_are_the_shares_of_the_defaulting_paths(explanation, outcome) -> None:
    _, _, borrowers = outcome
    defaulted = (borrowers[:, 0, PB_FLAGS].astype(np.int64) & int(c.B_DEFAULT)) != 0
    assert explanation.p_default == pytest.approx(defaulted.mean())
    assert sum(explanation.causes.values()) == pytest.approx(1.0)
    commonest = max(explanation.causes, key=explanation.causes.get)
    causes = borrowers[defaulted, 0, PB_CAUSE].astype(int)
    counts = np.bincount(causes)
    assert explanation.causes[commonest] == pytest.approx(counts.max() / defaulted.sum())


def test_the_typical_story_is_a_path_that_defaults_for_the_commonest_cause(scenario, explanation, outcome) -> None:
    _, _, borrowers = outcome
    story = explanation.stories[0]
    assert story.title == "A typical defaulting path"
    assert borrowers[story.path, 0, PB_FLAGS].astype(np.int64) & int(c.B_DEFAULT)
    commonest = max(explanation.causes, key=explanation.causes.get)
    assert commonest.replace("_", " ") in story.why
    assert any("defaults" in text for _, _, text in story.lines)
    # the story is the path's own trace: its borrower default is among its events
    assert any(e.event == "borrower_default" for e in story.events)


def test_the_tail_story_is_the_path_at_the_99_percent_loss(explanation, outcome) -> None:
    _, loans, _ = outcome
    total = loans[:, :, PL_LOSS].sum(axis=1)
    story = explanation.stories[-1]
    assert story.title == "The path behind the 99% loss"
    assert total[story.path] == pytest.approx(np.sort(total)[int(np.ceil(0.99 * PATHS)) - 1])
    assert story.prices and all(series[0][0] == 0 for series in story.prices.values())


def test_select_paths_returns_paths_with_the_event(scenario) -> None:
    chosen = select_paths(scenario, "default:openai-margin-loan", count=3, paths=PATHS, seed=SEED)
    assert len(chosen) == 3
    events = margincall.trace(scenario, paths=chosen, seed=SEED)
    for p in chosen:
        assert any(e.path == p and e.event == "default" and e.loan == "openai-margin-loan" for e in events)


@pytest.mark.parametrize("where", ["default:nobody", "sneeze:openai-margin-loan", "default"])
def test_select_paths_refuses_what_it_cannot_read(scenario, where) -> None:
    with pytest.raises(ExplainError, match="--where"):
        select_paths(scenario, where, count=1, paths=64, seed=SEED)


def test_days_of_the_same_sales_and_nothing_else_read_as_one_line(scenario) -> None:
    sale = lambda day, amount: TracedEvent(0, day, "liquidation_sale", "arm-margin-loan", "arm", amount, "borrower")
    events = [TracedEvent(0, 9, "call", "arm-margin-loan", None, 0.45, "borrower")]
    events += [sale(d, 10e6) for d in range(10, 20)]
    events += [TracedEvent(0, 20, "mark", None, "openai", 50e9, None), sale(20, 5e6)]
    lines = _sentences(scenario, events)
    assert [d for d, _, _ in lines] == [9, 10, 20]
    assert "on each of 10 trading days" in lines[1][2] and "USD 100 m in all" in lines[1][2]
    assert "openai marked" in lines[2][2]
