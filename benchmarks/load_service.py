"""Loopback load test of `margincall serve`: N clients for T seconds, reading and submitting small
runs, bounded in count and time, on 127.0.0.1 only.

    python benchmarks/load_service.py --clients 50 --seconds 60

Starts the service (a temporary SQLite store, --workers worker processes) unless --url names one
already running on this machine (then --token is needed). Each client loops: mostly reads (the
job list, a job, a result, the scenario list, health), and now and then submits a small run; at
most --max-jobs runs are submitted in all. After the time is up it waits up to --drain seconds for
the queue to empty, cancels what is left, and checks that every job submitted ended complete,
failed or cancelled. Prints requests, their status codes, the 5xx count, the job accounting and
the peak resident memory of the service and its workers; --json writes the same as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = (ROOT / "tests" / "store" / "data" / "single.yaml").read_text(encoding="utf-8")
FINAL = ("complete", "failed", "cancelled")


def _rss_kib(pid: int) -> int:
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """The process and its descendants (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(parents.get(p, []))
    return out


class Memory(threading.Thread):
    """Samples the resident memory of a process tree every half second; keeps the peaks."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_total_kib = 0
        self.peak_server_kib = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            pids = _tree(self.pid)
            self.peak_server_kib = max(self.peak_server_kib, _rss_kib(self.pid))
            self.peak_total_kib = max(self.peak_total_kib, sum(_rss_kib(p) for p in pids))
            time.sleep(0.5)


def start_service(folder: Path, workers: int) -> tuple[subprocess.Popen, str, str]:
    import socket

    db = f"sqlite:///{folder / 'runs.db'}"
    margincall = [sys.executable, "-c", "from margincall.cli.main import app; app()"]
    token = subprocess.run([*margincall, "token", "create", "--name", "load", "--db", db], check=True, capture_output=True,
                           text=True).stdout.strip().splitlines()[0]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "MARGINCALL_MAX_ACTIVE_JOBS": "1000000"}
    log = open(folder / "serve.log", "wb")
    process = subprocess.Popen([*margincall, "serve", "--db", db, "--port", str(port), "--workers", str(workers),
                                "--log-level", "warning"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the service exited with {process.returncode}; see {folder / 'serve.log'}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url, token
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the service did not start within 120 s")


class Load:
    def __init__(self, url: str, token: str, *, max_jobs: int, paths: int, submit_share: float, seed: int):
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.max_jobs = max_jobs
        self.paths = paths
        self.submit_share = submit_share
        self.random = random.Random(seed)
        self.codes: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.submitted: list[int] = []
        self.reserved = 0  # submissions started (the cap counts them before their answer comes)
        self.latencies: list[float] = []

    async def _call(self, client: httpx.AsyncClient, method: str, path: str, **kwargs) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await client.request(method, path, headers=self.headers, **kwargs)
        except httpx.HTTPError as exc:
            self.errors[type(exc).__name__] += 1
            return None
        self.latencies.append(time.perf_counter() - started)
        self.codes[response.status_code] += 1
        return response

    async def client(self, deadline: float) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=60.0) as client:
            while time.monotonic() < deadline:
                roll = self.random.random()
                if roll < self.submit_share and self.reserved < self.max_jobs:
                    self.reserved += 1
                    body = {"kind": "run", "scenario": {"yaml": SCENARIO}, "paths": self.paths,
                            "seed": self.random.randrange(1000)}
                    response = await self._call(client, "POST", "/runs", json=body)
                    if response is not None and response.status_code == 202:
                        self.submitted.append(response.json()["id"])
                elif roll < 0.45 and self.submitted:
                    await self._call(client, "GET", f"/runs/{self.random.choice(self.submitted)}")
                elif roll < 0.6:
                    await self._call(client, "GET", "/runs", params={"limit": 20})
                elif roll < 0.75 and self.submitted:
                    await self._call(client, "GET", f"/runs/{self.random.choice(self.submitted)}/result")
                elif roll < 0.9:
                    await self._call(client, "GET", "/scenarios")
                else:
                    await self._call(client, "GET", "/health")

    async def run(self, clients: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(self.client(deadline) for _ in range(clients)))

    def statuses(self) -> dict[int, str]:
        with httpx.Client(base_url=self.url, timeout=60.0, headers=self.headers) as client:
            return {job_id: client.get(f"/runs/{job_id}").json()["status"] for job_id in self.submitted}

    def drain(self, seconds: float) -> dict[int, str]:
        deadline = time.monotonic() + seconds
        statuses = self.statuses()
        while time.monotonic() < deadline and any(s not in FINAL for s in statuses.values()):
            time.sleep(1.0)
            statuses = self.statuses()
        with httpx.Client(base_url=self.url, timeout=60.0, headers=self.headers) as client:
            for job_id, status in statuses.items():
                if status not in FINAL:
                    client.post(f"/runs/{job_id}/cancel")
        return self.statuses()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-jobs", type=int, default=300, help="most runs submitted in all")
    parser.add_argument("--paths", type=int, default=256, help="paths of each run submitted")
    parser.add_argument("--submit-share", type=float, default=0.1, help="share of a client's requests that submit a run")
    parser.add_argument("--drain", type=float, default=180.0, help="seconds to wait for the queue to empty before cancelling")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the service started here")
    parser.add_argument("--url", help="a service already running on 127.0.0.1 (default: start one)")
    parser.add_argument("--token", help="a read-write token of that service")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="margincall-load-"))
    process = None
    if args.url is None:
        process, url, token = start_service(folder, args.workers)
    else:
        host = urllib.parse.urlparse(args.url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("the load test runs against this machine only (127.0.0.1)")
        if not args.token:
            raise SystemExit("--url needs --token")
        url, token = args.url.rstrip("/"), args.token
    memory = Memory(process.pid) if process is not None else None
    if memory is not None:
        memory.start()
    load = Load(url, token, max_jobs=args.max_jobs, paths=args.paths, submit_share=args.submit_share, seed=args.seed)
    started = time.monotonic()
    try:
        asyncio.run(load.run(args.clients, args.seconds))
        elapsed = time.monotonic() - started
        final = load.drain(args.drain)
    finally:
        if memory is not None:
            memory.running = False
        if process is not None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
    ends = Counter(final.values())
    latencies = sorted(load.latencies)
    figures = {
        "clients": args.clients,
        "seconds": args.seconds,
        "workers": args.workers if process is not None else None,
        "requests": sum(load.codes.values()),
        "requests_per_second": round(sum(load.codes.values()) / elapsed, 1),
        "status_codes": {str(k): v for k, v in sorted(load.codes.items())},
        "server_errors_5xx": sum(v for k, v in load.codes.items() if k >= 500),
        "transport_errors": dict(load.errors),
        "latency_p50_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
        "latency_p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 1) if latencies else None,
        "jobs_submitted": len(load.submitted),
        "jobs_complete": ends.get("complete", 0),
        "jobs_failed": ends.get("failed", 0),
        "jobs_cancelled": ends.get("cancelled", 0),
        "jobs_unaccounted": sum(v for k, v in ends.items() if k not in FINAL),
        "peak_rss_service_mib": round(memory.peak_server_kib / 1024, 1) if memory else None,
        "peak_rss_with_workers_mib": round(memory.peak_total_kib / 1024, 1) if memory else None,
    }
    for key, value in figures.items():
        print(f"{key:28s} {value}")
    ok = figures["server_errors_5xx"] == 0 and figures["jobs_unaccounted"] == 0 and not load.errors
    print("accounting: submitted = complete + failed + cancelled" if figures["jobs_unaccounted"] == 0 else "accounting: JOBS UNACCOUNTED FOR")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    if not ok:
        raise SystemExit(1)
    return figures


if __name__ == "__main__":
    main()
