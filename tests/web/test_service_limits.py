"""The service's limits: each refusal is a 4xx that names the limit and the setting that moves it."""

from __future__ import annotations

import pytest
from service_support import SCENARIO_TEXT, make_tokens


@pytest.fixture(scope="module")
def tight(tmp_path_factory):
    from fastapi.testclient import TestClient

    from margincall.web import Settings, create_app

    db = f"sqlite:///{tmp_path_factory.mktemp('limits') / 'runs.db'}"
    tokens = make_tokens(db)
    settings = Settings(db=db, workers=1, max_upload_bytes=4096, max_paths=5000, max_active_jobs=2, max_sweep_points=3)
    with TestClient(create_app(settings)) as client:
        yield client, tokens


def _limit(response, status: int, setting: str) -> str:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert detail["setting"] == setting and setting in detail["message"]
    return detail["message"]


def test_upload_size(tight):
    client, tokens = tight
    big = SCENARIO_TEXT + "\n" + "#" * 5000 + "\n"
    message = _limit(client.post("/scenarios", json={"yaml": big}, headers=tokens.header()), 413, "MARGINCALL_MAX_UPLOAD_BYTES")
    assert "4,096 bytes" in message
    raw = client.post("/scenarios?name=big", content=big.encode(), headers={**tokens.header(), "Content-Type": "application/yaml"})
    _limit(raw, 413, "MARGINCALL_MAX_UPLOAD_BYTES")
    assert client.post("/scenarios", json={"yaml": SCENARIO_TEXT}, headers=tokens.header()).status_code == 201


def test_paths_per_simulation(tight):
    client, tokens = tight
    body = {"kind": "run", "scenario": {"builtin": "softbank-openai"}, "paths": 5001}
    message = _limit(client.post("/runs", json=body, headers=tokens.header()), 422, "MARGINCALL_MAX_PATHS")
    assert "5,001" in message and "5,000" in message


def test_sweep_points(tight):
    client, tokens = tight
    body = {"kind": "sweep", "scenario": {"yaml": SCENARIO_TEXT}, "paths": 100,
            "sets": ["loans.acme-loan.principal=40:60:4"]}
    _limit(client.post("/runs", json=body, headers=tokens.header()), 422, "MARGINCALL_MAX_SWEEP_POINTS")


def test_concurrent_jobs_per_token(tight):
    client, tokens = tight
    body = {"kind": "run", "scenario": {"yaml": SCENARIO_TEXT}, "paths": 5000, "seed": 1}
    accepted = [client.post("/runs", json=body, headers=tokens.header("other")) for _ in range(2)]
    assert [r.status_code for r in accepted] == [202, 202]
    message = _limit(client.post("/runs", json=body, headers=tokens.header("other")), 429, "MARGINCALL_MAX_ACTIVE_JOBS")
    assert "(2)" in message
    # another token is not held back by this one's jobs
    assert client.post("/runs", json=body, headers=tokens.header("writer")).status_code == 202
