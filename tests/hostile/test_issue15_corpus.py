"""Issue 15's regression corpus: every hostile case it lists, one test each.

Cases that the scenario schema must still learn to refuse (the bounds on counts of entities and
on id lengths) are marked `xfail(strict=True, reason="schema bounds: ...")`: a strict mark turns
into a failure the moment the schema refuses them, and is then removed.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_support import (
    BASE,
    EXE,
    assert_clean_error,
    assert_refused_or_runs,
    check_then_run,
    cli,
    cli_process,
    write,
)


def sub(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def with_flows(*flows: str) -> str:
    return sub("  cash_reserve: 2.0\n", "  cash_reserve: 2.0\n  cash_flows:\n" + "".join(f"    - {f}\n" for f in flows))


# -- silently wrong ------------------------------------------------------------------------------

# (field, where its text is in the base scenario, its path in messages)
FIELDS = {
    "value": ("value: 100.0", "value: {}", "assets.acme.value"),
    "volatility": ("volatility: 0.30", "volatility: {}", "assets.acme.volatility"),
    "drift": ("drift: 0.05", "drift: {}", "assets.acme.drift"),
    "rate": ("rate: 0.06", "rate: {}", "loans.acme-loan.rate"),
    "principal": ("principal: 50.0", "principal: {}", "loans.acme-loan.principal"),
    "cash": ("cash: 10.0", "cash: {}", "borrower.cash"),
    "jump mean": ("mean: -0.6", "mean: {}", "assets.co.jumps.mean"),
}
NUMBER_CASES = [
    pytest.param(field, value, id=f"{field}={value}") for field in FIELDS for value in (".inf", "-.inf", ".nan", "1e308", "5e-324")
]


@pytest.mark.parametrize("field, value", NUMBER_CASES)
def test_extreme_numbers(tmp_path: Path, field: str, value: str) -> None:
    """A value that is not finite is refused by check naming the field; an extreme finite one is
    refused, or runs to finite results."""
    old, new, where = FIELDS[field]
    text = sub(old, new.format(value))
    if value in (".inf", "-.inf", ".nan"):
        checked = cli("check", write(tmp_path, text))
        assert_clean_error(checked, where)
    else:
        assert_refused_or_runs(tmp_path, text, where)


def test_nan_cash_flow_amount(tmp_path: Path) -> None:
    assert_clean_error(cli("check", write(tmp_path, with_flows("{day: 30, amount: .nan}"))), "borrower.cash_flows.0.amount")


def test_duplicate_loan_field_names_both_lines(tmp_path: Path) -> None:
    text = sub("    principal: 50.0\n", "    principal: 50.0\n    principal: 60.0\n")
    assert_clean_error(cli("check", write(tmp_path, text)), "loans.acme-loan.principal", "lines 20 and 21")


def test_asset_defined_twice(tmp_path: Path) -> None:
    text = sub("correlation:", "  acme: {kind: public, value: 1.0, volatility: 0.1, adv: 1.0}\ncorrelation:")
    assert_clean_error(cli("check", write(tmp_path, text)), "assets.acme", "lines 4 and 9")


def test_cash_flow_after_the_horizon_is_refused_like_a_shock(tmp_path: Path) -> None:
    assert_clean_error(cli("check", write(tmp_path, with_flows("{day: 300, amount: -5.0}"))), "borrower.cash_flows.0.day")


def test_shock_after_the_horizon_is_refused(tmp_path: Path) -> None:
    text = sub("{day: 0, asset: co, change: -0.4}", "{day: 300, asset: co, change: -0.4}")
    assert_clean_error(cli("check", write(tmp_path, text)), "shocks.0.day", "after the horizon")


def test_yes_for_a_number(tmp_path: Path) -> None:
    assert_clean_error(cli("check", write(tmp_path, sub("value: 100.0", "value: yes"))), "assets.acme.value", "write true or false")


def test_yes_for_a_switch(tmp_path: Path) -> None:
    assert_clean_error(cli("check", write(tmp_path, sub("recourse: false", "recourse: yes"))), "loans.acme-loan.recourse")


@pytest.mark.parametrize("old, new, where", [
    ("horizon_days: 252", 'horizon_days: "252"', "horizon_days"),
    ("cash_reserve: 2.0", 'cash_reserve: "2.0"', "borrower.cash_reserve"),
    ("recourse: false", 'recourse: "yes"', "loans.acme-loan.recourse"),
    ("term_days: 504", "term_days: 504.0", "loans.acme-loan.term_days"),
], ids=["int-as-text", "number-as-text", "switch-as-text", "int-as-float"])
def test_strict_types(tmp_path: Path, old: str, new: str, where: str) -> None:
    assert_clean_error(cli("check", write(tmp_path, sub(old, new))), where)


@pytest.mark.parametrize("loan_id", ["[blink red]loan[/]", "[/x]", "loan:smile:", "x\x1b[2Jy"])
def test_markup_in_an_id_is_shown_literally(tmp_path: Path, loan_id: str) -> None:
    text = sub("  acme-loan:\n", f"  {loan_id!r}:\n".replace("'", '"') if "\x1b" not in loan_id else '  "x\\e[2Jy":\n')
    checked = cli("check", write(tmp_path, text))
    if checked.code == 2:  # a schema that restricts ids refuses it, naming the field
        assert_clean_error(checked, "loans")
        return
    shown = loan_id.replace("\x1b", "\\x1b")
    assert checked.code == 0 and shown in checked.output and "\x1b[2J" not in checked.stdout


# -- passes check, then crashes run ---------------------------------------------------------------


@pytest.mark.parametrize("old, new, where", [
    ("every_days: 63", "every_days: 1e21", "assets.co.marks.every_days"),
    ("    recourse: false\n", "    recourse: false\n    interest_every_days: 1e20\n", "loans.acme-loan.interest_every_days"),
], ids=["every_days=1e21", "interest_every_days=1e20"])
def test_huge_day_counts(tmp_path: Path, old: str, new: str, where: str) -> None:
    assert_clean_error(cli("check", write(tmp_path, sub(old, new))), where)


@pytest.mark.parametrize("value", ["1000000000", str(2**70)], ids=["1e9", "2**70"])
def test_term_days_beyond_the_horizon_bound(tmp_path: Path, value: str) -> None:
    """Only check is run: a run would try to allocate gigabytes."""
    assert_clean_error(cli("check", write(tmp_path, sub("term_days: 504", f"term_days: {value}"))), "loans.acme-loan.term_days",
                       "MARGINCALL_MAX_HORIZON_DAYS")


def test_nan_drift_without_store_or_out_is_not_an_answer(tmp_path: Path) -> None:
    path = write(tmp_path, sub("drift: 0.05", "drift: .nan"))
    assert_clean_error(cli("run", path, "--paths", "64", "--no-store"), "assets.acme.drift")


# -- tracebacks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("nested", ["[" * 3000 + "]" * 3000, "{a: " * 3000 + "1" + "}" * 3000])
def test_deeply_nested_yaml(tmp_path: Path, nested: str) -> None:
    assert_clean_error(cli("check", write(tmp_path, BASE + f"description: {nested}\n")), "nesting")


def test_impossible_date(tmp_path: Path) -> None:
    text = sub("horizon_days: 252", "horizon_days: 252\nstart_date: 2026-02-30")
    assert_clean_error(cli("check", write(tmp_path, text)), "2026-02-30", "not a valid date")


def test_dev_zero_as_the_scenario() -> None:
    done = cli_process("check", "/dev/zero", timeout=120)
    assert done.returncode == 2 and "character device" in done.stderr and "Traceback" not in done.stderr


def test_dev_zero_as_a_prices_file(tmp_path: Path) -> None:
    text = BASE + "market: {model: historical, prices: /dev/zero}\n"
    assert_clean_error(cli("check", write(tmp_path, text)), "market.prices", "character device")
    done = cli_process("calibrate", "/dev/zero", timeout=120)
    assert done.returncode == 2 and "character device" in done.stderr and "Traceback" not in done.stderr


def test_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    assert_clean_error(cli("check", tmp_path / "a.yaml"), "loops")


def test_300_character_file_name(tmp_path: Path) -> None:
    assert_clean_error(cli("check", tmp_path / ("s" * 300 + ".yaml")), "too long")
    assert_clean_error(cli("check", "s" * 300), "too long")


def test_markup_id_stored_then_listed_and_shown(tmp_path: Path) -> None:
    """A run whose names are rich markup is stored complete; run, show and runs all work after it."""
    text = sub("name: single-stock", 'name: "[bold]x[/bold] [/y]"')
    text = sub("  acme-loan:\n", '  "[/x]":\n', text)
    text = text.replace("lender: bank-a", 'lender: "[blink red]bank[/]"')
    path = write(tmp_path, text)
    ran = cli("run", path, "--paths", "64", "--label", "[/label]")
    assert ran.code == 0, ran.output
    assert "[/x]" in ran.stdout and "stored as run 1" in ran.stdout
    listed = cli("runs")
    assert listed.code == 0 and "[bold]x[/bold] [/y]" in listed.stdout and "[/label]" in listed.stdout
    shown = cli("show", "1")
    assert shown.code == 0 and "[/x]" in shown.stdout
    again = cli("run", path, "--paths", "64")
    assert again.code == 0 and "stored as run 2" in again.stdout
    compared = cli("compare", "1", "2")
    assert compared.code == 0 and "[/x]" in compared.stdout


def _store(path: Path, runs: int = 12) -> None:
    """A store with some runs (the result padded so that it spans pages), folded into one file."""
    from margincall.store import open_store

    with open_store(path) as store:
        for i in range(runs):
            run_id = store.start_run("s", f"name: s{i}\n" + "# pad\n" * 300, i, 10, "v")
            store.finish_run(run_id, {"loans": {"l": {"p_default": 0.1, "p_default_se": 0.01}}, "pad": "y" * 5000})
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _truncated(fraction: float):
    def make(path: Path) -> None:
        _store(path)
        data = path.read_bytes()
        path.write_bytes(data[: max(100, int(len(data) * fraction))])
    return make


def _overwritten(start: int):
    def make(path: Path) -> None:
        _store(path)
        data = bytearray(path.read_bytes())
        data[start:] = random.Random(start).randbytes(len(data) - start)
        path.write_bytes(bytes(data))
    return make


def _other_app(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT)")


def _foreign_runs(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE runs (id TEXT)")


def _header_only(path: Path) -> None:
    _store(path)
    path.write_bytes(path.read_bytes()[:100])


DAMAGED = {
    "random-100-bytes": lambda p: p.write_bytes(random.Random(1).randbytes(100)),
    "random-4-kib": lambda p: p.write_bytes(random.Random(2).randbytes(4096)),
    "random-1-mib": lambda p: p.write_bytes(random.Random(3).randbytes(1 << 20)),
    "yaml-text": lambda p: p.write_text(BASE, encoding="utf-8"),
    "csv-text": lambda p: p.write_text("date,a\n2020-01-01,1\n" * 100, encoding="utf-8"),
    "zeros": lambda p: p.write_bytes(b"\x00" * 8192),
    "header-only": _header_only,
    "truncated-1%": _truncated(0.01),
    "truncated-10%": _truncated(0.10),
    "truncated-25%": _truncated(0.25),
    "truncated-50%": _truncated(0.50),
    "truncated-75%": _truncated(0.75),
    "truncated-95%": _truncated(0.95),
    "pages-overwritten-after-the-first": _overwritten(4096),
    "first-page-overwritten-after-the-header": _overwritten(100),
    "another-apps-database": _other_app,
    "foreign-runs-table": _foreign_runs,
    "a-folder": lambda p: p.mkdir(),
}


@pytest.mark.parametrize("damage", list(DAMAGED))
def test_damaged_or_foreign_store(tmp_path: Path, damage: str) -> None:
    """One clear message naming the file for every command that opens the store; the file is left
    as it was (never re-initialised over the user's data)."""
    path = tmp_path / "runs.db"
    DAMAGED[damage](path)
    before = path.read_bytes() if path.is_file() else None
    scenario = write(tmp_path, BASE)
    for args in (("runs",), ("show", "1"), ("compare", "1", "2"), ("run", scenario, "--paths", "64")):
        outcome = cli(*args, "--db", path)
        assert outcome.crashed is None, f"{args}: {outcome.crashed!r}"
        assert "Traceback" not in outcome.output
        if outcome.code == 0:
            assert damage.startswith("truncated-9") or damage.startswith("truncated-7"), f"{args} read a {damage} store"
            continue
        assert outcome.code == 2, f"{args}: {outcome.output}"
        assert str(path) in outcome.output, f"{args}: the message does not name the file: {outcome.output}"
        assert any(word in outcome.output for word in ("--db", "mv ", ".recover", "another application", "folder")), outcome.output
    if before is not None and damage != "truncated-95%":
        assert path.read_bytes() == before, "a store that was refused was written to"


def _failed_and_running(tmp_path: Path) -> None:
    from margincall.store import open_store

    with open_store(os.environ["MARGINCALL_DB"]) as store:
        done = store.start_run("s", BASE, 1, 10, "v")
        store.finish_run(done, {"loans": {"l": {"p_default": 0.1, "p_default_se": 0.01}}})
        failed = store.start_run("s", BASE, 2, 10, "v")
        store.fail_run(failed, "boom")
        store.start_run("s", BASE, 3, 10, "v")


@pytest.mark.parametrize("a, b, needle", [
    ("1", "2", "run 2 is failed: it has no result to compare"),
    ("3", "1", "run 3 is running: it has no result to compare"),
    ("1", "99", "no run 99"),
    ("1", str(2**70), f"no run {2**70}"),
])
def test_compare_failed_running_and_missing_runs(tmp_path: Path, a: str, b: str, needle: str) -> None:
    _failed_and_running(tmp_path)
    assert_clean_error(cli("compare", a, b), needle)


def test_show_failed_running_and_missing_runs(tmp_path: Path) -> None:
    _failed_and_running(tmp_path)
    failed = cli("show", "2")
    assert failed.code == 0 and "(failed)" in failed.stdout and "why it failed: boom" in failed.stdout
    running = cli("show", "3")
    assert running.code == 0 and "(running)" in running.stdout
    assert_clean_error(cli("show", "2", "--report", tmp_path / "r"), "run 2 failed: it has no result")
    assert_clean_error(cli("show", "3", "--json"), "still running")
    assert_clean_error(cli("show", str(2**70)), f"no run {2**70}")
    assert_clean_error(cli("show", "0"), "run_id")


@pytest.mark.parametrize("value", ["1e20", str(10**20), "-5", "0"])
def test_absurd_path_counts(tmp_path: Path, value: str) -> None:
    assert_clean_error(cli("run", write(tmp_path, BASE), "--paths", value, "--no-store"), "--paths")


def test_path_count_above_the_bound_names_it(tmp_path: Path) -> None:
    outcome = cli("run", write(tmp_path, BASE), "--paths", str(10**10), "--no-store")
    assert_clean_error(outcome, "--paths", "above the bound of 1,000,000,000 paths per run", "MARGINCALL_MAX_PATHS=10000000000")


@pytest.mark.parametrize("args, needle", [
    (("--seed", str(2**70)), "--seed"),
    (("--trace", str(10**6)), "--trace"),
    (("--workers", "100000"), "--workers"),
    (("--label", "x" * 300), "--label"),
], ids=["seed", "trace", "workers", "label"])
def test_other_absurd_options(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    assert_clean_error(cli("run", write(tmp_path, BASE), "--paths", "64", *args), needle)


@pytest.mark.parametrize("args, option", [
    (("reverse", "--asset", "acme", "--target", "p_default>=0.5", "--range", "nan", "0"), "--range"),
    (("reverse", "--asset", "acme", "--target", "p_default>=0.5", "--tolerance", "inf"), "--tolerance"),
    (("size", "--loan", "acme-loan", "--max", "p_default<=0.5", "--range", "1", "inf"), "--range"),
    (("compare", "1", "2", "--sigmas", "nan"), "--sigmas"),
    (("compare", "1", "2", "--sigmas", "0"), "--sigmas"),
], ids=["range-nan", "tolerance-inf", "size-range-inf", "sigmas-nan", "sigmas-zero"])
def test_non_finite_float_options(tmp_path: Path, args: tuple[str, ...], option: str) -> None:
    if args[0] in ("reverse", "size"):
        args = (args[0], str(write(tmp_path, BASE)), *args[1:])
    assert_clean_error(cli(*args), f"Invalid value for '{option}'")


@pytest.mark.parametrize("url, needle", [
    ("foo://bar", "'foo' database"),
    ("://", "not a database URL"),
    ("postgresql+asyncpg://u@localhost/d", "psycopg"),
])
def test_bad_store_url(tmp_path: Path, url: str, needle: str) -> None:
    for args in (("run", write(tmp_path, BASE), "--paths", "64"), ("runs",)):
        assert_clean_error(cli(*args, "--db", url), needle)


def test_bad_scheduler_address_is_one_clean_message(tmp_path: Path) -> None:
    done = cli_process("run", write(tmp_path, BASE), "--paths", "64", "--scheduler", "notaurl", timeout=120)
    assert done.returncode == 2
    assert "lacks a host and a port" in done.stderr and done.stderr.count("error:") == 1
    assert "Traceback" not in done.stderr and "TimeoutError" not in done.stderr


@pytest.mark.slow
def test_unreachable_scheduler_is_one_clean_message(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = cli_process("run", write(tmp_path, BASE), "--paths", "64", "--scheduler", f"tcp://127.0.0.1:{port}",
                       env={"MARGINCALL_DASK_TIMEOUT": "2"}, timeout=120)
    assert done.returncode == 2 and "cannot reach the Dask scheduler" in done.stderr and "within 2 s" in done.stderr
    assert "Traceback" not in done.stderr


# -- unbounded ------------------------------------------------------------------------------------


def test_50_mb_scenario_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    flow = "    - {day: 1, amount: -1.0}\n"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(with_flows("{day: 1, amount: -1.0}"))
        handle.write(flow * (50_000_000 // len(flow)))
    assert_clean_error(cli("check", path), "above the bound of 10,000,000 bytes", "MARGINCALL_MAX_FILE_BYTES")


@pytest.mark.slow
def test_many_cash_flows_under_the_size_bound(tmp_path: Path) -> None:
    """9.5 MB of cash flows: refused by the bound on values in a document, not parsed for minutes."""
    flow = "    - {day: 1, amount: -1.0}\n"
    text = sub("  cash_reserve: 2.0\n", "  cash_reserve: 2.0\n  cash_flows:\n" + flow * (9_500_000 // len(flow)))
    assert 9_000_000 < len(text) < 10_000_000
    assert_clean_error(cli("check", write(tmp_path, text)), "MARGINCALL_MAX_YAML_NODES")


@pytest.mark.slow
@pytest.mark.parametrize("what", ["assets", "loans", "shocks", "cash_flows", "name"])
def test_counts_beyond_their_bounds(tmp_path: Path, what: str) -> None:
    if what == "assets":
        extra = "".join(f"  extra{i}: {{kind: public, value: 1.0, volatility: 0.1, adv: 1.0}}\n" for i in range(1001))
        text = sub("correlation:", extra + "correlation:")
        where = "assets"
    elif what == "loans":
        extra = "".join(f"  unsecured{i}: {{principal: 1.0, rate: 0.05, term_days: 100}}\n" for i in range(1001))
        text = BASE + extra
        where = "loans"
    elif what == "shocks":
        text = sub("shocks:\n", "shocks:\n" + "  - {day: 1, asset: co, change: -0.01}\n" * 10_001)
        where = "shocks"
    elif what == "cash_flows":
        text = with_flows(*["{day: 1, amount: -0.001}"] * 100_001)
        where = "cash_flows"
    else:
        text = sub("  acme-loan:\n", f"  {'l' * 201}:\n")
        where = "loans"
    assert_clean_error(cli("check", write(tmp_path, text)), where)


def test_shock_spread_past_the_horizon(tmp_path: Path) -> None:
    """Only check is run: a shock spread over a billion days would be lowered day by day."""
    text = sub("{day: 0, asset: co, change: -0.4}", "{day: 0, asset: co, change: -0.4, over_days: 1000000000}")
    assert_clean_error(cli("check", write(tmp_path, text)), "shocks.0.over_days")


def test_reverse_shock_spread_past_the_horizon(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    assert_clean_error(cli("reverse", path, "--asset", "acme", "--target", "p_default>=0.5", "--over-days", "1000000000"),
                       "--over-days", "MARGINCALL_MAX_HORIZON_DAYS")
    assert_clean_error(cli("reverse", path, "--asset", "acme", "--target", "p_default>=0.5", "--over-days", "300", "--no-store"),
                       "ends after the scenario's horizon (252 days)")


def test_horizon_of_ten_million_days(tmp_path: Path) -> None:
    """Only check is run: a run would take hours."""
    assert_clean_error(cli("check", write(tmp_path, sub("horizon_days: 252", "horizon_days: 10000000"))), "horizon_days",
                       "above the bound of 25,200 trading days", "MARGINCALL_MAX_HORIZON_DAYS=10000000")


def _start_run(path: Path, *args: str) -> subprocess.Popen[str]:
    """`margincall run` in a process of its own, returned once it has described the scenario
    (its imports done, about to open the store and simulate)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen([EXE or "margincall", "run", str(path), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
    assert child.stdout is not None
    for line in child.stdout:
        if line.lstrip().startswith("borrower:"):
            return child
    _stop(child)
    raise AssertionError(f"run ended before simulating: {child.stderr.read() if child.stderr else ''}")


def _stop(child: subprocess.Popen[str]) -> None:
    if child.poll() is None:
        child.kill()
    child.wait()


@pytest.mark.slow
def test_ctrl_c_stops_a_run_at_the_longest_horizon(tmp_path: Path) -> None:
    """SIGINT during a run at the horizon bound (100 years): exit 130 well within 10 s (the
    requirement is 1 s; 10 s is only a hang detector), the run recorded as failed."""
    text = sub("term_days: 504", "term_days: 25200", sub("horizon_days: 252", "horizon_days: 25200"))
    child = _start_run(write(tmp_path, text), "--paths", "2000000")
    try:
        time.sleep(5.0)  # well into the first batch of paths
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        child.wait(timeout=300)
        stopped = time.monotonic() - sent
    finally:
        _stop(child)
    print(f"Ctrl-C at the 25,200-day horizon stopped the run in {stopped:.1f} s")
    assert child.returncode == 130
    assert stopped < 10.0
    listed = cli("runs")
    assert "failed" in listed.stdout and "interrupted" in listed.stdout


def test_sweep_of_a_hundred_million_points(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    outcome = cli("sweep", path, "--set", "loans.acme-loan.principal=1:100:10000", "--set", "borrower.cash=1:10:10000", "--no-store")
    assert_clean_error(outcome, "100,000,000", "above the bound of 10,000 points", "MARGINCALL_MAX_SWEEP_POINTS")
    outcome = cli("sweep", path, "--set", "loans.acme-loan.principal=1:100:100000000", "--no-store")
    assert_clean_error(outcome, "above the bound of 10,000 points")


def test_fifo_as_the_scenario_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    done = cli_process("check", fifo, timeout=120)
    assert done.returncode == 2 and "named pipe" in done.stderr and "Traceback" not in done.stderr


@pytest.fixture
def silent_postgres() -> Iterator[str]:
    """A TCP server that accepts connections and never answers, as a PostgreSQL URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"postgresql://nobody@127.0.0.1:{listener.getsockname()[1]}/none"
    stop.set()
    thread.join(5)
    for connection in held:
        connection.close()
    listener.close()


def test_postgres_that_never_answers(tmp_path: Path, silent_postgres: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARGINCALL_DB_CONNECT_TIMEOUT", "2")
    started = time.monotonic()
    outcome = cli("run", write(tmp_path, BASE), "--paths", "64", "--db", silent_postgres)
    assert_clean_error(outcome, "connect timeout 2 s", "MARGINCALL_DB_CONNECT_TIMEOUT")
    print(f"a silent PostgreSQL server was given up after {time.monotonic() - started:.1f} s")


@pytest.mark.slow
@pytest.mark.parametrize("store", [False, True], ids=["no-store", "store"])
def test_interrupt_mentions_recording_only_with_a_store(tmp_path: Path, store: bool) -> None:
    path = write(tmp_path, BASE)
    child = _start_run(path, "--paths", "2000000", *([] if store else ["--no-store"]))  # batches of 20,480 paths
    try:
        time.sleep(2.0)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=300)
    finally:
        _stop(child)
    assert child.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert ("recorded as failed" in err) == store


# -- environment ----------------------------------------------------------------------------------


def test_home_that_cannot_be_written(tmp_path: Path) -> None:
    env = {"HOME": "/proc/margincall-home-that-cannot-exist", "XDG_CACHE_HOME": "", "XDG_DATA_HOME": ""}
    helped = cli_process("--help", env=env, timeout=300)
    assert helped.returncode == 0 and "Usage" in helped.stdout
    checked = cli_process("check", write(tmp_path, BASE), env=env, timeout=300)
    assert checked.returncode == 0 and "valid" in checked.stdout, checked.stderr


# -- the property itself on the base and each built-in scenario ----------------------------------


def test_the_base_scenario_runs(tmp_path: Path) -> None:
    checked, ran = check_then_run(tmp_path, BASE)
    assert checked.code == 0 and ran is not None and ran.code == 0


def test_hostile_names_are_escaped_in_the_html_report(tmp_path: Path) -> None:
    import re

    text = sub("name: single-stock", 'name: "<script>alert(1)</script>"\ndescription: "<img src=x onerror=alert(2)>"')
    text = sub("  acme-loan:\n", '  "</script><b>loan":\n', text)
    text = text.replace("lender: bank-a", 'lender: "<iframe src=javascript:alert(3)>"')
    ran = cli("run", write(tmp_path, text), "--paths", "64", "--out", tmp_path / "out", "--label", "<b>label</b>")
    assert ran.code == 0, ran.output
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    outside_scripts = re.sub(r"<script\b[^>]*>.*?</script>", "", html, flags=re.S | re.I)
    for raw in ("<script>alert(1)", "<img src=x", "<iframe", "<b>loan"):
        assert raw not in outside_scripts, f"{raw!r} is in the report's HTML unescaped"
    assert "</script><b>loan" not in html  # not even inside a script, where it would end the script


def test_a_run_stored_by_another_layout_can_still_be_shown(tmp_path: Path) -> None:
    """A result written by an older margincall (one `borrower`, no `borrowers`) is listed and shown;
    only its report cannot be rebuilt."""
    from margincall.store import open_store

    with open_store(os.environ["MARGINCALL_DB"]) as store:
        old = store.start_run("old", BASE, 1, 10, "0.0.1")
        store.finish_run(old, {"loans": {"l": {"p_default": 0.1, "p_default_se": 0.01}}, "borrower": {"p_default": 0.2, "p_default_se": 0.02}})
    listed = cli("runs")
    assert listed.code == 0 and "l P(default) 10.00% ± 1.00%" in listed.output
    shown = cli("show", "1")
    assert shown.code == 0 and "another layout" in shown.output and "--json" in shown.output
    assert_clean_error(cli("show", "1", "--report", tmp_path / "r"), "cannot be turned into a report")
    assert cli("show", "1", "--json").code == 0
