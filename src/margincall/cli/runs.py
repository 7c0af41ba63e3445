"""Commands over the run store: runs, show, compare."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

DbOpt = Annotated[
    Optional[str],
    typer.Option("--db", envvar="MARGINCALL_DB", help="Run store URL or SQLite file (default: the user's data folder)."),
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("runs")(runs)
    app.command("show")(show)
    app.command("compare")(compare)


def runs(
    scenario: Annotated[Optional[str], typer.Option("--scenario", help="Only runs of this scenario name.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Most runs to list.")] = 50,
    status: Annotated[Optional[str], typer.Option(help="Only runs with this status: running, complete or failed.")] = None,
    db: DbOpt = None,
) -> None:
    """List stored runs, newest first."""
    from margincall.cli.main import _fail, console
    from margincall.errors import MarginCallError
    from margincall.store import StoreError, open_store

    try:
        with open_store(db) as store:
            rows = store.list_runs(scenario=scenario, limit=limit, status=status)
    except (StoreError, MarginCallError, ValueError) as exc:
        _fail(exc)
    table = Table(title=f"Runs ({len(rows)})")
    for column in ("id", "scenario", "status", "seed", "paths", "version", "started (UTC)", "seconds", "error"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r.id), r.scenario_name, r.status, str(r.seed), f"{r.paths:,}", r.version,
            r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            "-" if r.elapsed_seconds is None else f"{r.elapsed_seconds:.1f}",
            (r.error or "")[:60],
        )
    console.print(table)


def show(
    run_id: Annotated[int, typer.Argument(help="Run id (see `margincall runs`).")],
    report: Annotated[Optional[Path], typer.Option("--report", help="Re-write the run's report.html (and result.json) into this folder.")] = None,
    db: DbOpt = None,
) -> None:
    """Print a stored run's summary; --report re-writes its HTML report."""
    from margincall.cli.main import _fail, console
    from margincall.cli.render import print_result
    from margincall.errors import MarginCallError
    from margincall.report import write_report
    from margincall.store import StoreError, open_store

    try:
        with open_store(db) as store:
            record = store.get_run(run_id)
        console.print(
            f"run {record.id}: {record.scenario_name} ({record.status}), seed {record.seed}, "
            f"{record.paths:,} paths, margincall {record.version}, started {record.started_at:%Y-%m-%d %H:%M:%S} UTC"
        )
        if record.error:
            console.print(f"error: {record.error}", markup=False)
        if record.result is None:
            return
        result = record.result_object()
        print_result(console, result)
        if report is not None:
            report.mkdir(parents=True, exist_ok=True)
            result.write_json(report / "result.json")
            path = write_report(result, record.scenario(), report / "report.html", scenario_text=record.scenario_text)
            console.print(f"wrote {path}")
    except (StoreError, MarginCallError, OSError) as exc:
        _fail(exc)


def compare(
    first: Annotated[int, typer.Argument(help="Run id A.")],
    second: Annotated[int, typer.Argument(help="Run id B.")],
    db: DbOpt = None,
) -> None:
    """Two runs side by side: each metric, B - A, and whether it exceeds the combined standard error."""
    from margincall.cli.main import _fail, console, err_console
    from margincall.cli.render import money
    from margincall.errors import MarginCallError
    from margincall.store import StoreError, open_store

    try:
        with open_store(db) as store:
            a, b = store.get_run(first), store.get_run(second)
            rows = store.compare(first, second)
    except (StoreError, MarginCallError) as exc:
        _fail(exc)
    if a.scenario_hash != b.scenario_hash:
        err_console.print("note: the two runs used different scenario texts")
    table = Table(title=f"Run {first} (A) vs run {second} (B)")
    for column in ("", "metric", "A", "B", "B - A", "± SE", "beyond SE"):
        table.add_column(column)

    def fmt(metric: str, x: float | None) -> str:
        if x is None:
            return "-"
        return f"{x:.4%}" if metric.startswith("p_") else money(x)

    for r in rows:
        flag = "" if r.significant is None else ("yes" if r.significant else "no")
        table.add_row(r.subject, r.metric, fmt(r.metric, r.a), fmt(r.metric, r.b), fmt(r.metric, r.difference),
                      fmt(r.metric, r.combined_se), flag)
    console.print(table)
