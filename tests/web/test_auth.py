"""Tokens: no token and a wrong token get 401, a read-only token that writes gets 403, another
client's private job is 404 (and its cancel 403 when the job is shared); health and the login page
need no token."""

from __future__ import annotations

import pytest
from service_support import SCENARIO_TEXT, finished

RUN = {"kind": "run", "scenario": {"yaml": SCENARIO_TEXT}, "paths": 1000, "seed": 3}


@pytest.mark.parametrize("method,path", [
    ("GET", "/scenarios"), ("POST", "/scenarios"), ("POST", "/scenarios/validate"), ("GET", "/scenarios/1"),
    ("GET", "/runs"), ("POST", "/runs"), ("GET", "/runs/1"), ("GET", "/runs/1/result"), ("GET", "/runs/1/report"),
    ("POST", "/runs/1/cancel"), ("GET", "/compare?a=1&b=2"), ("POST", "/monitor/marks"), ("GET", "/monitor/state"),
    ("GET", "/monitor/alerts"), ("GET", "/openapi.json"),
])
def test_no_token_and_a_wrong_token_are_refused(service, method, path):
    client, _tokens, _db = service
    response = client.request(method, path)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert "token" in response.json()["detail"]
    wrong = client.request(method, path, headers={"Authorization": "Bearer mc_not-a-real-token"})
    assert wrong.status_code == 401
    assert "not valid" in wrong.json()["detail"]


def test_health_and_login_page_need_no_token(service):
    client, _tokens, _db = service
    assert client.get("/health").json()["status"] == "ok"
    page = client.get("/ui/login")
    assert page.status_code == 200 and "Token" in page.text
    assert client.get("/ui/static/dashboard.js").status_code == 200
    assert client.get("/ui/", follow_redirects=False).status_code == 303  # a page without a token goes to the login


def test_read_only_token_cannot_write(service):
    client, tokens, _db = service
    reader = tokens.header("reader")
    assert client.get("/runs", headers=reader).status_code == 200
    for path, body in (("/runs", RUN), ("/scenarios", {"yaml": SCENARIO_TEXT}),
                       ("/monitor/marks", {"scenario": {"builtin": "softbank-openai"}, "marks_csv": "date,asset,value\n"})):
        response = client.post(path, json=body, headers=reader)
        assert response.status_code == 403, (path, response.text)
        assert "read-only" in response.json()["detail"]
    job = client.post("/runs", json=RUN, headers=tokens.header("writer")).json()
    assert client.post(f"/runs/{job['id']}/cancel", headers=reader).status_code == 403
    # reading is allowed: the writer's shared job is visible to the reader
    assert client.get(f"/runs/{job['id']}", headers=reader).status_code == 200
    finished(client, job["id"], tokens.header())


def test_another_clients_private_job_is_not_found(service):
    client, tokens, _db = service
    alice, bob = tokens.header("writer"), tokens.header("other")
    private = client.post("/runs", json={**RUN, "private": True}, headers=alice).json()
    shared = client.post("/runs", json=RUN, headers=alice).json()
    assert private["private"] and private["mine"]
    for suffix in ("", "/result", "/report"):
        response = client.get(f"/runs/{private['id']}{suffix}", headers=bob)
        assert response.status_code == 404, response.text
    assert client.post(f"/runs/{private['id']}/cancel", headers=bob).status_code == 404
    listed = {j["id"] for j in client.get("/runs", headers=bob).json()["jobs"]}
    assert private["id"] not in listed and shared["id"] in listed
    # a shared job is seen by all, cancelled only by its submitter
    assert client.get(f"/runs/{shared['id']}", headers=bob).json()["mine"] is False
    refused = client.post(f"/runs/{shared['id']}/cancel", headers=bob)
    assert refused.status_code == 403 and "another token" in refused.json()["detail"]
    assert client.get(f"/runs/{private['id']}", headers=alice).status_code == 200
    for job in (private, shared):
        finished(client, job["id"], alice)


def test_revoked_token_stops_working(service):
    client, _tokens, db = service
    from margincall.store import open_store

    with open_store(db) as store:
        _info, secret = store.tokens.create("temporary")
        header = {"Authorization": f"Bearer {secret}"}
        assert client.get("/runs", headers=header).status_code == 200
        store.tokens.revoke("temporary")
    assert client.get("/runs", headers=header).status_code == 401  # the fixture's app trusts a token for 0 s
