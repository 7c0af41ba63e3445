"""The `margincall` command line: parse input, call the analysis layer, render."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from margincall._version import __version__
from margincall.cli.console import terminal
from margincall.cli.options import (
    DbOpt,
    FormatOpt,
    LabelOpt,
    StoreOpt,
    TraceOpt,
    paths_option,
    require_out,
    seed_option,
    write_tables,
)
from margincall.cli.scale import SchedulerOpt, WorkersOpt
from margincall.errors import MarginCallError
from margincall.model.limits import LimitError

app = typer.Typer(
    name="margincall",
    help="Risk engine for loans secured by concentrated stakes in public and private companies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Every user string prints as typed (no rich markup, control characters escaped); piped output
# (a log, a test) gets wide tables rather than rich's 80-column default.
console = terminal()
err_console = terminal(stderr=True)
# What a command turns into one "error:" line and exit status 2: bad input, a bound passed, a
# store that cannot be used, a file that cannot be written.
USER_ERRORS: tuple[type[BaseException], ...] = (MarginCallError, LimitError, OSError)

ScenarioArg = Annotated[
    Optional[str],
    typer.Argument(help="Scenario YAML file (or the name of a built-in scenario); default: the built-in softbank-openai."),
]
PathsOpt = Annotated[int, paths_option()]
SeedOpt = Annotated[int, seed_option()]
OutOpt = Annotated[
    Optional[Path], typer.Option("--out", "-o", help="Folder to write result.json and report.html into (created if needed).")
]
ThreadsOpt = Annotated[Optional[int], typer.Option("--threads", min=1, help="Threads (default: all cores); never changes the numbers.")]


def _fail(exc: BaseException, code: int = 2) -> None:
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True)
    raise typer.Exit(code)


def _read(scenario: str | None):
    """The scenario file (or built-in name; None: the default) with its text and path."""
    from margincall.analysis.loading import read_scenario

    return read_scenario(scenario)


def _load(scenario: str | None):
    return _read(scenario).scenario


def _compile_kernels() -> None:
    """Compile the kernels before any progress bar, saying so, once per install; their time is
    not the run's."""
    from margincall.analysis.simulate import ensure_compiled

    seconds = ensure_compiled(lambda message: err_console.print(message, highlight=False))
    if seconds:
        err_console.print(f"kernels compiled in {seconds:.1f} s (kept on disk: later runs start at once)", highlight=False)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("paths"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )


def _check_finite(result: dict) -> None:
    """A result with NaN or infinity is not an answer: say where, and refuse to show it."""
    from margincall.analysis.finite import first_nonfinite
    from margincall.errors import SimulationError

    where = first_nonfinite(result)
    if where is not None:
        raise SimulationError(
            f"the simulation produced a number that is not finite at {'.'.join(where)}: the scenario's values are beyond "
            "what the model can take; check them (`margincall check` names each field's bounds)"
        )


def _terminate_as_interrupt(*_args: object) -> None:
    raise KeyboardInterrupt("terminated")


@app.command()
def run(
    scenario: ScenarioArg = None,
    paths: PathsOpt = 100_000,
    seed: SeedOpt = 0,
    out: OutOpt = None,
    formats: FormatOpt = None,
    threads: ThreadsOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    antithetic: Annotated[
        bool, typer.Option("--antithetic", help="Antithetic variates: pair each path with its mirror (even --paths).")
    ] = False,
    trace: TraceOpt = 0,
    where: Annotated[
        Optional[str],
        typer.Option("--where", help="Trace paths with this event instead of the first ones: EVENT:LOAN (call, default, loss, "
                                     "liquidated, cured, accelerated, ...) or default:BORROWER, e.g. default:openai-margin-loan."),
    ] = None,
    db: DbOpt = None,
    store: StoreOpt = True,
    label: LabelOpt = None,
) -> None:
    """Simulate a scenario: print a summary per loan, borrower and lender, and why defaults happen;
    --out writes result.json and report.html (and with --format csv the results as tables beside them: loans.csv,
    borrowers.csv, lenders.csv, system.csv, fan.csv, ...). Every run is recorded in the run store (see
    `margincall runs`)."""
    import contextlib
    import signal

    from margincall.analysis.simulate import check_run_args
    from margincall.analysis.simulate import trace as trace_paths
    from margincall.cli.record import recorded
    from margincall.cli.render import describe_scenario, print_result
    from margincall.cli.scale import simulation_runner

    signal.signal(signal.SIGTERM, _terminate_as_interrupt)  # a killed run is recorded as failed
    recording = False
    try:
        require_out(formats, out)
        loaded = _read(scenario)
        model, text = loaded.scenario, loaded.text
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        for line in describe_scenario(model):
            console.print(line, highlight=False)
        check_run_args(paths, seed, antithetic)
        with contextlib.ExitStack() as stack:
            if store:
                from margincall.store import resolve_url

                resolve_url(db)  # a malformed --db fails before a cluster starts
            simulate = stack.enter_context(simulation_runner(workers=workers, scheduler=scheduler, threads=threads))
            options = {"antithetic": antithetic} if antithetic else None
            record = stack.enter_context(recorded("run", loaded, seed=seed, paths=paths, store=store, db=db, label=label,
                                                  options=options))
            recording = record.active
            _compile_kernels()
            with _progress() as bar:
                task = bar.add_task("simulating", total=paths)
                result = simulate(
                    model, paths=paths, seed=seed, antithetic=antithetic, progress=lambda done, total: bar.update(task, completed=done)
                )
            _check_finite(result.to_dict())
            record.complete(result)
        print_result(console, result)
        console.print(f"{result.paths:,} paths in {result.elapsed_seconds:.1f} s (seed {seed}, margincall {__version__})")
        if trace or where:
            chosen: int | list[int] = trace or 3
            if where:
                from margincall.analysis.explain import select_paths

                chosen = select_paths(model, where, count=trace or 3, paths=min(paths, 100_000), seed=seed, threads=threads)
                console.print(f"paths with {escape(where)}: {', '.join(map(str, chosen))}", highlight=False)
            for event in trace_paths(model, paths=chosen, seed=seed, antithetic=antithetic):
                who = f" borrower={escape(event.borrower)}" if event.borrower and len(model.book().borrowers) > 1 else ""
                console.print(
                    f"path {event.path} day {event.day:4d} {event.event:18s} loan={escape(event.loan or '-')} "
                    f"asset={escape(event.asset or '-')}{who} amount={event.amount:,.4g}",
                    highlight=False,
                )
        if out is not None:
            from margincall.report import write_report

            console.print(f"wrote {result.write_json(out / 'result.json')}")
            console.print(f"wrote {write_report(result, model, out / 'report.html', scenario_text=text)}")
            write_tables(result.frames(), out, formats, lambda line: console.print(line, highlight=False))
    except KeyboardInterrupt:
        err_console.print("interrupted: the run is recorded as failed" if recording else "interrupted")
        raise typer.Exit(130) from None
    except USER_ERRORS as exc:
        _fail(exc)


@app.command()
def check(scenario: Annotated[str, typer.Argument(help="Scenario YAML file to validate.")]) -> None:
    """Validate a scenario file and describe it; exit 0 when it is valid."""
    from margincall.cli.render import describe_scenario

    try:
        model = _load(scenario)
    except USER_ERRORS as exc:
        _fail(exc)
    for line in describe_scenario(model):
        console.print(line, highlight=False)
    console.print("[green]valid[/]", markup=True)


@app.command()
def schema(
    part: Annotated[
        Optional[str], typer.Argument(help="Show only this part of a file, e.g. loans, assets, borrower.cash_flows.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON Schema instead (for editors and validators).")] = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the reference as Markdown (the text of docs/scenario.md).")
    ] = False,
) -> None:
    """The scenario file's reference: every field with its type, unit, default and meaning."""
    from margincall.model.reference import reference_markdown

    if as_json and markdown:
        _fail(MarginCallError("give one of --json and --markdown"))
    if as_json:
        from margincall.analysis.loading import scenario_json_schema

        sys.stdout.write(json.dumps(scenario_json_schema(), indent=2) + "\n")
    elif markdown:
        sys.stdout.write(reference_markdown())
    else:
        from margincall.cli.render import reference_tables

        tables = reference_tables(part)
        if not tables:
            from margincall.model.reference import scenario_reference

            parts = ", ".join(dict.fromkeys(s.path.split(".")[0] for s in scenario_reference() if s.path))
            _fail(MarginCallError(f"no part '{part}' in a scenario file; parts: {parts}"))
        for table in tables:
            console.print(table)


@app.command()
def version() -> None:
    """Print margincall's version."""
    console.print(__version__)


def _register_commands() -> None:
    from margincall.cli import answers, bench, explain, monitor, runs, scale, service

    answers.register(app)
    explain.register(app)
    bench.register(app)
    monitor.register(app)
    runs.register(app)
    scale.register(app)
    service.register(app)


_register_commands()

if __name__ == "__main__":
    app()
