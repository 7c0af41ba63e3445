"""Options shared by the commands, checked where they are parsed: a value beyond a bound, or a
number that is not finite, is a usage error that names the option (exit status 2).

Bounds come from `margincall.model.limits` (each with its MARGINCALL_MAX_* variable); the
message says how to raise them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any, Optional

import typer

from margincall.model.limits import LimitError, limits

MAX_SEED = 2**63 - 1


def bounded(name: str) -> Callable[[Any], Any]:
    """A callback that refuses a value beyond the bound `name` (e.g. "paths")."""

    def check(value: Any) -> Any:
        if value is None:
            return value
        try:
            message = limits().problem(name, value, "the value")
        except LimitError as exc:  # the bound's own variable is not a number
            raise typer.BadParameter(str(exc)) from None
        if message is not None:
            raise typer.BadParameter(message)
        return value

    return check


def finite(value: Any) -> Any:
    """Refuse nan and inf (click reads them as floats), alone or in a tuple."""
    values = value if isinstance(value, tuple) else (value,)
    for v in values:
        if isinstance(v, float) and not math.isfinite(v):
            raise typer.BadParameter(f"{v} is not a finite number")
    return value


def positive(value: Any) -> Any:
    """Refuse a number that is not finite and above 0."""
    finite(value)
    if value is not None and not value > 0:
        raise typer.BadParameter(f"{value} is not above 0")
    return value


def _label(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not text:
        raise typer.BadParameter("a label needs some text; leave --label out for none")
    bounded("name_chars")(len(text))
    return text


def paths_option(default_note: str = "") -> Any:
    note = f" ({default_note})" if default_note else ""
    return typer.Option("--paths", "-n", min=1, callback=bounded("paths"),
                        help=f"Monte Carlo paths{note}; at most MARGINCALL_MAX_PATHS (1,000,000,000).")


def seed_option(help_text: str = "Random seed: the same seed gives the same numbers.") -> Any:
    return typer.Option("--seed", "-s", min=0, max=MAX_SEED, help=help_text)


LabelOpt = Annotated[
    Optional[str],
    typer.Option("--label", callback=_label, help="A label for the run in the run store (shown by `runs`, used by `runs --label`)."),
]
DbOpt = Annotated[
    Optional[str],
    typer.Option("--db", envvar="MARGINCALL_DB", help="Run store URL or SQLite file (default: the user's data folder)."),
]
StoreOpt = Annotated[bool, typer.Option("--store/--no-store", help="Record the run in the run store.")]
TraceOpt = Annotated[
    int, typer.Option("--trace", min=0, callback=bounded("trace_paths"), help="Also print the event log of the first N paths.")
]


def _formats(values: list[str] | None) -> list[str]:
    if not values:
        return []
    from margincall.analysis.frames import FrameFormatError, parse_formats

    try:
        return parse_formats(values)
    except FrameFormatError as exc:
        raise typer.BadParameter(str(exc)) from None


FormatOpt = Annotated[
    Optional[list[str]],
    typer.Option("--format", callback=_formats, metavar="csv|parquet",
                 help="Also write the results as tables (one row per loan, borrower, ...) into --out: csv, parquet or "
                      "csv,parquet; repeatable. Parquet needs pyarrow (margincall's 'parquet' extra)."),
]


def require_out(formats: list[str] | None, out: object | None) -> None:
    """`--format` writes files into `--out`: without a folder it is an error (before anything runs)."""
    if formats and out is None:
        from margincall.errors import MarginCallError

        raise MarginCallError(f"--format {','.join(formats)} writes tables into a folder: give --out FOLDER as well")


def write_tables(frames: dict[str, Any], out: Any, formats: list[str] | None, say: Callable[[str], None]) -> None:
    """Each table in each format asked for, next to the JSON in `out`; one 'wrote' line each."""
    if not formats:
        return
    from margincall.analysis.frames import write_frames

    for path in write_frames(frames, out, formats):
        say(f"wrote {path}")
