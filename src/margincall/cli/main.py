"""The `margincall` command line: parse input, call the analysis layer, render."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from margincall._version import __version__
from margincall.cli.scale import SchedulerOpt, WorkersOpt
from margincall.errors import MarginCallError

app = typer.Typer(
    name="margincall",
    help="Risk engine for loans secured by concentrated stakes in public and private companies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Piped output (a log, a test) gets wide tables rather than rich's 80-column default.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 160)

ScenarioArg = Annotated[
    Optional[str],
    typer.Argument(help="Scenario YAML file (or the name of a built-in scenario); default: the built-in softbank-openai."),
]
PathsOpt = Annotated[int, typer.Option("--paths", "-n", min=1, help="Monte Carlo paths.")]
SeedOpt = Annotated[int, typer.Option("--seed", "-s", min=0, help="Random seed: the same seed gives the same numbers.")]
OutOpt = Annotated[
    Optional[Path], typer.Option("--out", "-o", help="Folder to write result.json and report.html into (created if needed).")
]
DbOpt = Annotated[
    Optional[str],
    typer.Option("--db", envvar="MARGINCALL_DB", help="Run store URL or SQLite file (default: the user's data folder)."),
]
ThreadsOpt = Annotated[Optional[int], typer.Option("--threads", min=1, help="Threads (default: all cores); never changes the numbers.")]


def _fail(exc: Exception, code: int = 2) -> None:
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True)
    raise typer.Exit(code)


def _load(scenario: str | None):
    from margincall.analysis.loading import default_scenario, load_scenario

    return default_scenario() if scenario is None else load_scenario(scenario)


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


def _scenario_text(scenario: str | None) -> tuple[object, str]:
    """The scenario object and the exact text it came from (kept in the run store)."""
    from pathlib import Path as _Path

    from margincall.analysis.loading import DEFAULT_SCENARIO, builtin_scenario_text, builtin_scenarios, parse_scenario

    if scenario is None or (not _Path(scenario).exists() and scenario in builtin_scenarios()):
        name = scenario or DEFAULT_SCENARIO
        text = builtin_scenario_text(name)
        return parse_scenario(text, source=f"built-in:{name}", default_name=name), text
    model = _load(scenario)
    return model, _Path(scenario).read_text(encoding="utf-8")


def _terminate_as_interrupt(*_args: object) -> None:
    raise KeyboardInterrupt("terminated")


@app.command()
def run(
    scenario: ScenarioArg = None,
    paths: PathsOpt = 100_000,
    seed: SeedOpt = 0,
    out: OutOpt = None,
    threads: ThreadsOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    antithetic: Annotated[
        bool, typer.Option("--antithetic", help="Antithetic variates: pair each path with its mirror (even --paths).")
    ] = False,
    trace: Annotated[int, typer.Option(help="Also print the event log of the first N paths.", min=0)] = 0,
    db: DbOpt = None,
    store: Annotated[bool, typer.Option("--store/--no-store", help="Record the run in the run store.")] = True,
) -> None:
    """Simulate a scenario: print a summary per loan and for the borrower; --out writes result.json
    and report.html. Every run is recorded in the run store (see `margincall runs`)."""
    import contextlib
    import signal

    from margincall.analysis.simulate import check_run_args
    from margincall.analysis.simulate import trace as trace_paths
    from margincall.cli.render import describe_scenario, print_result
    from margincall.cli.scale import simulation_runner

    signal.signal(signal.SIGTERM, _terminate_as_interrupt)  # a killed run is recorded as failed
    try:
        model, text = _scenario_text(scenario)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        for line in describe_scenario(model):
            console.print(line, highlight=False, markup=False)
        check_run_args(paths, seed, antithetic)
        with contextlib.ExitStack() as stack:
            simulate = stack.enter_context(simulation_runner(workers=workers, scheduler=scheduler, threads=threads))
            record = None
            if store:
                from margincall.store import open_store

                run_store = stack.enter_context(open_store(db))
                record = stack.enter_context(run_store.recording(model.name, text, seed, paths, __version__))
            with _progress() as bar:
                task = bar.add_task("simulating", total=paths)
                result = simulate(
                    model, paths=paths, seed=seed, antithetic=antithetic, progress=lambda done, total: bar.update(task, completed=done)
                )
            if record is not None:
                record.complete(result)
                console.print(f"stored as run {record.id} in {run_store.url}", highlight=False)
        print_result(console, result)
        console.print(f"{result.paths:,} paths in {result.elapsed_seconds:.1f} s (seed {seed}, margincall {__version__})")
        if trace:
            for event in trace_paths(model, paths=trace, seed=seed):
                console.print(
                    f"path {event.path} day {event.day:4d} {event.event:18s} loan={event.loan or '-'} asset={event.asset or '-'} amount={event.amount:,.4g}",
                    highlight=False,
                    markup=False,
                )
        if out is not None:
            from margincall.report import write_report

            console.print(f"wrote {result.write_json(out / 'result.json')}")
            console.print(f"wrote {write_report(result, model, out / 'report.html', scenario_text=text)}")
    except KeyboardInterrupt:
        err_console.print("interrupted: the run is recorded as failed")
        raise typer.Exit(130) from None
    except Exception as exc:  # noqa: BLE001 - the store's own errors and OS errors become one clean message
        from margincall.store import StoreError

        if isinstance(exc, (MarginCallError, OSError, StoreError)):
            _fail(exc)
        raise


@app.command()
def check(scenario: Annotated[str, typer.Argument(help="Scenario YAML file to validate.")]) -> None:
    """Validate a scenario file and describe it; exit 0 when it is valid."""
    from margincall.analysis.loading import load_scenario
    from margincall.cli.render import describe_scenario

    try:
        model = load_scenario(scenario)
    except MarginCallError as exc:
        _fail(exc)
    for line in describe_scenario(model):
        console.print(line, highlight=False, markup=False)
    console.print("[green]valid[/]")


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
    from margincall.cli import answers, bench, runs, scale

    answers.register(app)
    bench.register(app)
    runs.register(app)
    scale.register(app)


_register_commands()

if __name__ == "__main__":
    app()
