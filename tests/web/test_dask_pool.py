"""`margincall serve --scheduler`: jobs run as tasks on a Dask cluster, with the same numbers as a
run in one process; progress comes back while they run, and a cancelled job stops."""

from __future__ import annotations

import logging

import distributed
import pytest
from service_support import SCENARIO_TEXT, finished, make_tokens, wait_for

import margincall

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dask_service(tmp_path_factory):
    from fastapi.testclient import TestClient

    from margincall.web import Settings, create_app

    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0",
                                  silence_logs=logging.ERROR) as cluster:
        db = f"sqlite:///{tmp_path_factory.mktemp('dask') / 'runs.db'}"
        tokens = make_tokens(db)
        app = create_app(Settings(db=db, scheduler=cluster.scheduler_address, max_paths=5_000_000, cancel_grace_s=2.0))
        with TestClient(app) as client:
            yield client, tokens


def test_run_on_dask_matches_simulate(dask_service):
    client, tokens = dask_service
    h = tokens.header()
    assert "Dask cluster" in client.get("/health").json()["executor"]
    job = client.post("/runs", json={"kind": "run", "scenario": {"yaml": SCENARIO_TEXT}, "paths": 3000, "seed": 5}, headers=h)
    done = finished(client, job.json()["id"], h)
    assert done["status"] == "complete", done["error"]
    result = client.get(f"/runs/{done['id']}/result", headers=h).json()
    expected = margincall.simulate(margincall.parse_scenario(SCENARIO_TEXT), paths=3000, seed=5).to_dict()
    drop = ("elapsed_seconds",)
    assert {k: v for k, v in result.items() if k not in drop} == {k: v for k, v in expected.items() if k not in drop}


def test_progress_and_cancel_on_dask(dask_service):
    client, tokens = dask_service
    h = tokens.header()
    job = client.post("/runs", json={"kind": "run", "scenario": {"yaml": SCENARIO_TEXT}, "paths": 4_000_000, "seed": 5},
                      headers=h).json()

    def partway():
        current = client.get(f"/runs/{job['id']}", headers=h).json()
        return current if current["status"] == "running" and current["progress"]["done"] > 0 else None

    wait_for(partway, 180.0, what="progress from the Dask task")
    cancelled = client.post(f"/runs/{job['id']}/cancel", headers=h)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_the_service_waits_for_the_scheduler_as_long_as_its_bound_says(monkeypatch):
    """The service's Dask pool waits MARGINCALL_DASK_TIMEOUT for the scheduler, as `run --scheduler`
    and the service's pre-flight check do, and says so when it gives up."""
    from service_support import free_port

    from margincall.errors import MarginCallError
    from margincall.web._app import _pool
    from margincall.web._settings import Settings

    monkeypatch.setenv("MARGINCALL_DASK_TIMEOUT", "1.5")
    with pytest.raises(MarginCallError, match=r"within 1\.5 s.*MARGINCALL_DASK_TIMEOUT"):
        _pool(Settings(scheduler=f"tcp://127.0.0.1:{free_port()}"))
