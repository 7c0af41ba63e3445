"""Commands that answer questions: stress, reverse, size, sensitivities, debt-service, calibrate.

Every command that simulates takes --paths, --seed, --out and --threads like `run`, reads the same
scenario files and exits with status 2 and one clear message on bad input.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.table import Table

from margincall.cli.options import (
    DbOpt,
    FormatOpt,
    LabelOpt,
    StoreOpt,
    bounded,
    finite,
    paths_option,
    require_out,
    seed_option,
    write_tables,
)

if TYPE_CHECKING:
    from rich.console import Console

    from margincall.analysis.search import CurvePoint, SearchResult
    from margincall.analysis.simulate import TracedEvent
    from margincall.store import Figure

ScenarioArg = Annotated[
    Optional[str],
    typer.Argument(help="Scenario YAML file (or the name of a built-in scenario); default: the built-in softbank-openai."),
]
SeedOpt = Annotated[int, seed_option("Random seed: every run of the command uses it (common random numbers).")]
ThreadsOpt = Annotated[Optional[int], typer.Option("--threads", min=1, help="Threads (default: all cores); never changes the numbers.")]


def _out_opt(name: str) -> Any:
    return typer.Option("--out", "-o", help=f"Folder to write {name} into (created if needed).")


def _paths_opt(default_note: str) -> Any:
    return paths_option(f"of each simulation; {default_note}")


def _main():
    from margincall.cli import main

    return main


def _console() -> Console:
    return _main().console


def _err() -> Console:
    return _main().err_console


def _fail(exc: BaseException) -> None:
    _main()._fail(exc)


def _errors() -> tuple[type[BaseException], ...]:
    return _main().USER_ERRORS


def _recorded(command: str, loaded: Any, *, seed: int, paths: int, store: bool, db: str | None, label: str | None,
              options: dict[str, Any] | None = None) -> Any:
    from margincall.cli.record import recorded

    return recorded(command, loaded, seed=seed, paths=paths, store=store, db=db, label=label, options=options, console=_console())


def _interrupted(recording: bool) -> None:
    _err().print("interrupted: the run is recorded as failed" if recording else "interrupted")
    raise typer.Exit(130)


def _write_json(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_finite(data), indent=2, allow_nan=False, default=_json_default) + "\n", encoding="utf-8")
    return path


def _finite(value: Any) -> Any:
    """The data with infinite or NaN numbers as null (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _say(text: str) -> None:
    _console().print(text, highlight=False, markup=False)


def _say_notes(*notes: str | None) -> None:
    """The search's caveats (a bound at the edge of the range, a noisy band), one line each."""
    for note in notes:
        if note:
            _say(f"  note: {note}")


def _bar(label: str):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn(f"[bold]{label}"),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=_err(),
        transient=False,
    )


def _prob(p: float | None, se: float | None = None) -> str:
    if p is None:
        return "-"
    return f"{p:.2%}" if se is None else f"{p:.2%} ± {se:.2%}"


def _money(x: float | None, se: float | None = None, currency: str = "USD") -> str:
    from margincall.cli.render import money

    return money(x, currency) if se is None else f"{money(x, currency)} ± {money(se, currency)}"


def _metric(metric: str, value: float | None, se: float | None = None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if metric.startswith("p_"):
        return _prob(value, se)
    return _money(value, se)


# -- stress ---------------------------------------------------------------------------------------


def stress(
    scenario: ScenarioArg = None,
    names: Annotated[
        Optional[list[str]],
        typer.Option("--stress", help="A built-in stress (name or id such as S1) or a stress YAML file; repeat for several; default: all built-in."),
    ] = None,
    list_only: Annotated[bool, typer.Option("--list", help="List the built-in stresses and exit.")] = False,
    paths: Annotated[int, _paths_opt("default 50,000")] = 50_000,
    seed: SeedOpt = 0,
    out: Annotated[Optional[Path], _out_opt("stress.json (and report.html with a stress section)")] = None,
    formats: FormatOpt = None,
    threads: ThreadsOpt = None,
    db: DbOpt = None,
    store: StoreOpt = True,
    label: LabelOpt = None,
) -> None:
    """Run the base scenario and each named stress with common random numbers; print one table."""
    from margincall.analysis.simulate import simulate
    from margincall.analysis.stress import (
        apply_stress,
        builtin_stresses,
        load_stress,
        load_stresses,
    )

    recording = False
    try:
        if list_only:
            for name in builtin_stresses():
                s = load_stress(name)
                _say(f"{s.id or '-':4s} {s.name}: {s.description}")
            return
        require_out(formats, out)
        loaded = _main()._read(scenario)
        model = loaded.scenario
        chosen = load_stresses(names or None)
        applied = {s.name: apply_stress(model, s) for s in chosen}
        for name, a in applied.items():
            _say(f"{a.stress.id or name}: {name}: {', '.join(a.changes)}")
            for note in a.notes:
                _say(f"    note: {note}")
        runs = [("base", model)] + [(name, a.scenario) for name, a in applied.items()]
        results = {}
        from margincall.analysis.stress import StressRun

        with _recorded("stress", loaded, seed=seed, paths=paths, store=store, db=db, label=label,
                       options={"stresses": [s.name for s in chosen]}) as rec:
            recording = rec.active
            with _bar("stress") as bar:
                task = bar.add_task("", total=paths * len(runs))
                for k, (name, variant) in enumerate(runs):
                    bar.update(task, description=name)

                    def advance(done: int, total: int, before: int = k * paths) -> None:
                        bar.update(task, completed=before + done)

                    results[name] = simulate(variant, paths=paths, seed=seed, threads=threads, progress=advance)
            run = StressRun(base=results.pop("base"), results=results, applied=applied)
            rec.complete(_finite(run.to_dict()), headline=run.base)
        _console().print(stress_table(run))
        _say(f"{len(runs)} runs of {paths:,} paths, seed {seed}, common random numbers (the same market draws in every run)")
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            _say(f"wrote {_write_json(out / 'stress.json', run.to_dict())}")
            _say(f"wrote {_stress_report(run, model, loaded.text, out)}")
            write_tables(run.frames(), out, formats, _say)
    except KeyboardInterrupt:
        _interrupted(recording)
    except _errors() as exc:
        _fail(exc)


def stress_table(run: Any) -> Table:
    from margincall.analysis.stress import stress_rows

    rows = stress_rows(run)
    short = {name: (a.stress.id or name) for name, a in run.applied.items()}  # ids keep the table narrow
    cur = run.base.currency
    table = Table(title=f"Named stresses — {run.base.paths:,} paths, seed {run.base.seed}, common random numbers ({cur})")
    for column in ("run", "loan / borrower", "P(margin call)", "P(default)", "expected loss", "loss VaR 99%", "liquidity at risk 95%", "P(cascade)"):
        table.add_column(column, justify="left" if column in ("run", "loan / borrower") else "right")
    last = None
    for r in rows:
        first = r["run"] != last
        if first and last is not None:
            table.add_section()
        last = r["run"]
        if r["who"] == "borrower" or r["who"].startswith("borrower "):
            table.add_row("", r["who"], "", _prob(r["p_default"], r["p_default_se"]), "", "",
                          _money(r["liquidity_at_risk_95"], currency=cur), _prob(r["p_cascade"], r["p_cascade_se"]))
        else:
            table.add_row(
                short.get(r["run"], r["run"]) if first else "", r["who"],
                _prob(r["p_margin_call"], r["p_margin_call_se"]) if r["p_margin_call"] is not None else "unsecured",
                _prob(r["p_default"], r["p_default_se"]), _money(r["expected_loss"], r["expected_loss_se"], cur),
                _money(r["loss_var_99"], currency=cur), "", "",
            )
    return table


def _stress_report(run: Any, model: Any, scenario_text: str | None, out: Path) -> Path:
    """report.html: the stress section (every comparison, with error bars), then the base case."""
    from margincall.report import write_stress_report

    return write_stress_report(run, model, out / "report.html", scenario_text=scenario_text)


# -- searches -------------------------------------------------------------------------------------


def _step_printer(target_metric: str, what: Callable[[float], str]) -> Callable[[CurvePoint], None]:
    err = _err()

    def step(p: CurvePoint) -> None:
        err.print(f"  {what(p.x)}: {target_metric} {_metric(target_metric, p.metric, p.se)}  {'meets' if p.met else 'does not meet'} the target",
                  highlight=False, markup=False)

    return step


def _curve_table(result: SearchResult, title: str, x_name: str, fmt: Callable[[float], str]) -> Table:
    t = result.target
    table = Table(title=title)
    table.add_column(x_name, justify="right")
    table.add_column(f"{t.scope}.{t.metric}", justify="right")
    table.add_column(t.text, justify="center")
    for p in result.curve:
        mark = "◀" if p.x == result.value else ""
        table.add_row(fmt(p.x), _metric(t.metric, p.metric, p.se), ("met" if p.met else "not met") + (f" {mark}" if mark else ""))
    return table


def _print_events(events: list[TracedEvent], paths_note: str) -> None:
    """The events of a few paths; marks and interest are left out, and a run of the same event on
    consecutive days (a liquidation sold off day by day) is one line."""
    if not events:
        return
    skip = {"mark", "interest"}
    shown = [e for e in events if e.event not in skip]
    _say(f"events at that point ({paths_note}; {len(events) - len(shown)} marks and interest payments not shown):")
    runs: list[list[Any]] = []
    for e in shown:
        last = runs[-1] if runs else None
        if last is not None and (last[0].path, last[0].event, last[0].loan, last[0].asset) == (e.path, e.event, e.loan, e.asset) and e.day == last[-1].day + 1:
            last.append(e)
        else:
            runs.append([e])
    for run in runs:
        e = run[0]
        if len(run) == 1:
            _say(f"  path {e.path} day {e.day:4d}      {e.event:18s} loan={e.loan or '-'} asset={e.asset or '-'} amount={e.amount:,.4g}")
        else:
            total = sum(x.amount for x in run)
            _say(f"  path {e.path} days {e.day:4d}-{run[-1].day:<4d} {e.event:18s} loan={e.loan or '-'} asset={e.asset or '-'} "
                 f"amount={total:,.4g} in all ({len(run)} days)")


def reverse(
    scenario: ScenarioArg = None,
    assets: Annotated[
        list[str],
        typer.Option("--asset", help="Asset to shock: an id, *public, *private or *, optionally =WEIGHT (a vector of moves: repeat); the shock is the move of the largest weight."),
    ] = ...,  # type: ignore[assignment]
    target: Annotated[
        str,
        typer.Option("--target", "-t", help="A bound to reach, e.g. 'p_default>=0.05' or 'borrower.p_cascade>=0.1'; or 'call' / 'default' (LOAN.call, LOAN.default): the deterministic first margin call or default."),
    ] = ...,  # type: ignore[assignment]
    loan: Annotated[Optional[str], typer.Option("--loan", help="Loan of the target when it names none; default: the first secured loan.")] = None,
    day: Annotated[int, typer.Option("--day", min=0, callback=bounded("horizon_days"),
                                     help="Trading day of the shock (0: before the first covenant test).")] = 0,
    over_days: Annotated[int, typer.Option("--over-days", min=1, callback=bounded("horizon_days"),
                                           help="Spread the shock evenly over this many days.")] = 1,
    shock_range: Annotated[
        Optional[tuple[float, float]],
        typer.Option("--range", callback=finite, help="Shocks to search, two numbers, e.g. -1 0 (the default)."),
    ] = None,
    tolerance: Annotated[
        Optional[float],
        typer.Option("--tolerance", min=1e-9, max=0.05, callback=finite,
                     help="Stop when the shock is known to within this (default 0.002; 1e-6 for call and default targets)."),
    ] = None,
    paths: Annotated[int, _paths_opt("default 20,000")] = 20_000,
    seed: SeedOpt = 0,
    out: Annotated[Optional[Path], _out_opt("reverse.json")] = None,
    formats: FormatOpt = None,
    threads: ThreadsOpt = None,
    trace: Annotated[int, typer.Option("--trace", min=0, callback=bounded("trace_paths"),
                                       help="Print the events of this many paths at the shock found.")] = 3,
    db: DbOpt = None,
    store: StoreOpt = True,
    label: LabelOpt = None,
) -> None:
    """Reverse stress test: the smallest shock along a direction that reaches a target."""
    from margincall.analysis.search import first_call_shock, parse_direction, reverse_stress

    recording = False
    try:
        require_out(formats, out)
        loaded = _main()._read(scenario)
        model = loaded.scenario
        weights = parse_direction(model, assets)
        direction = ", ".join(f"{a} x{w:g}" for a, w in weights.items())
        event, call_loan = _call_target(target, model, loan)
        with _recorded("reverse", loaded, seed=seed, paths=paths, store=store, db=db, label=label,
                       options={"asset": list(assets), "target": target, "loan": loan, "day": day, "over_days": over_days, "range": list(shock_range) if shock_range else None, "tolerance": tolerance}) as rec:
            recording = rec.active
            if event is not None:
                fc = first_call_shock(model, weights, loan=call_loan, event=event, tolerance=tolerance or 1e-6)
                from margincall.store import Figure

                rec.complete(_finite(fc.to_dict()), headline=[Figure(("shock",), fc.shock, None)])
                what = "margin call" if event == "call" else "default"
                _say(f"first {what} of {fc.loan} with no diffusion, no jumps and no random marks (day-0 shock along {direction}):")
                _say(f"  day-1 LTV without a shock {fc.ltv_day1:.2%}; call at {fc.margin_call_ltv:.2%}"
                     + (f", liquidation at {fc.trigger_ltv:.2%}" if event == "default" else ""))
                _say(f"  smallest shock: {fc.shock:+.6%} ({', '.join(f'{a} {m:+.4%}' for a, m in fc.moves.items())}); "
                     f"it triggers the {what}, {fc.high:+.6%} does not (tolerance {fc.tolerance:g})")
                _say(f"  {fc.method}")
                _print_events(fc.events, "the deterministic path at that shock")
                if out is not None:
                    _say(f"wrote {_write_json(out / 'reverse.json', fc.to_dict())}")
                    write_tables({"first_call": fc.to_frame()}, out, formats, _say)
                return
            step = _step_printer(_metric_name(target), lambda x: f"shock {x:+.3%}")
            _err().print(f"searching along {direction} with {paths:,} paths a step (seed {seed}, common random numbers)", highlight=False)
            result = reverse_stress(
                model, target, weights, loan=loan, day=day, over_days=over_days, shock_range=shock_range or (-1.0, 0.0),
                tolerance=tolerance or 0.002, paths=paths, seed=seed, threads=threads, trace_paths=trace, on_step=step,
            )
            rec.complete(_finite(result.to_dict()), headline=_search_headline(result, "shock"))
            _console().print(_curve_table(result, f"Reverse stress along {direction} ({paths:,} paths, seed {seed})", "shock", lambda x: f"{x:+.3%}"))
            t = result.target
            if result.no_shock_needed:
                _say(f"no shock is needed: {t.text} already holds in the scenario as it is "
                     f"({t.metric} {_metric(t.metric, result.metric, result.metric_se)} without a shock)")
            else:
                _say(f"smallest shock reaching {t.text}: {result.value:+.2%} ({', '.join(f'{a} {m:+.2%}' for a, m in result.moves.items())})"
                     + (f" on day {day}" if day else "") + (f" over {over_days} days" if over_days > 1 else ""))
            _say(f"  {t.metric} there: {_metric(t.metric, result.metric, result.metric_se)}; "
                 f"band from the simulation error (± 2 SE contains the target): {result.low:+.2%} .. {result.high:+.2%}")
            _say_notes(None if result.no_shock_needed else result.note, result.se_note)
            _print_events(result.events, f"{len({e.path for e in result.events})} paths with the target's event")
            if out is not None:
                _say(f"wrote {_write_json(out / 'reverse.json', result.to_dict())}")
                write_tables({"curve": result.to_frame()}, out, formats, _say)
    except KeyboardInterrupt:
        _interrupted(recording)
    except _errors() as exc:
        _fail(exc)


def _search_headline(result: Any, name: str) -> list[Any]:
    """A search's headline: the value found, and the target's metric there ± SE."""
    from margincall.store import Figure

    t = result.target
    return [Figure((name,), result.value, None), Figure((t.scope or "", t.metric), result.metric, result.metric_se)]


def _metric_name(target: str) -> str:
    from margincall.analysis.search import parse_target

    return parse_target(target).metric


def _call_target(target: str, model: Any, loan: str | None) -> tuple[str | None, str | None]:
    """(event, its loan or None for the default) for a `call`/`default` or `LOAN.call`/`LOAN.default`
    target (the deterministic first event); (None, None) for a metric target."""
    text = target.strip()
    for event in ("call", "default"):
        if text == event:
            return event, loan
        if text.endswith(f".{event}"):
            name = text[: -len(event) - 1]
            if name not in model.loans:
                from margincall.analysis.search import TargetError

                raise TargetError(f"target '{target}': unknown loan '{name}'; loans: {', '.join(model.loans)}")
            return event, name
    return None, None


def size(
    scenario: ScenarioArg = None,
    loan: Annotated[Optional[str], typer.Option("--loan", help="The loan to size (its principal), and the default scope of the bound.")] = None,
    bound: Annotated[
        str,
        typer.Option("--max", "--bound", help="The bound to keep, e.g. 'p_margin_call<=0.01' or 'expected_loss<=1e8'."),
    ] = ...,  # type: ignore[assignment]
    field: Annotated[
        Optional[str],
        typer.Option("--field", help="Search this numeric field instead of the principal, e.g. loans.LOAN.margin_call_ltv (trigger design)."),
    ] = None,
    search_range: Annotated[Optional[tuple[float, float]], typer.Option("--range", callback=finite, help="Values to search, two numbers.")] = None,
    smallest: Annotated[bool, typer.Option("--smallest", help="When the whole range meets the bound, report its smallest value (default: largest).")] = False,
    tolerance: Annotated[Optional[float], typer.Option("--tolerance", min=0.0, callback=finite, help="Stop when the value is known to within this (default: range/1000).")] = None,
    paths: Annotated[int, _paths_opt("default 20,000")] = 20_000,
    seed: SeedOpt = 0,
    out: Annotated[Optional[Path], _out_opt("size.json")] = None,
    formats: FormatOpt = None,
    threads: ThreadsOpt = None,
    db: DbOpt = None,
    store: StoreOpt = True,
    label: LabelOpt = None,
) -> None:
    """Loan sizing and trigger design: the value of a field (default: the loan's principal) at which the bound is just met."""
    from margincall.analysis.search import SearchError, solve_field

    recording = False
    try:
        require_out(formats, out)
        loaded = _main()._read(scenario)
        model = loaded.scenario
        if field is None:
            if loan is None:
                raise SearchError("give --loan LOAN (its principal is sized) or --field PATH")
            if loan not in model.loans:
                from margincall.analysis.search import TargetError

                raise TargetError(f"unknown loan '{loan}'; loans: {', '.join(model.loans)}")
            path = f"loans.{loan}.principal"
        else:
            path = field
        with _recorded("size", loaded, seed=seed, paths=paths, store=store, db=db, label=label,
                       options={"loan": loan, "max": bound, "field": field, "range": list(search_range) if search_range else None, "smallest": smallest, "tolerance": tolerance}) as rec:
            recording = rec.active
            is_money = path.endswith(".principal")
            fmt: Callable[[float], str] = (lambda x: _money(x)) if is_money else (lambda x: f"{x:.6g}")
            step = _step_printer(_metric_name(bound), lambda x: f"{path.rsplit('.', 1)[-1]} {fmt(x)}")
            _err().print(f"searching {path} with {paths:,} paths a step (seed {seed}, common random numbers)", highlight=False)
            result = solve_field(
                model, path, bound, loan=loan, search_range=search_range, prefer="smallest" if smallest else "largest",
                tolerance=tolerance, paths=paths, seed=seed, threads=threads, on_step=step,
            )
            rec.complete(_finite(result.to_dict()), headline=_search_headline(result, path.rsplit(".", 1)[-1]))
            _console().print(_curve_table(result, f"{path} -> {result.target.scope}.{result.target.metric} ({paths:,} paths, seed {seed})", path.rsplit(".", 1)[-1], fmt))
            t = result.target
            word = "largest" if not smallest else "smallest"
            what = f"{word} principal" if is_money and not result.note else f"value of {path}"
            _say(f"{what} that meets {t.text}: {fmt(result.value)}")
            _say(f"  {t.metric} there: {_metric(t.metric, result.metric, result.metric_se)}; "
                 f"band from the simulation error (± 2 SE contains the bound): {fmt(result.low)} .. {fmt(result.high)}")
            _say_notes(result.note, result.se_note)
            if out is not None:
                _say(f"wrote {_write_json(out / 'size.json', result.to_dict())}")
                write_tables({"curve": result.to_frame()}, out, formats, _say)
    except KeyboardInterrupt:
        _interrupted(recording)
    except _errors() as exc:
        _fail(exc)


# -- sensitivities and debt service ---------------------------------------------------------------


def sensitivities(
    scenario: ScenarioArg = None,
    paths: Annotated[int, _paths_opt("default 4,096; the same paths for the base and every bumped variant")] = 4_096,
    seed: SeedOpt = 0,
    metric: Annotated[
        Optional[str],
        typer.Option("--metric", help="Rank the inputs by their effect on this metric, e.g. borrower.p_default or LOAN.expected_loss "
                     "(default: borrower.p_default; for a book of several borrowers, system.p_any_default)."),
    ] = None,
    only: Annotated[
        Optional[list[str]],
        typer.Option("--only", help="Kinds of bump: volatility, correlation, drift, haircut, trigger (call and liquidation LTV), "
                     "cure (cure LTV); repeat; default: all but cure."),
    ] = None,
    out: Annotated[Optional[Path], _out_opt("sensitivities.json and sensitivities.html (tornado charts and the table)")] = None,
    formats: FormatOpt = None,
    threads: ThreadsOpt = None,
    db: DbOpt = None,
    store: StoreOpt = True,
    label: LabelOpt = None,
) -> None:
    """Which inputs matter: each volatility, correlation, drift, haircut and trigger lowered and raised,
    ranked by the change of one metric (a tornado), with common random numbers and standard errors."""
    from margincall.analysis.sensitivities import sensitivities as run_sensitivities

    recording = False
    try:
        require_out(formats, out)
        loaded = _main()._read(scenario)
        model = loaded.scenario
        with _recorded("sensitivities", loaded, seed=seed, paths=paths, store=store, db=db, label=label,
                       options={"only": list(only) if only else None, "metric": metric}) as rec:
            recording = rec.active
            with _bar("bumps") as bar:
                task = bar.add_task("simulations", total=None)
                report = run_sensitivities(
                    model, paths=paths, seed=seed, kinds=only, threads=threads,
                    progress=lambda done, total: bar.update(task, completed=done, total=total), metric=metric,
                )
            rec.complete(_finite(report.to_dict()), headline=_base_headline(report.base))
            metric = metric or report.default_metric
            _console().print(sensitivity_table(report, metric))
            for note in report.notes:
                _say(f"note: {note}")
            others = [m for m in report.metrics if m != metric]
            listed = ", ".join(others) if len(others) <= 12 else f"{', '.join(others[:8])}, … ({len(others)} in all; sensitivities.json has each one)"
            _say(f"{report.simulations} simulations in {report.elapsed_seconds:.1f} s; rank by another metric with --metric: {listed}")
            _console().print(debt_service_table(report.debt_service, model.currency))
            _say("debt service: the probability follows the scenario's market law (its fair values and shocks) and ignores the borrower's actions")
            if out is not None:
                from margincall.report import write_sensitivity_report

                _say(f"wrote {_write_json(out / 'sensitivities.json', report.to_dict())}")
                _say(f"wrote {write_sensitivity_report(report, model, out / 'sensitivities.html', metric=metric)}")
                write_tables(report.frames(), out, formats, _say)
    except KeyboardInterrupt:
        _interrupted(recording)
    except _errors() as exc:
        _fail(exc)


def _base_headline(base: dict[str, float]) -> list[Figure]:
    """The headline of a sensitivities run: the base values (batch means, no SE) of the first
    loan's P(call) and P(default) and the borrower's P(default)."""
    from margincall.store import Figure
    from margincall.store._figures import HEADLINE_METRICS

    figures, first = [], None
    for key, value in base.items():
        who, _, metric = key.rpartition(".")
        if metric not in HEADLINE_METRICS:
            continue
        if who == "borrower":
            figures.append(Figure(("borrower", metric), value, None))
        elif first in (None, who):
            first = who
            figures.append(Figure(("loans", who, metric), value, None))
    return figures


def sensitivity_table(report: Any, metric: str) -> Table:
    """One table: the inputs ranked by their effect on `metric` (largest first), with the metric's
    change when each is lowered and raised, ± SE."""
    from margincall.report import bump_label, change_text, is_count, metric_label

    rows = report.ranked(metric)  # a clear error for an unknown metric
    cur = report.currency
    base = report.base[metric]
    shown = _prob(base) if metric.rpartition(".")[2].startswith("p_") else f"{base:.3f}" if is_count(metric) else _money(base)
    table = Table(title=f"Sensitivities of {metric_label(metric)} (base {shown}): {report.paths:,} paths a variant, seed {report.seed}, "
                        "common random numbers; ranked by the change between lowered and raised")
    for column in ("#", "input value (lowered / raised)", "lowered", "raised", "swing"):
        table.add_column(column, justify="left" if column.startswith("input") else "right")
    for rank, row in enumerate(rows, start=1):
        table.add_row(str(rank), bump_label(row), change_text(metric, row.down_change, row.down_se, cur),
                      change_text(metric, row.up_change, row.up_se, cur), change_text(metric, row.swing, None, cur).lstrip("+"))
    return table


def debt_service_table(rows: list[Any], currency: str) -> Table:
    table = Table(title=f"Debt service: collateral growth that pays the interest over the term ({currency})")
    for column in ("loan", "term (years)", "collateral", "interest", "breakeven growth /yr", "P(collateral beats it)", "method"):
        table.add_column(column, justify="left" if column in ("loan", "method") else "right")
    for d in rows:
        table.add_row(
            d.who, f"{d.years:.2f}", _money(d.collateral), _money(d.interest),
            "-" if d.breakeven_growth is None else f"{d.breakeven_growth:.3%}",
            "-" if d.p_beats is None else (_prob(d.p_beats, d.p_beats_se) if d.p_beats_se else f"{d.p_beats:.2%}"),
            d.method,
        )
    return table


def debt_service_command(
    scenario: ScenarioArg = None,
    paths: Annotated[int, typer.Option("--paths", "-n", min=1, help="Draws of the Monte Carlo for a pool of several assets (default 200,000; "
                                        "a pool of one asset is in closed form).")] = 200_000,
    seed: SeedOpt = 0,
    out: Annotated[Optional[Path], _out_opt("debt-service.json")] = None,
    formats: FormatOpt = None,
) -> None:
    """For each loan, the collateral growth a year that pays its interest, and the probability that the collateral beats it."""
    from dataclasses import asdict

    from margincall.analysis.sensitivities import debt_service

    try:
        require_out(formats, out)
        model = _main()._load(scenario)
        rows = debt_service(model, seed=seed, draws=paths)
        _console().print(debt_service_table(rows, model.currency))
        _say("the probability follows the scenario's market law (fair values and shocks) and ignores the borrower's actions")
        if out is not None:
            data = {"scenario": model.name, "currency": model.currency, "draws": paths, "seed": seed, "debt_service": [asdict(d) for d in rows]}
            _say(f"wrote {_write_json(out / 'debt-service.json', data)}")
            from margincall.analysis.frames import debt_service_frame

            write_tables({"debt_service": debt_service_frame(rows, model.currency, scenario=model.name)}, out, formats, _say)
    except _errors() as exc:
        _fail(exc)


# -- calibration ----------------------------------------------------------------------------------


def calibrate(
    prices: Annotated[Path, typer.Argument(help="CSV file: a date column and one column of prices (or values) per asset.")],
    out: Annotated[Optional[Path], _out_opt("calibration.json and calibration.yaml")] = None,
    columns: Annotated[
        Optional[list[str]],
        typer.Option("--columns", "--column", help="The price columns to use, comma-separated (a,b) or repeated; "
                     "default: the columns that look like prices (Volume, Open, High, Low and, beside Close, Adj Close are skipped)."),
    ] = None,
    date_column: Annotated[Optional[str], typer.Option("--date-column", help="Name of the date column; default: the first.")] = None,
    start: Annotated[Optional[str], typer.Option("--start", help="First date used, YYYY-MM-DD.")] = None,
    end: Annotated[Optional[str], typer.Option("--end", help="Last date used, YYYY-MM-DD.")] = None,
    threshold: Annotated[float, typer.Option("--threshold", min=0.5, callback=finite, help="A jump is a return more than this many robust sds from the median.")] = 4.0,
    confidence: Annotated[float, typer.Option("--confidence", min=0.5, max=0.999, callback=finite, help="Confidence of the intervals.")] = 0.95,
    days_per_year: Annotated[int, typer.Option("--days-per-year", min=1, max=366, help="Trading days a year.")] = 252,
) -> None:
    """Estimate annual volatility, drift, correlation and jumps from a price history; print them with intervals and a scenario fragment."""
    import datetime as dt

    from margincall.analysis.calibrate import CalibrationError, read_prices
    from margincall.analysis.calibrate import calibrate as run_calibration

    try:
        def date(text: str | None, name: str) -> dt.date | None:
            if text is None:
                return None
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                raise CalibrationError(f"{name} '{text}' is not a date; write YYYY-MM-DD") from None

        chosen = [c.strip() for text in columns or () for c in text.split(",") if c.strip()] or None
        history = read_prices(prices, date_column=date_column, columns=chosen)
        _say(f"price columns: {', '.join(history.names)}" + ("" if chosen else " (chosen by their names; --columns to choose)"))
        for name, why in history.skipped.items():
            _say(f"  skipped '{name}': {why}")
        result = run_calibration(history, days_per_year=days_per_year, jump_threshold=threshold, confidence=confidence,
                                 start=date(start, "--start"), end=date(end, "--end"))
        _console().print(calibration_table(result))
        _say(result.yaml_fragment())
        if out is not None:
            _say(f"wrote {_write_json(out / 'calibration.json', result.to_dict())}")
            path = out / "calibration.yaml"
            path.write_text(result.yaml_fragment(), encoding="utf-8")
            _say(f"wrote {path}")
    except _errors() as exc:
        _fail(exc)


def calibration_table(result: Any) -> Table:
    pct = f"{result.confidence:.0%}"
    table = Table(title=f"Calibration — {result.source}, {result.start} .. {result.end} ({pct} intervals)")
    for column in ("asset", "returns", "volatility /yr", "drift /yr", "jumps /yr", "jump mean (log)", "jump sd (log)"):
        table.add_column(column, justify="left" if column == "asset" else "right")

    def est(e: Any, f: str = ".2%") -> str:
        if e is None:
            return "-"
        if e.low is None:
            return format(e.value, f)
        return f"{format(e.value, f)} [{format(e.low, f)}, {format(e.high, f)}]"

    for name, a in result.assets.items():
        j = a.jumps
        table.add_row(name, f"{a.observations:,}", est(a.volatility), est(a.drift), f"{j.count}: " + est(j.rate, ".2f"),
                      est(j.mean, ".4f"), est(j.stdev, ".4f"))
    for a, b, e in result.correlation:
        table.add_row(f"corr {a}/{b}", "", est(e, ".3f"), "", "", "", "")
    return table


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("stress")(stress)
    app.command("reverse")(reverse)
    app.command("size")(size)
    app.command("sensitivities")(sensitivities)
    app.command("debt-service")(debt_service_command)
    app.command("calibrate")(calibrate)
