"""The run store on each back end (SQLite file; PostgreSQL when MARGINCALL_TEST_POSTGRES_URL is set):
save, list, get, compare; migrations; failures; killed runs; concurrent writers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

import margincall
from margincall.analysis.results import SimulationResult
from margincall.store import (
    ENV_URL,
    ResultFormatError,
    RunNotFoundError,
    StoreError,
    alembic_config,
    compare_runs,
    head_revision,
    se_figures,
    open_store,
    resolve_url,
    result_from_dict,
)
from margincall.store._schema import Base

FIRST_REVISION = "0001"
SE_METRICS = {
    "loan": {"p_margin_call", "p_default", "p_loss", "expected_loss"},
    "borrower": {"p_default", "p_forced_sale", "p_cascade", "expected_sold_value", "expected_equity"},
    "lender": {"p_loss", "expected_loss"},
    "system": {"p_any_default", "expected_defaults", "expected_forced_sales"},
}


def _start(store, text_: str = "assets: {}\n", name: str = "single", seed: int = 1) -> int:
    return store.start_run(name, text_, seed, 2048, margincall.__version__)


def _run_python(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


# -- save, list, get, compare ---------------------------------------------------------------------


def test_save_get_round_trip(store_url: str, scenario_text: str, engine_result: SimulationResult) -> None:
    with open_store(store_url) as store:
        before = dt.datetime.now(dt.UTC)
        run_id = store.start_run("single", scenario_text, 1, 2048, margincall.__version__)
        running = store.get_run(run_id)
        assert running.status == "running" and running.result is None and running.finished_at is None
        store.finish_run(run_id, engine_result)
        record = store.get_run(run_id)
    assert record.id == run_id
    assert record.status == "complete" and record.error is None
    assert record.scenario_name == "single"
    assert record.scenario_text == scenario_text
    assert record.scenario_hash == hashlib.sha256(scenario_text.encode()).hexdigest()
    assert (record.seed, record.paths, record.version) == (1, 2048, margincall.__version__)
    assert record.started_at.tzinfo is not None and record.finished_at is not None
    assert before - dt.timedelta(seconds=1) <= record.started_at <= record.finished_at
    assert record.result == json.loads(json.dumps(engine_result.to_dict()))
    assert record.result_object() == engine_result
    assert record.scenario() == margincall.parse_scenario(scenario_text, default_name="single")


def test_list_runs_newest_first_with_filters(store_url: str) -> None:
    with open_store(store_url) as store:
        ids = [_start(store, name=name) for name in ("a", "b", "a", "c", "a")]
        store.finish_run(ids[0], {"loans": {}})
        listed = store.list_runs()
        assert [run.id for run in listed] == ids[::-1]
        assert [run.id for run in store.list_runs(scenario="a")] == [ids[4], ids[2], ids[0]]
        assert [run.id for run in store.list_runs(limit=2)] == [ids[4], ids[3]]
        assert [run.id for run in store.list_runs(status="complete")] == [ids[0]]
        assert store.list_runs(scenario="nothing") == []
        assert not hasattr(listed[0], "result")  # summaries leave the big columns out


def test_get_missing_run_names_the_id(store_url: str) -> None:
    with open_store(store_url) as store:
        with pytest.raises(RunNotFoundError, match=r"no run 4242 "):
            store.get_run(4242)
        with pytest.raises(RunNotFoundError, match="4242"):
            store.finish_run(4242, {})


def test_compare_runs(store_url: str, scenario_text: str, engine_result: SimulationResult,
                      engine_result_other_seed: SimulationResult) -> None:
    with open_store(store_url) as store:
        a = store.start_run("single", scenario_text, 1, 2048, "v")
        b = store.start_run("single", scenario_text, 2, 2048, "v")
        store.finish_run(a, engine_result)
        store.finish_run(b, engine_result_other_seed.to_dict())
        rows = store.compare(a, b)
        loose = store.compare(a, b, sigmas=0.5)
        same = compare_runs(store.get_run(a), store.get_run(a))
    figures_a = {f.path: f for f in se_figures(engine_result.to_dict())}
    figures_b = {f.path: f for f in se_figures(engine_result_other_seed.to_dict())}
    assert [row.path for row in rows] == list(figures_a)  # every field with an SE, in the result's order
    for row in rows:
        fa, fb = figures_a[row.path], figures_b[row.path]
        assert (row.a, row.b) == (fa.value, fb.value)
        if fa.value is None or fb.value is None or fa.se is None or fb.se is None:
            assert row.significant is None or row.difference is None
            continue
        assert row.difference == pytest.approx(fb.value - fa.value)
        assert row.combined_se == pytest.approx((fa.se**2 + fb.se**2) ** 0.5)
        assert row.significant == (abs(row.difference) > 3 * row.combined_se)  # 3 SE by default
        assert row.sigmas == 3.0
    loan = next(iter(engine_result.loans))
    borrower = next(iter(engine_result.borrowers))
    by_scope = {(r.scope, r.subject, r.metric) for r in rows}
    assert {("loan", loan, m) for m in SE_METRICS["loan"]} <= by_scope
    assert {("borrower", borrower, m) for m in SE_METRICS["borrower"]} <= by_scope
    assert {("lender", lender, m) for lender in engine_result.lenders for m in SE_METRICS["lender"]} <= by_scope
    assert {("system", "system", m) for m in SE_METRICS["system"]} <= by_scope
    assert ("loan", loan, "p_default_by_cause.uncured_call") in by_scope  # a mapping with its _se mapping
    assert not any(r.path[0] == "borrower" for r in rows)  # the one-borrower shorthand is compared once, as borrowers.<id>
    assert [(r.path, r.significant) for r in loose] == [
        (r.path, None if r.significant is None else abs(r.difference) > 0.5 * r.combined_se) for r in rows]
    assert all(row.difference == 0.0 and row.significant is False for row in same if row.a is not None)


def test_compare_significance_rule() -> None:
    def result(p: float, se: float) -> dict:
        loan = {"p_margin_call": p, "p_margin_call_se": se}
        return {"loans": {"x": loan}, "borrower": {"p_default": p, "p_default_se": se}}

    far = {(r.scope, r.metric): r for r in compare_runs(result(0.50, 0.01), result(0.55, 0.01))}
    near = {(r.scope, r.metric): r for r in compare_runs(result(0.50, 0.01), result(0.53, 0.01))}
    assert far["loan", "p_margin_call"].significant is True  # 0.05 > 3 * sqrt(2) * 0.01 = 0.0424
    assert near["loan", "p_margin_call"].significant is False  # 0.03 < 0.0424
    assert near["loan", "p_margin_call"].z == pytest.approx(0.03 / (2**0.5 * 0.01))
    one_sigma = {(r.scope, r.metric): r for r in compare_runs(result(0.50, 0.01), result(0.53, 0.01), sigmas=1)}
    assert one_sigma["loan", "p_margin_call"].significant is True
    assert far["borrower", "p_default"].combined_se == pytest.approx(2**0.5 * 0.01)
    only_a = compare_runs({"loans": {"x": {"p_default": 0.1, "p_default_se": 0.01}}, "borrower": {}}, {"loans": {}, "borrower": {}})
    assert [(r.path, r.a, r.b, r.significant) for r in only_a] == [(("loans", "x", "p_default"), 0.1, None, None)]
    with pytest.raises(ValueError, match="sigmas"):
        compare_runs(result(0.5, 0.01), result(0.5, 0.01), sigmas=0)


def test_compare_is_generic_over_new_result_fields() -> None:
    """Per-borrower, per-lender and system figures compare with no change to compare."""
    def result(p: float) -> dict:
        return {
            "loans": {"x": {"p_default": p, "p_default_se": 0.001}},
            "borrowers": {"b1": {"p_default": p, "p_default_se": 0.001}, "b2": {"p_default": 0.2, "p_default_se": 0.001}},
            "lenders": {"bank": {"expected_loss": 10.0 * p, "expected_loss_se": 0.01}},
            "system": {"p_cascade": p, "p_cascade_se": 0.001, "note": "text"},
        }

    rows = compare_runs(result(0.1), result(0.2))
    assert [(r.scope, r.subject, r.metric) for r in rows] == [
        ("loan", "x", "p_default"), ("borrower", "b1", "p_default"), ("borrower", "b2", "p_default"),
        ("lender", "bank", "expected_loss"), ("system", "system", "p_cascade"),
    ]
    assert [r.significant for r in rows] == [True, True, False, True, True]


def test_compare_refuses_runs_without_a_result(store_url: str, engine_result: SimulationResult) -> None:
    with open_store(store_url) as store:
        done = _start(store)
        store.finish_run(done, engine_result)
        failed = _start(store)
        store.fail_run(failed, "boom")
        running = _start(store)
        with pytest.raises(StoreError, match=f"run {failed} is failed: it has no result to compare"):
            store.compare(done, failed)
        with pytest.raises(StoreError, match=f"run {running} is running"):
            store.compare(running, done)
        with pytest.raises(RunNotFoundError, match="no run 1180591620717411303424"):
            store.compare(done, 2**70)


# -- migrations -----------------------------------------------------------------------------------


def test_migration_from_an_empty_database(store_url: str) -> None:
    with open_store(store_url) as store:
        with store.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head_revision()
            assert "runs" in inspect(connection).get_table_names()
            diffs = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
        assert diffs == [], "the ORM (_schema.py) and the migrations disagree: add a migration"
    with open_store(store_url) as again:  # opening a current store changes nothing
        assert again.list_runs() == []


def test_store_from_an_older_schema_opens(store_url: str) -> None:
    engine = create_engine(store_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, FIRST_REVISION)
        started = "2025-01-02 03:04:05.000000" if connection.dialect.name == "sqlite" else "2025-01-02 03:04:05+00"
        connection.execute(text(
            "INSERT INTO runs (scenario_name, scenario_hash, scenario_text, seed, paths, version, started_at, status) "
            f"VALUES ('old', 'h', 'text', 7, 100, '0.0.1', '{started}', 'running')"))
    engine.dispose()
    with open_store(store_url) as store:
        (old,) = store.list_runs()
        assert (old.scenario_name, old.seed, old.paths, old.status) == ("old", 7, 100, "running")
        assert old.started_at == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        # 0003_labels: a run from before it is a `run`, without label, path, options or headline
        assert (old.command, old.label, old.scenario_path, old.options, old.headline) == ("run", None, None, None, ())
        with store.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head_revision()


def test_labels_commands_and_headlines(store_url: str, engine_result: SimulationResult) -> None:
    with open_store(store_url) as store:
        with store.recording("single", "text", 1, 2048, "v", command="stress", label="Q3 review",
                             scenario_path="/abs/single.yaml", options={"stresses": ["S1"]}) as run:
            run.complete({"base": engine_result.to_dict(), "other": {"x": 1}}, headline=engine_result)
        explain = store.start_run("single", "text", 2, 2048, "v", command="explain", label="why")
        plain = _start(store)
        store.finish_run(plain, engine_result)
        record = store.get_run(run.id)
        assert (record.command, record.label, record.scenario_path, record.options) == (
            "stress", "Q3 review", "/abs/single.yaml", {"stresses": ["S1"]})
        assert [f.path[-1] for f in record.headline] == ["p_margin_call", "p_default", "p_default"]
        assert record.headline[0].value == next(iter(engine_result.loans.values())).p_margin_call
        assert store.get_run(plain).headline == record.headline  # the same figures, found in the result itself
        assert [r.id for r in store.list_runs(command="stress")] == [run.id]
        assert [r.id for r in store.list_runs(label="why")] == [explain]
        assert store.get_run(explain).command == "explain"
        with pytest.raises(StoreError, match="is a stress"):
            record.result_object()
        with pytest.raises(StoreError, match="not a command name"):
            store.start_run("single", "text", 1, 1, "v", command="Drop Table")
        with pytest.raises(StoreError, match="MARGINCALL_MAX_NAME_CHARS"):
            store.start_run("single", "text", 1, 1, "v", label="x" * 201)
        with pytest.raises(StoreError, match="not finite at loans.x.p"):
            store.finish_run(explain, {"loans": {"x": {"p": float("nan")}}})
        long_name = store.start_run("n" * 300, "text", 1, 1, "v")
        assert len(store.get_run(long_name).scenario_name) == 200


def test_store_from_a_newer_margincall_is_refused(store_url: str) -> None:
    with open_store(store_url) as store, store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(StoreError, match="newer margincall"):
        open_store(store_url)


# -- failures ---------------------------------------------------------------------------------------


def test_failing_run_is_recorded_without_touching_another(store_url: str, engine_result: SimulationResult) -> None:
    with open_store(store_url) as store:
        with store.recording("single", "text", 1, 2048, "v") as ok:
            ok.complete(engine_result)
        before = store.get_run(ok.id)

        with pytest.raises(RuntimeError, match="boom"), store.recording("single", "text", 2, 2048, "v") as bad:
            raise RuntimeError("boom")
        with pytest.raises(KeyboardInterrupt), store.recording("single", "text", 3, 2048, "v") as interrupted:
            raise KeyboardInterrupt
        with store.recording("single", "text", 4, 2048, "v") as empty:
            pass

        failed = store.get_run(bad.id)
        assert failed.status == "failed" and failed.error == "RuntimeError: boom"
        assert failed.result is None and failed.finished_at is not None
        assert store.get_run(interrupted.id).status == "failed"
        assert "KeyboardInterrupt" in (store.get_run(interrupted.id).error or "")
        assert store.get_run(empty.id).error == "the run ended without a result"
        assert store.get_run(ok.id) == before
        with pytest.raises(StoreError, match="already complete"):
            store.fail_run(ok.id, "late")
        assert store.get_run(ok.id) == before
        with pytest.raises(StoreError, match="has no result"):
            failed.result_object()


def test_error_after_completion_keeps_the_run_complete(store_url: str) -> None:
    with open_store(store_url) as store:
        with pytest.raises(OSError), store.recording("single", "text", 1, 10, "v") as run:
            run.complete({"loans": {}})
            raise OSError("the report could not be written")
        assert store.get_run(run.id).status == "complete"


KILLED = """
    import sys, time
    from margincall.store import open_store
    store = open_store(sys.argv[1])
    run_id = store.start_run("killed", "text", 1, 10, "v")
    print(run_id, flush=True)
    time.sleep(300)
"""


def test_killed_run_stays_running(store_url: str) -> None:
    with open_store(store_url) as store:
        with store.recording("single", "text", 1, 10, "v") as done:
            done.complete({"loans": {}})
        before = store.get_run(done.id)
    with _run_python(KILLED, store_url) as child:  # closes its pipes on the way out
        try:
            line = child.stdout.readline() if child.stdout else ""
            assert line.strip().isdigit(), f"no run started: {line!r} {child.stderr.read() if child.stderr else ''}"
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with open_store(store_url) as store:
        killed = store.get_run(int(line))
        assert killed.status == "running" and killed.finished_at is None and killed.result is None
        assert store.get_run(done.id) == before
        later = _start(store)  # the store still takes writes
        store.finish_run(later, {"loans": {}})
        assert store.get_run(later).status == "complete"


WRITER = """
    import pathlib, sys, time
    from margincall.store import open_store
    url, tag, n, barrier = sys.argv[1], sys.argv[2], int(sys.argv[3]), pathlib.Path(sys.argv[4])
    (barrier / tag).touch()
    deadline = time.time() + 120
    while len(list(barrier.iterdir())) < 2 and time.time() < deadline:
        time.sleep(0.01)
    store = open_store(url)  # both open a new store at once: one migrates it
    for i in range(n):
        run_id = store.start_run("writer-" + tag, f"text {tag} {i}", i, 1, "v")
        store.finish_run(run_id, {"tag": tag, "i": i, "loans": {}})
    store.close()
"""


@pytest.mark.slow
def test_concurrent_writers(store_url: str, tmp_path: Path) -> None:
    n = 40
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    writers = [_run_python(WRITER, store_url, tag, str(n), str(barrier)) for tag in ("a", "b")]
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
    with open_store(store_url) as store:
        runs = store.list_runs(limit=10 * n)
        assert len(runs) == 2 * n and len({run.id for run in runs}) == 2 * n
        assert all(run.status == "complete" for run in runs)
        for tag in ("a", "b"):
            seeds = sorted(run.seed for run in runs if run.scenario_name == f"writer-{tag}")
            assert seeds == list(range(n))
        assert store.get_run(runs[0].id).result["tag"] in ("a", "b")
        if store.engine.dialect.name == "sqlite":
            with store.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


# -- where the store is, and results back from dicts (no database) ----------------------------------


def test_default_url_is_in_the_user_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_URL, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert resolve_url().database == str(tmp_path / "margincall" / "runs.db")
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_url().database == str(tmp_path / "home" / ".local" / "share" / "margincall" / "runs.db")
    monkeypatch.setenv(ENV_URL, "sqlite:////somewhere/env.db")
    assert resolve_url().database == "/somewhere/env.db"
    assert resolve_url(tmp_path / "given.db").render_as_string() == f"sqlite:///{tmp_path / 'given.db'}"
    assert resolve_url("postgresql://u@h:1/d").drivername == "postgresql+psycopg"


def test_default_store_is_created_with_its_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_URL, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with open_store() as store:
        _start(store)
    assert (tmp_path / "data" / "margincall" / "runs.db").is_file()


def test_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot open the run store postgresql"):
        open_store("postgresql://nobody@127.0.0.1:9/none")


def test_numpy_values_are_stored_as_numbers(tmp_path: Path) -> None:
    with open_store(tmp_path / "runs.db") as store:
        run_id = _start(store)
        store.finish_run(run_id, {"paths": np.int64(3), "curve": np.array([0.5, 1.0]), "p": np.float64(0.25)})
        assert store.get_run(run_id).result == {"paths": 3, "curve": [0.5, 1.0], "p": 0.25}


def test_result_from_dict(engine_result: SimulationResult) -> None:
    data = json.loads(json.dumps(engine_result.to_dict()))
    assert result_from_dict(data) == engine_result
    data["a_field_from_the_future"] = 1
    data["borrower"] = {**data["borrower"], "another": 2}
    assert result_from_dict(data) == engine_result
    loan_id = next(iter(data["loans"]))
    broken = {**data, "loans": {loan_id: {k: v for k, v in data["loans"][loan_id].items() if k != "p_loss"}}}
    with pytest.raises(ResultFormatError, match=rf"loans\.{loan_id}: missing p_loss"):
        result_from_dict(broken)
    assert dataclasses.is_dataclass(result_from_dict(data).borrower)
