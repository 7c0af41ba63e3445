"""Restarts: a job queued or running when the service stops is neither lost silently nor run
twice. Killed outright, the service leaves them in the store as they were, and marks them failed
with the reason when it starts again; stopped cleanly, it marks them failed as it stops. The
worker of a killed service does not carry on."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest
from service_support import SCENARIO_TEXT, make_tokens, start_serve, stop, wait_for

from margincall.store import open_store

pytestmark = pytest.mark.slow
ENV = {"MARGINCALL_MAX_PATHS": "50000000"}
LONG = {"kind": "run", "scenario": {"yaml": SCENARIO_TEXT}, "paths": 20_000_000, "seed": 1}  # minutes: never finishes here
SHORT = {"kind": "run", "scenario": {"yaml": SCENARIO_TEXT}, "paths": 1000, "seed": 1}


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _busy_service(tmp_path: Path):
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    tokens = make_tokens(db)
    process, url = start_serve(db, env=ENV, log=tmp_path / "serve.log")
    h = tokens.header()
    running = httpx.post(f"{url}/runs", json=LONG, headers=h, timeout=30).json()
    queued = httpx.post(f"{url}/runs", json=SHORT, headers=h, timeout=30).json()

    def started():
        job = httpx.get(f"{url}/runs/{running['id']}", headers=h, timeout=30).json()
        return job["status"] == "running" and job["progress"]["done"] > 0

    wait_for(started, 120.0, what="the long job to run")
    return db, tokens, process, url, running["id"], queued["id"]


def test_killed_service_fails_its_jobs_when_it_starts_again(tmp_path):
    db, tokens, process, _url, running, queued = _busy_service(tmp_path)
    workers = _children(process.pid)
    assert workers, "the service runs its jobs in a worker process"
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    with open_store(db) as store:
        assert store.jobs.get(running).status == "running" and store.jobs.get(queued).status == "queued"
    wait_for(lambda: not any(_alive(pid) for pid in workers), 20.0, what="the orphaned worker to stop")
    process, url = start_serve(db, env=ENV, log=tmp_path / "serve.log")
    try:
        h = tokens.header()
        first = httpx.get(f"{url}/runs/{running}", headers=h, timeout=30).json()
        second = httpx.get(f"{url}/runs/{queued}", headers=h, timeout=30).json()
    finally:
        stop(process)
    assert first["status"] == "failed" and "stopped while this job was running" in first["error"] and "restart" in first["error"]
    assert second["status"] == "failed" and "before this job started" in second["error"]
    with open_store(db) as store:
        run = store.get_run(first["run_id"])
    assert run.status == "failed" and "stopped" in run.error


def test_stopped_service_fails_its_jobs_as_it_stops(tmp_path):
    db, _tokens, process, _url, running, queued = _busy_service(tmp_path)
    workers = _children(process.pid)
    process.send_signal(signal.SIGTERM)
    process.wait(30)
    with open_store(db) as store:
        first, second = store.jobs.get(running), store.jobs.get(queued)
    assert first.status == "failed" and "stopped while this job was running" in first.error
    assert second.status == "failed" and "before this job started" in second.error
    assert not any(_alive(pid) for pid in workers)
    assert os.path.exists(tmp_path / "runs.db")
