"""Crash test: `margincall run` killed with SIGKILL at random points (while it imports, opens or
creates the store, records the run, simulates, stores the result, prints), 20 times on one store;
after each kill the store is opened, listed and written again. Nothing stored before is lost or
changed, and no run is shown complete that did not complete."""

from __future__ import annotations

import contextlib
import random
import sqlite3
import subprocess
from pathlib import Path

import pytest

from hostile_support import BASE, EXE, cli, write
from margincall.store import open_store, result_from_dict

KILLS = 20
PATHS = 60_000  # about 5 s of simulating on 2 cores: most kills land while a run is recorded


@pytest.mark.slow
def test_sigkill_at_random_points(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    scenario = write(tmp_path, BASE)
    rng = random.Random(15)
    kept: dict[int, dict] = {}  # id -> the result of every run seen complete
    killed_while_running = finished = 0
    for attempt in range(KILLS):
        child = subprocess.Popen(
            [EXE or "margincall", "run", str(scenario), "--paths", str(PATHS), "--seed", str(attempt),
             "--label", f"attempt-{attempt}", "--db", str(db)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        delay = rng.uniform(0.0, 9.5)
        try:
            child.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        exited_cleanly = child.returncode == 0
        finished += exited_cleanly

        # the store opens, lists and takes writes; every complete run is whole; nothing is lost
        if not db.exists():
            continue  # killed before it created the store
        with contextlib.closing(sqlite3.connect(db)) as connection:  # closed, not only committed
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        with open_store(db) as store:
            listed = store.list_runs(limit=1000)
            by_label = {r.label: r for r in listed}
            for summary in listed:
                record = store.get_run(summary.id)
                if record.status == "complete":
                    assert record.result is not None and record.finished_at is not None and record.headline
                    if (record.label or "").startswith("attempt-"):  # a run of the CLI: its whole result decodes
                        assert result_from_dict(record.result).paths == record.paths == PATHS
                    kept.setdefault(record.id, record.result)
                else:
                    assert record.result is None, f"run {record.id} is {record.status} but holds a result"
            for run_id, result in kept.items():
                assert store.get_run(run_id).result == result, f"run {run_id} changed after a kill"
            mine = by_label.get(f"attempt-{attempt}")
            if exited_cleanly:
                assert mine is not None and mine.status == "complete", "a run that exited 0 is not complete"
            elif mine is not None and mine.status == "running":
                killed_while_running += 1
            written = store.start_run("after-kill", BASE, attempt, 1, "test", command="run", label=f"check-{attempt}")
            store.finish_run(written, {"loans": {"x": {"p_default": 0.5, "p_default_se": 0.1}}})
            assert store.get_run(written).status == "complete"
            kept[written] = store.get_run(written).result
        listed_cli = cli("runs", "--db", db, "--limit", "1000")
        assert listed_cli.code == 0 and "Traceback" not in listed_cli.output
    print(f"{KILLS} kills: {finished} runs finished first, {killed_while_running} left running, {len(kept)} complete runs kept intact")
    assert killed_while_running > 0, "no kill landed while a run was recording; the test did not test"
    with open_store(db) as store:
        shown = cli("runs", "--db", db, "--status", "running")
        assert shown.code == 0
        assert all(r.result is None for r in (store.get_run(s.id) for s in store.list_runs(limit=1000, status="running")))
