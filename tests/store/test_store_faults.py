"""A store file that is not a margincall store, or is damaged, is refused with its path and what to do,
and nothing is written to it; PostgreSQL connections have a connect and a statement timeout."""

from __future__ import annotations

import os
import random
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from margincall.store import RunNotFoundError, StoreError, open_store


def _store_with_runs(path: Path, n: int = 30) -> None:
    with open_store(path) as store:
        for i in range(n):
            run_id = store.start_run("s", f"text {i} " + "x" * 2000, i, 10, "v")
            store.finish_run(run_id, {"loans": {"l": {"p_default": 0.1, "p_default_se": 0.01}}, "pad": "y" * 3000})
    # fold the WAL into the file, so that the file alone holds the runs
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")


def _refused(path: Path) -> str:
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(StoreError) as info:
        with open_store(path) as store:
            store.list_runs()
            store.get_run(1)
    message = str(info.value)
    assert str(path) in message
    if before is not None:
        assert path.read_bytes() == before, "a refused store file must not be written to"
    return message


@pytest.mark.parametrize("content", [
    pytest.param(random.Random(1).randbytes(4096), id="random-bytes"),
    pytest.param(random.Random(2).randbytes(100), id="few-random-bytes"),
    pytest.param(b"name: my scenario\nassets: {}\n" * 50, id="text"),
    pytest.param(b"\x00" * 8192, id="zeros"),
    pytest.param(b"SQLite format 2\x00" + b"\x00" * 100, id="almost-a-header"),
])
def test_not_a_sqlite_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "runs.db"
    path.write_bytes(content)
    message = _refused(path)
    assert "is not a SQLite database" in message and "will not write over it" in message and "--db" in message


def test_another_applications_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO users VALUES (1, 'ada')")
    message = _refused(path)
    assert "another application" in message and "users" in message
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall() == [("users",)]


def test_another_applications_runs_table(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE runs (x TEXT)")
    assert "no schema revision" in _refused(path)


@pytest.mark.parametrize("fraction", [0.02, 0.1, 0.3, 0.5, 0.75, 0.9])
def test_truncated_store(tmp_path: Path, fraction: float) -> None:
    path = tmp_path / "runs.db"
    _store_with_runs(path)
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(max(100, int(size * fraction)))
    message = _refused(path)
    assert "damaged" in message or "not a SQLite database" in message
    assert ".recover" in message or "mv " in message


def test_overwritten_pages(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    _store_with_runs(path)
    data = bytearray(path.read_bytes())
    noise = random.Random(3).randbytes(len(data) - 4096)
    data[4096:] = noise  # the header and first page kept, every other page garbage
    path.write_bytes(bytes(data))
    assert "damaged" in _refused(path)


def test_folder_and_device(tmp_path: Path) -> None:
    assert "is a folder" in _refused(tmp_path)
    fifo = tmp_path / "pipe.db"
    os.mkfifo(fifo)
    assert "not a regular file" in _refused(fifo)


def test_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    path.touch()
    with open_store(path) as store:
        assert store.list_runs() == []


def test_intact_store_still_opens_after_refusals(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    _store_with_runs(path, n=3)
    with open_store(path) as store:
        assert [r.seed for r in store.list_runs()] == [2, 1, 0]


@pytest.mark.parametrize("run_id", [0, -1, 2**63, 2**70])
def test_out_of_range_ids(tmp_path: Path, run_id: int) -> None:
    with open_store(tmp_path / "runs.db") as store:
        with pytest.raises(RunNotFoundError, match=f"no run {run_id}"):
            store.get_run(run_id)


@pytest.mark.parametrize("url, needle", [
    ("foo://bar", "'foo' database"),
    ("://", "not a database URL"),
    ("mysql://u:secret@h/d", "SQLite or PostgreSQL"),
    ("postgresql+asyncpg://u@h/d", "psycopg 3"),
])
def test_urls_that_are_not_stores(url: str, needle: str) -> None:
    with pytest.raises(StoreError, match=needle) as info:
        open_store(url)
    assert "secret" not in str(info.value)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    for connection in held:
        connection.close()
    listener.close()


def test_postgres_that_never_answers_times_out(silent_server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARGINCALL_DB_CONNECT_TIMEOUT", "2")
    started = time.monotonic()
    with pytest.raises(StoreError) as info:
        open_store(f"postgresql://nobody@127.0.0.1:{silent_server}/none")
    elapsed = time.monotonic() - started
    assert "connect timeout 2 s" in str(info.value) and "MARGINCALL_DB_CONNECT_TIMEOUT" in str(info.value)
    print(f"a silent PostgreSQL server was given up after {elapsed:.1f} s (connect timeout 2 s)")


def test_postgres_statement_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    admin = os.environ.get("MARGINCALL_TEST_POSTGRES_URL")
    if not admin:
        pytest.skip("MARGINCALL_TEST_POSTGRES_URL is not set: no PostgreSQL to test against (bash .ci/postgres.sh start prints one)")
    monkeypatch.setenv("MARGINCALL_DB_STATEMENT_TIMEOUT", "1")
    from margincall.store._engine import database_errors

    with open_store(admin) as store:
        with store.engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "1s"
        with pytest.raises(StoreError, match="statement timeout") as info:
            with database_errors(store.engine), store.engine.connect() as connection:
                connection.execute(text("SELECT pg_sleep(3)"))
        assert "MARGINCALL_DB_STATEMENT_TIMEOUT" in str(info.value)
    with open_store(admin + "?options=-c%20statement_timeout%3D5000") as store:  # the URL's own setting wins
        with store.engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "5s"
