from __future__ import annotations

import margincall


def test_trace_tells_the_story_of_a_path(rich_scenario):
    events = margincall.trace(rich_scenario, paths=20, seed=3)
    assert events, "twenty stressed paths produce events"
    names = {e.event for e in events}
    assert {"call", "interest", "cash_flow"} <= names
    days = [(e.path, e.day) for e in events]
    assert days == sorted(days)  # one path after another, in time order
    for e in events:
        if e.event in ("call", "cure", "default", "pay_cash"):
            assert e.loan in rich_scenario.loans
