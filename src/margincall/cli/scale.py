"""Commands and options for running at scale: `sweep` (parameter grids), and the choice of
execution back end (this process, or Dask workers) that `run` shares."""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from margincall.cli.options import (
    DbOpt,
    FormatOpt,
    LabelOpt,
    StoreOpt,
    bounded,
    paths_option,
    require_out,
    seed_option,
    write_tables,
)

WorkersOpt = Annotated[
    Optional[int],
    typer.Option("--workers", min=1, callback=bounded("workers"),
                 help="Run on a local Dask cluster of N worker processes (the same numbers)."),
]
SchedulerOpt = Annotated[
    Optional[str],
    typer.Option("--scheduler", help="Run on the Dask cluster whose scheduler is at this address, tcp://HOST:PORT (the same numbers)."),
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("sweep")(sweep)


@contextlib.contextmanager
def simulation_runner(*, workers: int | None = None, scheduler: str | None = None, threads: int | None = None) -> Iterator:
    """A function `runner(scenario, *, paths, seed, progress=None) -> SimulationResult` that runs
    in this process (`threads` threads), on a local Dask cluster of `workers` processes, or on the
    cluster at `scheduler`; the cluster lives as long as the `with` block. Raises
    `SimulationError` for options that do not go together."""
    from margincall.analysis.simulate import simulate
    from margincall.errors import SimulationError

    if workers is None and scheduler is None:
        yield functools.partial(simulate, threads=threads)
        return
    if workers is not None and scheduler is not None:
        raise SimulationError("--workers starts a local Dask cluster and --scheduler uses a running one: give one of them")
    if threads is not None:
        raise SimulationError("--threads is for a run in this process; Dask workers run one thread per task")
    try:
        from margincall.distributed import DaskSession
    except ImportError as exc:
        raise SimulationError(f"Dask is not installed ({exc}); install it with: pip install 'dask[distributed]'") from None
    with DaskSession(workers=workers, scheduler=scheduler) as session:
        yield session.simulate


def _sweep_progress(err_console) -> Progress:
    return Progress(
        TextColumn("[bold]sweeping"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("points"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )


def _value(x: float | int) -> str:
    from margincall.cli.render import money

    return money(x) if abs(x) >= 1000 else f"{x:g}"


def sweep_table(rows, *, scenario: str, paths: int, seed: int, currency: str) -> Table:
    """The values set at each point, and per loan P(call) ± SE, P(default) ± SE, expected loss."""
    from margincall.cli.render import money, prob

    table = Table(title=f"Sweep of {scenario}: {len(rows)} points, {paths:,} paths each, seed {seed} (the same draws at every point; {currency})")
    if not rows:
        return table
    for path in rows[0].values:
        table.add_column(path, justify="right")
    for loan in rows[0].loans:
        for column in ("P(call)", "P(default)", "expected loss"):
            table.add_column(f"{loan}\n{column}", justify="right")
    for row in rows:
        cells = [_value(v) for v in row.values.values()]
        for r in row.loans.values():
            cells.append(prob(r.p_margin_call, r.p_margin_call_se) if r.secured else "unsecured")
            cells.append(prob(r.p_default, r.p_default_se))
            cells.append(money(r.expected_loss) if math.isfinite(r.expected_loss) else "-")
        table.add_row(*cells)
    return table


def sweep(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file, or the name of a built-in scenario (softbank-openai).")],
    sets: Annotated[
        list[str],
        typer.Option(
            "--set",
            help="A field and its values: PATH=V, PATH=V1,V2,... or PATH=START:STOP:COUNT (e.g. loans.my-loan.principal=5e9:15e9:11). "
            "Repeat for a grid of every combination.",
            show_default=False,
        ),
    ],
    paths: Annotated[int, paths_option("per point")] = 20_000,
    seed: Annotated[int, seed_option("Random seed, the same at every point (common random numbers).")] = 0,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder to write sweep.csv and sweep.json into (created if needed).")] = None,
    formats: FormatOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    threads: Annotated[Optional[int], typer.Option("--threads", min=1, help="Threads for a run in this process (default: all cores).")] = None,
    db: DbOpt = None,
    store: StoreOpt = True,
    label: LabelOpt = None,
) -> None:
    """Run a scenario over a grid of field values, every point from the same seed, so that the
    differences between points are those of the terms, not of the random draws."""
    from margincall.analysis.sweep import sweep as run_sweep
    from margincall.analysis.sweep import sweep_grid, write_sweep
    from margincall.cli.main import USER_ERRORS, _fail, _read, console, err_console
    from margincall.cli.record import recorded

    recording = False
    try:
        require_out(formats, out)
        loaded = _read(scenario)
        model = loaded.scenario
        n_points = len(sweep_grid(model, sets))  # every spec and point checked before anything runs
        if store:
            from margincall.store import resolve_url

            resolve_url(db)  # a malformed --db fails before a cluster starts
        with simulation_runner(workers=workers, scheduler=scheduler, threads=threads) as runner, recorded(
            "sweep", loaded, seed=seed, paths=paths, store=store, db=db, label=label, options={"sets": list(sets)}
        ) as rec:
            recording = rec.active
            with _sweep_progress(err_console) as bar:
                task = bar.add_task("sweeping", total=n_points)
                rows = run_sweep(
                    model, sets, paths=paths, seed=seed, runner=runner, progress=lambda done, total: bar.update(task, completed=done)
                )
            first = rows[0].to_dict()
            rec.complete({"sets": list(sets), "points": [row.to_dict() for row in rows]},
                         headline={"loans": first["loans"], "borrower": first["borrower"]} if "borrower" in first
                         else {"loans": first["loans"], "borrowers": first["borrowers"]})
        console.print(sweep_table(rows, scenario=model.name or scenario, paths=paths, seed=seed, currency=model.currency))
        if out is not None:
            for path in write_sweep(rows, out):
                console.print(f"wrote {path}")
            from margincall.analysis.frames import SWEEP_TABLES, sweep_frame

            frames = {name: sweep_frame(rows, name, currency=model.currency) for name in SWEEP_TABLES}
            write_tables(frames, out, formats, lambda line: console.print(line, highlight=False))
    except KeyboardInterrupt:
        err_console.print("interrupted: the sweep is recorded as failed" if recording else "interrupted")
        raise typer.Exit(130) from None
    except USER_ERRORS as exc:
        _fail(exc)
