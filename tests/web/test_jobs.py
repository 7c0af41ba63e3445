"""Jobs: a run job gives the same numbers as `margincall.simulate`; progress is visible while it
runs; queued and running jobs can be cancelled; every simulating command runs as a job."""

from __future__ import annotations

import pytest
from service_support import SCENARIO_TEXT, finished, wait_for

import margincall

RUN = {"kind": "run", "scenario": {"yaml": SCENARIO_TEXT}, "paths": 3000, "seed": 11}


def _without_time(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "elapsed_seconds"}


def test_run_job_matches_simulate_and_is_in_the_run_store(service):
    client, tokens, db = service
    job = client.post("/runs", json=RUN, headers=tokens.header()).json()
    assert job["status"] == "queued" and job["progress"] == {"done": 0, "total": 3000, "fraction": 0.0}
    done = finished(client, job["id"], tokens.header())
    assert done["status"] == "complete", done["error"]
    assert done["progress"]["done"] == 3000
    result = client.get(f"/runs/{job['id']}/result", headers=tokens.header()).json()
    expected = margincall.simulate(margincall.parse_scenario(SCENARIO_TEXT), paths=3000, seed=11).to_dict()
    assert _without_time(result) == _without_time(expected)
    from margincall.store import open_store

    with open_store(db) as store:
        record = store.get_run(done["run_id"])
    assert record.status == "complete" and record.seed == 11 and record.paths == 3000
    report = client.get(f"/runs/{job['id']}/report", headers=tokens.header())
    assert report.status_code == 200 and "plotly" in report.text and "acme-loan" in report.text


def test_result_of_an_unfinished_job_is_a_conflict(service):
    client, tokens, _db = service
    job = client.post("/runs", json={**RUN, "paths": 200_000}, headers=tokens.header()).json()
    response = client.get(f"/runs/{job['id']}/result", headers=tokens.header())
    assert response.status_code == 409 and "no result" in response.json()["detail"]
    client.post(f"/runs/{job['id']}/cancel", headers=tokens.header())
    finished(client, job["id"], tokens.header())


@pytest.mark.slow
def test_progress_and_cancel_of_a_running_job(service):
    """A 400,000-path run: its progress rises while it runs; cancelling it stops it, marks its run
    record failed; a queued job behind it is cancelled at once; the next job runs normally."""
    client, tokens, db = service
    h = tokens.header()
    long = client.post("/runs", json={**RUN, "paths": 400_000}, headers=h).json()
    queued = client.post("/runs", json=RUN, headers=h).json()

    def partway():
        job = client.get(f"/runs/{long['id']}", headers=h).json()
        return job if job["status"] == "running" and 0 < job["progress"]["done"] < job["progress"]["total"] else None

    seen = wait_for(partway, 180.0, every_s=0.1, what="progress of the running job")
    assert 0.0 < seen["progress"]["fraction"] < 1.0
    cancelled_queued = client.post(f"/runs/{queued['id']}/cancel", headers=h)
    assert cancelled_queued.status_code == 200 and cancelled_queued.json()["status"] == "cancelled"
    response = client.post(f"/runs/{long['id']}/cancel", headers=h)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert client.post(f"/runs/{long['id']}/cancel", headers=h).status_code == 409
    from margincall.store import open_store

    with open_store(db) as store:
        run = store.get_run(response.json()["run_id"])
    assert run.status == "failed" and "cancelled" in run.error
    after = client.post("/runs", json=RUN, headers=h).json()
    assert finished(client, after["id"], h)["status"] == "complete"


def test_compare_two_runs(service):
    client, tokens, _db = service
    h = tokens.header()
    a = client.post("/runs", json=RUN, headers=h).json()
    b = client.post("/runs", json={**RUN, "seed": 12}, headers=h).json()
    for job in (a, b):
        assert finished(client, job["id"], h)["status"] == "complete"
    comparison = client.get(f"/compare?a={a['id']}&b={b['id']}", headers=h).json()
    assert comparison["same_scenario"] is True
    row = next(r for r in comparison["rows"] if r["subject"] == "acme-loan" and r["metric"] == "p_margin_call")
    assert row["difference"] == pytest.approx(row["b"] - row["a"])
    assert row["combined_se"] > 0
    assert client.get(f"/compare?a={a['id']}&b=999999", headers=h).status_code == 404


KINDS = [
    {"kind": "stress", "scenario": {"builtin": "softbank-openai"}, "paths": 400, "stresses": ["S1"]},
    {"kind": "reverse", "scenario": {"yaml": SCENARIO_TEXT}, "paths": 300, "assets": ["acme"],
     "target": "p_margin_call>=0.5", "tolerance": 0.05},
    {"kind": "reverse", "scenario": {"yaml": SCENARIO_TEXT}, "paths": 300, "assets": ["acme"], "target": "call"},
    {"kind": "size", "scenario": {"yaml": SCENARIO_TEXT}, "paths": 300, "loan": "acme-loan", "bound": "p_margin_call<=0.2",
     "tolerance": 5.0},
    {"kind": "sensitivities", "scenario": {"yaml": SCENARIO_TEXT}, "paths": 400, "block_paths": 100, "only": ["volatility"]},
    {"kind": "sweep", "scenario": {"yaml": SCENARIO_TEXT}, "paths": 300, "sets": ["loans.acme-loan.principal=40,55"]},
    {"kind": "explain", "scenario": {"yaml": SCENARIO_TEXT}, "paths": 400},
]


def test_explain_job_matches_the_command(service):
    """An explain job's result is `margincall explain`'s (the same scenario, paths and seed), it is
    recorded in the run store as an explain run, and its page shows the causes and the stories."""
    from margincall.analysis.explain import explain
    from margincall.store import open_store

    client, tokens, db = service
    h = tokens.header()
    job = client.post("/runs", json={"kind": "explain", "scenario": {"yaml": SCENARIO_TEXT}, "paths": 500, "seed": 4}, headers=h)
    assert job.status_code == 202, job.text
    done = finished(client, job.json()["id"], h)
    assert done["status"] == "complete", done["error"]
    result = client.get(f"/runs/{done['id']}/result", headers=h).json()
    assert result == explain(margincall.parse_scenario(SCENARIO_TEXT), paths=500, seed=4).to_dict()
    assert result["stories"], "the scenario has defaults and losses: stories to tell"
    with open_store(db) as store:
        assert store.get_run(done["run_id"]).command == "explain"
    page = client.get(f"/ui/runs/{done['id']}", headers=h).text
    assert "First causes of default" in page and result["stories"][0]["title"] in page
    assert [j["id"] for j in client.get("/runs", params={"kind": "explain"}, headers=h).json()["jobs"]] == [done["id"]]


@pytest.mark.slow
@pytest.mark.parametrize("body", KINDS, ids=lambda b: f"{b['kind']}-{b.get('target', '')}")
def test_every_simulating_command_runs_as_a_job(service, body):
    client, tokens, _db = service
    h = tokens.header()
    job = client.post("/runs", json=body, headers=h)
    assert job.status_code == 202, job.text
    done = finished(client, job.json()["id"], h)
    assert done["status"] == "complete", done["error"]
    result = client.get(f"/runs/{done['id']}/result", headers=h).json()
    assert result
    report = client.get(f"/runs/{done['id']}/report", headers=h)
    assert report.status_code == 200 and "<table" in report.text
    page = client.get(f"/ui/runs/{done['id']}", headers=h)
    assert page.status_code == 200 and "complete" in page.text


@pytest.mark.parametrize("body,words", [
    ({"kind": "reverse", "scenario": {"yaml": SCENARIO_TEXT}, "assets": ["zeta"], "target": "p_default>=0.1"}, "zeta"),
    ({"kind": "size", "scenario": {"yaml": SCENARIO_TEXT}, "loan": "nope", "bound": "p_margin_call<=0.1"}, "unknown loan"),
    ({"kind": "sweep", "scenario": {"yaml": SCENARIO_TEXT}, "sets": ["loans.acme-loan.nothing=1"]}, "nothing"),
    ({"kind": "stress", "scenario": {"yaml": SCENARIO_TEXT}, "stresses": ["no-such-stress"]}, "no-such-stress"),
    ({"kind": "run", "scenario": {"builtin": "nope"}}, "no built-in scenario"),
    ({"kind": "run", "scenario": {"id": 99999}}, "no uploaded scenario"),
    ({"kind": "run", "scenario": {"yaml": "assets: {}\n"}}, "not valid"),
    ({"kind": "run", "scenario": {"builtin": "softbank-openai", "id": 1}}, "exactly one"),
])
def test_bad_options_are_refused_before_queueing(service, body, words):
    client, tokens, _db = service
    response = client.post("/runs", json=body, headers=tokens.header())
    assert response.status_code in (404, 422), response.text
    assert words in response.text


def test_scenarios_upload_validate_list_get(service):
    client, tokens, _db = service
    h = tokens.header()
    bad = SCENARIO_TEXT.replace("cure_ltv: 0.5", "cure_ltv: 0.7")
    line = SCENARIO_TEXT.splitlines().index("    cure_ltv: 0.5") + 1
    report = client.post("/scenarios/validate", json={"yaml": bad}, headers=h).json()
    assert report["valid"] is False
    problem = report["problems"][0]
    assert problem["field"] == "loans.acme-loan.cure_ltv" and problem["line"] == line and "below margin_call_ltv" in problem["message"]
    refused = client.post("/scenarios", json={"yaml": bad}, headers=h)
    assert refused.status_code == 422 and refused.json()["detail"]["problems"][0]["line"] == line
    raw = client.post("/scenarios?name=plain", content=SCENARIO_TEXT.encode(), headers={**h, "Content-Type": "application/yaml"})
    assert raw.status_code == 201 and raw.json()["name"] == "plain"
    detail = client.get(f"/scenarios/{raw.json()['id']}", headers=h).json()
    assert detail["yaml"] == SCENARIO_TEXT and detail["outline"]["loans"] == ["acme-loan"]
    listing = client.get("/scenarios", headers=h).json()
    assert "softbank-openai" in [b["name"] for b in listing["builtin"]]
    assert raw.json()["id"] in [u["id"] for u in listing["uploaded"]]
    assert "borrower" in client.get("/scenarios/builtin/softbank-openai", headers=h).json()["yaml"]
    historical = SCENARIO_TEXT + "market: {model: historical, prices: /etc/passwd}\n"
    refused = client.post("/scenarios", json={"yaml": historical}, headers=h)
    assert refused.status_code == 422 and "historical" in refused.text


ODD_KEYS = (  # found by the fuzzer: nested keys that pydantic reports under a union's tags only
    '\'\':\n- - null\n- 2894\n"0\\U000C96FC\\U0005D0B0\\U000B0151\\U000CD546\\x14":\n- 332546\n- -18285\n- -5.307254512246972e+179\n'
    '"\\xB3":\n- -381905922421\n- -3.4742949687668154e-73\n"\\xE9\\xB9\\U000143E5S\\x9B":\n- false\n- {}\n'
    '"\\uC841\\uE01F\\xC2v\\U000EE7C8\\x86\\xE1\\xC9\\xACA\\x06\\U000D5D61\\xB2\\x11\\xAFA[\\uD149\\xD3[d\\x96\\U000D70DA\\U000E9CF4\\xB9\\x9D": {}\n'
    '"\\U0004C994\\xA5wx\\x86\\xC5":\n  "=}o\\xFA}\\xFFT":\n    \'no\': -3.1036678310676036e-68\n'
    '    "\\x95\\0\\x10\\x92\\xD8\\xE4\\0\\xCE\\xAD\\x1E\\xD5": []\n"\\U000D1C75}\\x9C\\xE1r\\e":\n  A: "\\U000ED390/"\n'
    '  "_\\xA6Vf;\\xA8\\xC1\\U000A815CP8q": true\n'
)


def test_odd_keys_are_a_validation_report_not_a_server_error(service):
    client, tokens, _db = service
    h = {**tokens.header(), "Content-Type": "application/yaml"}
    report = client.post("/scenarios/validate", content=ODD_KEYS.encode(), headers=h)
    assert report.status_code == 200 and report.json()["valid"] is False
    assert client.post("/scenarios", content=ODD_KEYS.encode(), headers=h).status_code == 422
