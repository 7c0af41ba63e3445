"""`margincall monitor`: today's marks applied to a scenario's book, printed, written to
monitor.json and recorded in the store with any alert raised."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table


def register(app: typer.Typer) -> None:
    app.command("monitor")(monitor)


def _pct(x: Any, digits: int = 1) -> str:
    return "-" if x is None else f"{x:.{digits}%}"


def monitor(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file, or the name of a built-in scenario.")],
    marks: Annotated[Path, typer.Option("--marks", help="CSV of today's prices and marks: date,asset,price (of one unit); a one-borrower scenario may give value (the holding's).")],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Date of the monitoring, YYYY-MM-DD; default: the newest date in the marks.")] = None,
    alerts: Annotated[Optional[list[str]], typer.Option("--alert", help="A rule such as 'headroom<10%' or 'p_call_5d>0.05' (repeat).")] = None,
    cash: Annotated[Optional[float], typer.Option("--cash", min=0.0, help="The borrower's cash today; default: the scenario's.")] = None,
    paths: Annotated[int, typer.Option("--paths", "-n", min=1, help="Paths of the 20-day simulation.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, help="Random seed.")] = 0,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write monitor.json into (created if needed).")] = Path("."),
    threads: Annotated[Optional[int], typer.Option("--threads", min=1, help="Threads (default: all cores).")] = None,
    db: Annotated[Optional[str], typer.Option("--db", envvar="MARGINCALL_DB", help="Run store URL or SQLite file.")] = None,
    store: Annotated[bool, typer.Option("--store/--no-store", help="Record the state and alerts in the run store.")] = True,
) -> None:
    """Today's LTV, headroom to the call and liquidation levels (in % and daily σ), open calls, what
    falls due in 30 days, and P(call) and P(default) within 1, 5 and 20 trading days, per loan."""
    from margincall.analysis.daily import daily_monitor
    from margincall.analysis.files import read_text
    from margincall.analysis.marks import MarksError, read_marks
    from margincall.cli.main import _fail, _load, console, err_console
    from margincall.errors import MarginCallError
    from margincall.model.limits import LimitError
    from margincall.store import StoreError

    try:
        model = _load(scenario)
        # the one reader of user files: a FIFO or /dev/zero is refused, the size is bounded before reading
        text = read_text(marks, bound="prices_bytes")
        date = None
        if as_of is not None:
            try:
                date = dt.date.fromisoformat(as_of)
            except ValueError:
                raise MarksError(f"--as-of '{as_of}' is not a date; write YYYY-MM-DD") from None
        from margincall.cli.main import _progress
        from margincall.store import open_store

        with contextlib.ExitStack() as stack:
            # the store is opened before simulating, as `run` does: a bad or damaged store fails first
            run_store = stack.enter_context(open_store(db)) if store else None
            with _progress() as bar:
                task = bar.add_task("simulating", total=paths)
                report = daily_monitor(model, read_marks(text, source=str(marks)), as_of=date, rules=alerts or [], paths=paths,
                                       seed=seed, cash=cash, threads=threads,
                                       progress=lambda done, total: bar.update(task, completed=done))
            data = report.to_dict()
            for table in monitor_tables(data):
                console.print(table)
            for note in data["notes"]:
                console.print(f"note: {note}", highlight=False, markup=False)
            for alert in data["alerts"]:
                err_console.print(f"ALERT {alert['loan']}: {alert['rule']} (value {alert['value']:.4g}) at {alert['raised_at']}",
                                  highlight=False, markup=False)
            out.mkdir(parents=True, exist_ok=True)
            path = out / "monitor.json"
            path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
            console.print(f"wrote {path}", highlight=False, markup=False)
            if run_store is not None:
                record = run_store.monitors.record(data["scenario"], report.as_of, data, data["alerts"])
                console.print(f"stored as monitoring {record.id} in {run_store.url}", highlight=False, markup=False)
    except (MarginCallError, LimitError, StoreError, OSError) as exc:
        _fail(exc)


def monitor_tables(data: dict[str, Any]) -> list[Table]:
    cur = data["currency"]
    loans = Table(title=f"{data['scenario']} as of {data['as_of']} (day {data['day']}; {data['paths']:,} paths, seed {data['seed']}; {cur})")
    for column in ("loan", "borrower", "LTV", "call / liq.", "headroom to call", "to liquidation", "open call", "P(call) 1/5/20 d", "P(default) 1/5/20 d"):
        loans.add_column(column, justify="left" if column in ("loan", "borrower", "open call") else "right")
    rows = sorted(data["loans"].items(), key=lambda kv: (kv[1]["headroom_call"] is None, kv[1]["headroom_call"] or 0.0))
    for loan_id, r in rows:
        def headroom(fall: Any, sigma: Any) -> str:
            return "-" if fall is None else _pct(fall) + ("" if sigma is None else f" ({sigma:.1f} σ)")

        call = r.get("open_call")
        loans.add_row(
            loan_id, r["borrower"], _pct(r["ltv"]),
            "-" if r["margin_call_ltv"] is None else f"{r['margin_call_ltv']:.0%} / {r['liquidation_ltv']:.0%}",
            headroom(r["headroom_call"], r["headroom_call_sigma"]),
            headroom(r["headroom_liquidation"], r["headroom_liquidation_sigma"]),
            "-" if call is None else f"since {call['opened']}, cure by {call['deadline']}" + (" (OVERDUE)" if call["overdue"] else ""),
            " / ".join(_pct(r.get(f"p_call_{h}d"), 2) for h in (1, 5, 20)) if r["secured"] else "unsecured",
            " / ".join(_pct(r.get(f"p_default_{h}d"), 2) for h in (1, 5, 20)),
        )
    due = Table(title="Due in the next 30 days")
    for column in ("date", "what", "loan", "borrower", f"amount ({cur})"):
        due.add_column(column, justify="right" if column.startswith("amount") else "left")
    from margincall.cli.render import money

    for d in data["due_30d"]:
        due.add_row(d["date"], d["kind"] + (f": {d['label']}" if d["label"] else ""), d["loan"] or "-", d["borrower"], money(d["amount"]))
    return [loans, due]
