"""Monitoring through the API: post marks, read today's state and the alerts, each with its time."""

from __future__ import annotations

import datetime as dt

from service_support import SCENARIO_TEXT, finished

MARKS = "date,asset,value\n2026-11-27,acme,70\n2026-11-30,acme,62\n2026-09-30,co,50\n"


def test_post_marks_then_state_and_alerts(service):
    client, tokens, _db = service
    h = tokens.header()
    body = {"scenario": {"yaml": SCENARIO_TEXT}, "marks_csv": MARKS, "alerts": ["headroom<10%", "p_call_20d>2"],
            "paths": 2000, "seed": 1}
    job = client.post("/monitor/marks", json=body, headers=h)
    assert job.status_code == 202, job.text
    assert job.json()["kind"] == "monitor" and job.json()["options"]["marks_csv"] == f"{len(MARKS)} characters"
    done = finished(client, job.json()["id"], h)
    assert done["status"] == "complete", done["error"]
    state = client.get("/monitor/state", headers=h).json()
    assert state["job_id"] == done["id"] and state["as_of"] == "2026-11-30"
    loan = state["state"]["loans"]["acme-loan"]
    assert loan["ltv"] == 50.0 / 62.0  # no start_date: the as-of date is day 0, no interest accrued
    assert loan["open_call"]["opened"] == "2026-11-27"
    alerts = client.get("/monitor/alerts", headers=h).json()
    assert [(a["loan"], a["rule"]) for a in alerts] == [("acme-loan", "headroom<10%")]  # a probability is never > 2
    raised = dt.datetime.fromisoformat(alerts[0]["raised_at"])
    assert raised.tzinfo is not None and abs((dt.datetime.now(dt.UTC) - raised).total_seconds()) < 600
    assert alerts[0]["value"] == loan["headroom_call"]


def test_bad_marks_are_refused_with_the_line(service):
    client, tokens, _db = service
    h = tokens.header()
    base = {"scenario": {"yaml": SCENARIO_TEXT}}
    cases = [
        ("date,asset,value\n2026-11-30,acme,abc\n", [], "line 2, column value"),
        ("date,asset,value\n2026-11-30,acme,60\n", [], "no mark on or before 2026-11-30 for co"),
        (MARKS, ["headrom<10%"], "did you mean 'headroom'"),
        (MARKS, ["nope.ltv>0.5"], "unknown loan 'nope'"),
    ]
    for marks, alerts, words in cases:
        response = client.post("/monitor/marks", json={**base, "marks_csv": marks, "alerts": alerts}, headers=h)
        assert response.status_code == 422 and words in response.text, response.text
