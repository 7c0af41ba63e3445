"""The service's commands: token create (printed once, stored hashed), list, revoke; monitor."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from typer.testing import CliRunner

from margincall.cli.main import app
from margincall.store import open_store, token_hash

runner = CliRunner()
DATA = Path(__file__).resolve().parents[1] / "store" / "data"


def test_token_create_list_revoke(tmp_path):
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    created = runner.invoke(app, ["token", "create", "--name", "desk", "--read-only", "--db", db])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[0]
    assert secret.startswith("mc_")
    with open_store(db) as store:
        info = store.tokens.authenticate(secret)
        assert info is not None and info.read_only
        raw = store.engine.connect().exec_driver_sql("SELECT token_hash FROM tokens").scalar_one()
    assert raw == token_hash(secret) and secret not in (tmp_path / "runs.db").read_bytes().decode("latin-1")
    again = runner.invoke(app, ["token", "create", "--name", "desk", "--db", db])
    assert again.exit_code == 2 and "exists already" in again.output
    listed = runner.invoke(app, ["token", "list", "--db", db])
    assert "desk" in listed.output and "read-only" in listed.output and secret not in listed.output
    revoked = runner.invoke(app, ["token", "revoke", "desk", "--db", db])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    with open_store(db) as store:
        assert store.tokens.authenticate(secret) is None
    assert runner.invoke(app, ["token", "revoke", "nobody", "--db", db]).exit_code == 2


def test_monitor_command(tmp_path):
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    marks = tmp_path / "marks.csv"
    marks.write_text("date,asset,value\n2026-11-30,acme,75\n2026-09-30,co,50\n", encoding="utf-8")
    result = runner.invoke(app, ["monitor", str(DATA / "single.yaml"), "--marks", str(marks), "--alert", "headroom<10%",
                                 "--alert", "ltv>0.9", "--paths", "500", "--out", str(tmp_path / "out"), "--db", db])
    assert result.exit_code == 0, result.output
    assert "acme-loan" in result.output and "ALERT acme-loan: headroom<10%" in result.output
    data = json.loads((tmp_path / "out" / "monitor.json").read_text(encoding="utf-8"))
    assert data["loans"]["acme-loan"]["ltv"] == 50.0 / 75.0
    assert [a["rule"] for a in data["alerts"]] == ["headroom<10%"]
    with open_store(db) as store:
        state = store.monitors.latest()
        assert state is not None and state.state["as_of"] == "2026-11-30"
        assert [a.rule for a in store.monitors.alerts()] == ["headroom<10%"]


def test_monitor_bad_input_exits_2(tmp_path):
    marks = tmp_path / "marks.csv"
    marks.write_text("date,asset,value\n2026-11-30,acme,abc\n", encoding="utf-8")
    result = runner.invoke(app, ["monitor", str(DATA / "single.yaml"), "--marks", str(marks), "--no-store", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "line 2, column value" in result.output
    missing = runner.invoke(app, ["monitor", str(DATA / "single.yaml"), "--marks", str(tmp_path / "none.csv"), "--no-store"])
    assert missing.exit_code == 2 and "none.csv: not found" in missing.output


def test_monitor_reads_marks_as_a_regular_file_only(tmp_path, monkeypatch):
    """The marks go through the one reader of user files: a FIFO does not block, /dev/zero does
    not fill memory, a file over the prices bound is refused before it is read."""
    fifo = tmp_path / "marks.fifo"
    os.mkfifo(fifo)
    for marks, needle in ((fifo, "named pipe (FIFO)"), (Path("/dev/zero"), "character device")):
        result = runner.invoke(app, ["monitor", str(DATA / "single.yaml"), "--marks", str(marks), "--no-store", "--out", str(tmp_path)])
        assert result.exit_code == 2, result.output
        assert needle in result.output and "Traceback" not in result.output
    big = tmp_path / "big.csv"
    big.write_text("date,asset,value\n" + "2026-11-30,acme,70\n" * 100, encoding="utf-8")
    monkeypatch.setenv("MARGINCALL_MAX_PRICES_BYTES", "1000")
    result = runner.invoke(app, ["monitor", str(DATA / "single.yaml"), "--marks", str(big), "--no-store", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "MARGINCALL_MAX_PRICES_BYTES" in result.output
    monkeypatch.setenv("MARGINCALL_MAX_PRICES_BYTES", "lots")
    result = runner.invoke(app, ["monitor", str(DATA / "single.yaml"), "--marks", str(big), "--no-store", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "MARGINCALL_MAX_PRICES_BYTES='lots'" in result.output
    assert not (tmp_path / "monitor.json").exists()


def test_serve_refuses_bad_settings_before_it_starts(tmp_path, monkeypatch):
    """A bad store, a malformed or unreachable scheduler or a bad setting is one `error:` line and
    exit 2 before the server starts (not a traceback from uvicorn's start-up); the damaged store is left as it was."""
    damaged = tmp_path / "runs.db"
    damaged.write_bytes(b"not a database, but the user's data")
    cases = [
        (["--db", "foo://bar"], "is a 'foo' database"),
        (["--db", str(damaged)], "is not a SQLite database"),
        (["--db", str(tmp_path / "ok.db"), "--scheduler", "notaurl"], "lacks a host and a port"),
    ]
    for args, needle in cases:
        result = runner.invoke(app, ["serve", "--port", "0", *args])
        assert result.exit_code == 2, result.output
        assert needle in result.output and result.output.startswith("error:"), result.output
    assert damaged.read_bytes() == b"not a database, but the user's data"
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MARGINCALL_DASK_TIMEOUT", "1")
    result = runner.invoke(app, ["serve", "--port", "0", "--db", str(tmp_path / "ok.db"), "--scheduler", f"tcp://127.0.0.1:{port}"])
    assert result.exit_code == 2 and "cannot reach the Dask scheduler" in result.output and "within 1 s" in result.output
    monkeypatch.setenv("MARGINCALL_MAX_PATHS", "lots")
    result = runner.invoke(app, ["serve", "--port", "0", "--db", str(tmp_path / "ok.db")])
    assert result.exit_code == 2 and "MARGINCALL_MAX_PATHS: Input should be a valid integer" in result.output
    assert "'lots'" in result.output


def test_monitor_opens_the_store_before_simulating(tmp_path):
    """As `run` does: a damaged store is exit 2 before anything is simulated or written."""
    marks = tmp_path / "marks.csv"
    marks.write_text("date,asset,value\n2026-11-30,acme,70\n2026-11-30,co,40\n", encoding="utf-8")
    damaged = tmp_path / "runs.db"
    damaged.write_text("hello\n", encoding="utf-8")
    result = runner.invoke(app, ["monitor", str(DATA / "single.yaml"), "--marks", str(marks), "--db", str(damaged),
                                 "--out", str(tmp_path / "out"), "--paths", "64"])
    assert result.exit_code == 2 and "is not a SQLite database" in result.output, result.output
    assert "simulating" not in result.output and not (tmp_path / "out" / "monitor.json").exists()
    assert damaged.read_text(encoding="utf-8") == "hello\n"
