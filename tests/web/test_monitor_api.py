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


GAUGE_MARKS = "date,asset,price,value\n2026-07-15,arm,,380e9\n2026-07-15,nasdaq-100,20000,\n2026-07-10,openai,,90e9\n"


def test_the_built_in_scenario_and_its_market_gauge(service):
    """The built-in scenario's Nasdaq-100 has a price and no value (a gauge nobody holds): marks
    with its price are monitored, the overview shows the loans, the editor offers its volatility
    and checks and runs an edit of it."""
    client, tokens, _db = service
    h = tokens.header()
    body = {"scenario": {"builtin": "softbank-openai"}, "marks_csv": GAUGE_MARKS, "alerts": ["headroom<50%"], "paths": 200}
    job = client.post("/monitor/marks", json=body, headers=h)
    assert job.status_code == 202, job.text
    done = finished(client, job.json()["id"], h)
    assert done["status"] == "complete", done["error"]
    state = client.get("/monitor/state", params={"scenario": "softbank-openai"}, headers=h)
    assert state.status_code == 200, state.text
    loans = state.json()["state"]["loans"]
    assert set(loans) == {"openai-margin-loan", "arm-margin-loan", "bridge-loan"}
    assert loans["arm-margin-loan"]["ltv"] > 0.0 and loans["bridge-loan"]["ltv"] is None
    overview = client.get("/ui/", params={"scenario": "softbank-openai"}, headers=h)
    assert overview.status_code == 200 and "openai-margin-loan" in overview.text and "headroom&lt;50%" in overview.text
    editor = client.get("/ui/editor", params={"scenario": "builtin:softbank-openai"}, headers=h)
    assert editor.status_code == 200 and 'name="assets.nasdaq-100.volatility"' in editor.text
    edit = {"scenario": "builtin:softbank-openai", "changes": {"assets.nasdaq-100.volatility": "25%"}, "paths": 64}
    checked = client.post("/ui/editor/check", json=edit, headers=h)
    assert checked.json() == {"valid": True, "errors": {}, "general": []}
    bad = client.post("/ui/editor/check", json={**edit, "changes": {"assets.nasdaq-100.volatility": "-1"}}, headers=h)
    assert bad.json()["valid"] is False and "assets.nasdaq-100.volatility" in bad.json()["errors"]
    ran = client.post("/ui/editor/run", json=edit, headers=h)
    assert ran.status_code == 202, ran.text
    done = finished(client, ran.json()["job"]["id"], h)
    assert done["status"] == "complete", done["error"]
    page = client.get(f"/ui/runs/{done['id']}", headers=h)
    assert page.status_code == 200 and "arm-margin-loan" in page.text
