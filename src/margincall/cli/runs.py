"""Commands over the run store: runs, show, compare."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.table import Table

from margincall.cli.options import DbOpt, positive

if TYPE_CHECKING:
    from margincall.store import ComparisonRow, Figure, RunRecord, RunSummary

RunIdArg = Annotated[int, typer.Argument(min=1, help="Run id (see `margincall runs`).")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("runs")(runs)
    app.command("show")(show)
    app.command("compare")(compare)


def _figure_text(figure: Figure) -> str:
    from margincall.cli.render import money
    from margincall.store._figures import shown

    if figure.metric == "shock" and figure.value is not None:
        return f"{figure.value:+.2%}"
    return shown(figure, money=money)


def headline_text(figures: tuple[Figure, ...] | list[Figure]) -> str:
    """Headline figures on one line: `acme-loan P(call) 12.30% ± 0.10%, P(default) ...; borrower P(default) ...`."""
    parts: list[str] = []
    last_entity: tuple[str, ...] | None = None
    for f in figures:
        entity = f.path[:-1]
        name = f.label if entity != last_entity else f.label.removeprefix(f"{f.path[-2]} ") if len(f.path) >= 2 else f.label
        parts.append(("; " if parts and entity != last_entity else ", " if parts else "") + f"{name} {_figure_text(f)}")
        last_entity = entity
    return "".join(parts) or "-"


def runs(
    scenario: Annotated[Optional[str], typer.Option("--scenario", help="Only runs of this scenario name.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Most runs to list.")] = 50,
    status: Annotated[Optional[str], typer.Option(help="Only runs with this status: running, complete or failed.")] = None,
    command: Annotated[Optional[str], typer.Option("--command", help="Only runs of this command: run, stress, reverse, size, sensitivities, sweep.")] = None,
    label: Annotated[Optional[str], typer.Option("--label", help="Only runs with this label.")] = None,
    db: DbOpt = None,
) -> None:
    """List stored runs, newest first: command, scenario, label, status and headline figures ± SE."""
    from margincall.cli.main import USER_ERRORS, _fail, console
    from margincall.store import open_store

    try:
        with open_store(db) as store:
            rows = store.list_runs(scenario=scenario, limit=limit, status=status, command=command, label=label)
            where = store.url
    except USER_ERRORS as exc:
        _fail(exc)
    table = Table(title=f"Runs ({len(rows)}) in {where}")
    for column in ("id", "command", "scenario", "label", "status", "seed", "paths", "started (UTC)", "seconds", "headline (± SE)"):
        table.add_column(column, justify="right" if column in ("id", "seed", "paths", "seconds") else "left")
    for r in rows:
        table.add_row(
            str(r.id), r.command, r.scenario_name, r.label or "", r.status, str(r.seed), f"{r.paths:,}",
            r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            "-" if r.elapsed_seconds is None else f"{r.elapsed_seconds:.1f}",
            headline_text(r.headline) if r.status == "complete" else _status_note(r),
        )
    console.print(table)


def _status_note(r: RunSummary) -> str:
    if r.status == "failed":
        return f"failed: {(r.error or '')[:80]}"
    return "running, or killed before it finished" if r.status == "running" else "-"


def _describe(record: RunRecord) -> list[str]:
    lines = [
        f"run {record.id}: {record.command} of {record.scenario_name} ({record.status})"
        + (f", label {record.label!r}" if record.label else ""),
        f"  seed {record.seed}, {record.paths:,} paths, margincall {record.version}, started {record.started_at:%Y-%m-%d %H:%M:%S} UTC"
        + ("" if record.elapsed_seconds is None else f", {record.elapsed_seconds:.1f} s"),
        f"  scenario {record.scenario_path or '(path not recorded)'}, sha256 {record.scenario_hash[:16]}…",
    ]
    if record.options:
        shown_options = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in record.options.items() if v is not None)
        if shown_options:
            lines.append(f"  options: {shown_options}")
    if record.headline:
        lines.append(f"  headline: {headline_text(record.headline)}")
    return lines


def show(
    run_id: RunIdArg,
    report: Annotated[Optional[Path], typer.Option("--report", help="Re-write the run's report.html (and result.json) into this folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored result as JSON.")] = False,
    db: DbOpt = None,
) -> None:
    """Print a stored run: what ran, its headline figures and its summary; --report re-writes its
    HTML report (runs of `run`), --json prints the stored result."""
    from margincall.cli.main import USER_ERRORS, _fail, console
    from margincall.cli.render import print_result
    from margincall.store import ResultFormatError, StoreError, open_store

    try:
        with open_store(db) as store:
            record = store.get_run(run_id)
        if as_json:
            if record.result is None:
                state = "is still running, or was killed before it finished" if record.status == "running" else "failed"
                raise StoreError(f"run {record.id} {state}: it has no result to print")
            sys.stdout.write(json.dumps(record.result, indent=2, ensure_ascii=False) + "\n")
            return
        for line in _describe(record):
            console.print(line, highlight=False)
        if record.error:
            console.print(f"  why it failed: {record.error}")
        if record.result is None:
            state = "is still running, or was killed before it finished" if record.status == "running" else "failed"
            if report is not None:
                raise StoreError(f"run {record.id} {state}: it has no result to write; "
                                 "`margincall runs --status complete` lists the runs that have one")
            return
        if record.command == "run":
            try:
                result = record.result_object()
            except ResultFormatError as exc:  # written by another margincall: its layout is not this one's
                console.print(f"  its stored result is in another layout ({exc}); `margincall show {record.id} --json` prints it",
                              highlight=False)
                if report is not None:
                    raise StoreError(f"run {record.id}'s result cannot be turned into a report by this margincall ({exc})") from None
                return
            print_result(console, result)
            if report is not None:
                from margincall.report import write_report

                report.mkdir(parents=True, exist_ok=True)
                result.write_json(report / "result.json")
                path = write_report(result, record.scenario(), report / "report.html", scenario_text=record.scenario_text)
                console.print(f"wrote {path}")
        elif report is not None:
            raise StoreError(f"run {record.id} is a {record.command}: --report re-writes the report of a `run`; "
                             f"`margincall show {record.id} --json` prints its stored result")
    except USER_ERRORS as exc:
        _fail(exc)


def _fmt(row: ComparisonRow, x: float | None, *, difference: bool = False) -> str:
    from margincall.cli.render import money

    if x is None or not math.isfinite(x):
        return "-"
    if row.probability:
        return f"{x * 100:+.2f} pp" if difference else f"{x:.2%}"
    if difference:
        return ("+" if x >= 0 else "-") + money(abs(x))
    return money(x)


def compare(
    first: Annotated[int, typer.Argument(min=1, help="Run id A.")],
    second: Annotated[int, typer.Argument(min=1, help="Run id B.")],
    sigmas: Annotated[float, typer.Option("--sigmas", callback=positive,
                                          help="Flag a difference beyond this many combined standard errors.")] = 3.0,
    db: DbOpt = None,
) -> None:
    """Two runs side by side: what changed in the scenario (value by value), then each figure with
    a standard error, B − A (probabilities in percentage points), and whether the difference is
    beyond --sigmas combined standard errors (3 by default)."""
    from margincall.cli.main import USER_ERRORS, _fail, console
    from margincall.store import open_store

    try:
        with open_store(db) as store:
            a, b = store.get_run(first), store.get_run(second)
            rows = store.compare(first, second, sigmas=sigmas)
    except USER_ERRORS as exc:
        _fail(exc)
    for line in _run_differences(a, b):
        console.print(line, highlight=False)
    for line in _scenario_differences(a, b):
        console.print(line, highlight=False)
    table = Table(title=f"Run {first} (A) vs run {second} (B): figures with a standard error; "
                        f"flagged beyond {sigmas:g} combined SE")
    for column in ("", "metric", "A", "B", "B - A", "± SE (combined)", "|B - A| / SE", f"beyond {sigmas:g} SE"):
        table.add_column(column, justify="left" if column in ("", "metric") else "right")
    # an event neither run saw, or a figure neither run has (p_loss_over_capital without a capital)
    quiet = [r for r in rows if ((r.a, r.b) == (0.0, 0.0) and r.combined_se == 0.0) or (r.a is None and r.b is None)]
    for r in rows:
        if r in quiet:
            continue
        flag = "" if r.significant is None else ("YES" if r.significant else "no")
        z = r.z
        table.add_row(".".join(r.path[:-1]), r.path[-1], _fmt(r, r.a), _fmt(r, r.b), _fmt(r, r.difference, difference=True),
                      _fmt(r, r.combined_se).lstrip("+"), "-" if z is None else ("inf" if math.isinf(z) else f"{z:.1f}"), flag)
    console.print(table)
    if quiet:
        console.print(f"{len(quiet)} figures are 0 (or absent) in both runs, with no noise, and are not shown: "
                      + ", ".join(".".join(r.path) for r in quiet[:6]) + (", ..." if len(quiet) > 6 else ""), highlight=False)
    flagged = sum(1 for r in rows if r.significant)
    note = (f"{flagged} of {sum(1 for r in rows if r.significant is not None)} differences are beyond {sigmas:g} SE. "
            "SE = sqrt(se_A² + se_B²)")
    if a.seed == b.seed:
        note += "; both runs used the same seed, so they share their random draws and the flag is conservative"
    console.print(note, highlight=False)


def _run_differences(a: RunRecord, b: RunRecord) -> list[str]:
    fields = (("command", a.command, b.command), ("scenario", a.scenario_name, b.scenario_name), ("label", a.label, b.label),
              ("seed", a.seed, b.seed), ("paths", a.paths, b.paths), ("margincall", a.version, b.version),
              ("options", a.options, b.options))
    changed = [f"  {name}: {_plain(x)} → {_plain(y)}" for name, x, y in fields if x != y]
    return ["run differences (A → B):", *changed] if changed else []


def _plain(value: Any) -> str:
    return "—" if value is None else (json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value))


MAX_CHANGES = 40


def _scenario_differences(a: RunRecord, b: RunRecord) -> list[str]:
    from margincall.store import scenario_changes

    if a.scenario_hash == b.scenario_hash:
        return ["scenario: the same text in both runs"]
    try:
        changes = scenario_changes(a.scenario_text, b.scenario_text)
    except ValueError as exc:
        return [f"scenario: the texts differ, and they cannot be compared value by value ({exc})"]
    if not changes:
        return ["scenario: the texts differ only in comments, order or layout; every value is the same"]
    lines = [f"scenario changes (A → B), {len(changes)} value{'s' if len(changes) != 1 else ''}:"]
    lines += [f"  {c.text()}" for c in changes[:MAX_CHANGES]]
    if len(changes) > MAX_CHANGES:
        lines.append(f"  ... and {len(changes) - MAX_CHANGES} more")
    return lines
