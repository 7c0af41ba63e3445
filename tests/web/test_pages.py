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
