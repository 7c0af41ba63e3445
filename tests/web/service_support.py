"""Helpers for the service tests: tokens of three clients (two that write, one read-only), waiting
for a job, and a real `margincall serve` on a free 127.0.0.1 port with a temporary SQLite store."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from margincall.store import open_store

DATA = Path(__file__).resolve().parents[1] / "store" / "data"
SCENARIO_TEXT = (DATA / "single.yaml").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Tokens:
    writer: str
    other: str
    reader: str

    def header(self, who: str = "writer") -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, who)}"}


def make_tokens(db: str) -> Tokens:
    with open_store(db) as store:
        return Tokens(writer=store.tokens.create("alice")[1], other=store.tokens.create("bob")[1],
                      reader=store.tokens.create("auditor", read_only=True)[1])


def wait_for(predicate, timeout_s: float = 120.0, every_s: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def finished(client, job_id: int, headers: dict[str, str], timeout_s: float = 180.0) -> dict:
    """The job once it has ended (complete, failed or cancelled)."""
    def done():
        job = client.get(f"/runs/{job_id}", headers=headers).json()
        return job if job["status"] in ("complete", "failed", "cancelled") else None

    return wait_for(done, timeout_s, what=f"job {job_id} to end")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Live:
    url: str
    db: str
    tokens: Tokens
    process: subprocess.Popen


SERVE = "from margincall.cli.main import app; app()"  # -c: the spawned workers need not re-import a main module


def start_serve(db: str, *, workers: int = 1, env: dict[str, str] | None = None, log: Path | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    out = open(log, "ab") if log else subprocess.DEVNULL
    process = subprocess.Popen([sys.executable, "-c", SERVE, "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port),
                                "--workers", str(workers), "--log-level", "warning"],
                               env={**os.environ, **(env or {})}, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"

    def up():
        if process.poll() is not None:
            raise AssertionError(f"margincall serve exited with {process.returncode}" + (f"; see {log}" if log else ""))
        try:
            return httpx.get(f"{url}/health", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, 60.0, what="the service to answer /health")
    return process, url


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@contextlib.contextmanager
def live_service(folder: Path, *, workers: int = 1, env: dict[str, str] | None = None) -> Iterator[Live]:
    db = f"sqlite:///{folder / 'runs.db'}"
    tokens = make_tokens(db)
    process, url = start_serve(db, workers=workers, env=env, log=folder / "serve.log")
    try:
        yield Live(url, db, tokens, process)
    finally:
        stop(process)
