"""The dashboard's runs list (its filters) and compare page, rendered by the app: what a person
sees for two complete runs, another client's job, and a comparison that cannot be made."""

from __future__ import annotations

import re

from service_support import SCENARIO_TEXT, finished

RUN = {"kind": "run", "scenario": {"yaml": SCENARIO_TEXT}, "paths": 256}


def _listed(html: str) -> list[int]:
    return [int(j) for j in re.findall(r'<tr data-job="(\d+)"', html)]


def test_runs_list_filters_and_compare_page(service):
    client, tokens, _db = service
    alice, bob = tokens.header("writer"), tokens.header("other")
    a = finished(client, client.post("/runs", json={**RUN, "seed": 1}, headers=alice).json()["id"], alice)
    b = finished(client, client.post("/runs", json={**RUN, "seed": 2}, headers=alice).json()["id"], alice)
    theirs = finished(client, client.post("/runs", json={**RUN, "seed": 3}, headers=bob).json()["id"], bob)
    assert a["status"] == b["status"] == theirs["status"] == "complete"

    every = client.get("/ui/runs", headers=alice).text
    assert {a["id"], b["id"], theirs["id"]} <= set(_listed(every))
    assert _listed(client.get("/ui/runs", params={"mine": "true"}, headers=alice).text) == [b["id"], a["id"]]
    assert _listed(client.get("/ui/runs", params={"status": "failed"}, headers=alice).text) == []
    assert _listed(client.get("/ui/runs", params={"kind": "monitor"}, headers=alice).text) == []
    assert _listed(client.get("/ui/runs", params={"scenario": "no-such-scenario"}, headers=alice).text) == []
    assert set(_listed(client.get("/ui/runs", params={"status": "bogus"}, headers=alice).text)) == set(_listed(every))

    page = client.get("/ui/compare", params={"a": a["id"], "b": b["id"]}, headers=alice)
    assert page.status_code == 200 and 'id="comparison"' in page.text
    assert "acme-loan" in page.text and "p_margin_call" in page.text
    missing = client.get("/ui/compare", params={"a": a["id"], "b": 999_999}, headers=alice)
    assert missing.status_code == 200 and 'class="error"' in missing.text and 'id="comparison"' not in missing.text
    assert client.get("/ui/compare", params={"a": a["id"], "b": 2**70}, headers=alice).status_code == 422


HOSTILE = '<img src=x onerror="alert(1)">'


def test_hostile_names_are_escaped_on_every_page(service):
    """A scenario name and a loan id that are HTML are shown as text on the runs list, a run's
    page, the editor, the overview and the job's report: never as markup."""
    client, tokens, _db = service
    h = tokens.header()
    text = SCENARIO_TEXT.replace("acme-loan:", "'<b>loan</b>':", 1)
    uploaded = client.post("/scenarios", json={"yaml": text, "name": HOSTILE}, headers=h)
    assert uploaded.status_code == 201, uploaded.text
    scenario_id = uploaded.json()["id"]
    job = client.post("/runs", json={**RUN, "scenario": {"id": scenario_id}, "seed": 5}, headers=h).json()
    done = finished(client, job["id"], h)
    assert done["status"] == "complete", done["error"]
    pages = {
        "runs": client.get("/ui/runs", headers=h).text,
        "run": client.get(f"/ui/runs/{done['id']}", headers=h).text,
        "editor": client.get("/ui/editor", params={"scenario": f"id:{scenario_id}"}, headers=h).text,
        "overview": client.get("/ui/", headers=h).text,
        "report": client.get(f"/runs/{done['id']}/report", headers=h).text,
    }
    for name, html in pages.items():
        assert HOSTILE not in html and "<b>loan</b>" not in html, name
    assert "&lt;img src=x onerror=" in pages["runs"] and "&lt;b&gt;loan&lt;/b&gt;" in pages["run"]
    assert "&lt;b&gt;loan&lt;/b&gt;" in pages["editor"] and "&lt;img src=x onerror=" in pages["overview"]
