"""`margincall explain`: why paths default, told day by day."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from margincall.cli.options import DbOpt, LabelOpt, StoreOpt, paths_option, seed_option

ScenarioArg = Annotated[
    Optional[str],
    typer.Argument(help="Scenario YAML file (or the name of a built-in scenario); default: the built-in softbank-openai."),
]


def explain(
    scenario: ScenarioArg = None,
    paths: Annotated[int, paths_option("default 20,000: the paths searched for the stories")] = 20_000,
    seed: Annotated[int, seed_option()] = 0,
    out: Annotated[
        Optional[Path], typer.Option("--out", "-o", help="Folder to write explain.json and explain.html (the stories with their charts) into.")
    ] = None,
    threads: Annotated[Optional[int], typer.Option("--threads", min=1, help="Threads (default: all cores); never changes the numbers.")] = None,
    db: DbOpt = None,
    store: StoreOpt = True,
    label: LabelOpt = None,
) -> None:
    """Why paths default: the first causes of default, then the story, day by day, of a typical
    defaulting path and of the path behind the 99% loss."""
    from margincall.analysis.explain import explain as run_explain
    from margincall.cli import answers
    from margincall.cli.main import _compile_kernels, _read, console, err_console

    recording = False
    try:
        loaded = _read(scenario)
        model = loaded.scenario
        with answers._recorded("explain", loaded, seed=seed, paths=paths, store=store, db=db, label=label) as rec:
            recording = rec.active
            _compile_kernels()
            err_console.print(f"simulating {paths:,} paths (seed {seed}) and keeping each path's outcome", highlight=False)
            result = run_explain(model, paths=paths, seed=seed, threads=threads)
            rec.complete(answers._finite(result.to_dict()))
        console.print(f"{escape(result.scenario)}: P(a borrower defaults) {result.p_default:.2%} over {result.paths:,} paths (seed {seed})", highlight=False)
        if result.causes:
            console.print("first causes of those defaults: " + ", ".join(f"{escape(k.replace('_', ' '))} {v:.0%}" for k, v in result.causes.items()), highlight=False)
        for story in result.stories:
            console.print(f"\n[bold]{escape(story.title)}[/] (path {story.path}): {escape(story.why)}", markup=True, highlight=False)
            for day, date, text in story.lines:
                when = f"day {day:4d}" + (f" ({date})" if date else "")
                console.print(f"  {when}: {escape(text)}", highlight=False)
        if not result.stories:
            console.print("no path defaults or loses money: nothing to explain", highlight=False)
        if out is not None:
            console.print(f"wrote {answers._write_json(out / 'explain.json', result.to_dict())}")
            from margincall.report import write_explain_report

            console.print(f"wrote {write_explain_report(result, model, out / 'explain.html')}")
    except KeyboardInterrupt:
        answers._interrupted(recording)
    except answers._errors() as exc:
        answers._fail(exc)


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)
