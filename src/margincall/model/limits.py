"""Every bound margincall puts on its input, in one place, each overridable by an environment variable.

Bounds keep a careless or hostile input from running for hours or filling memory: a file's size
is checked before it is read, a YAML document's depth and size while it is parsed, counts of
entities and the horizon when a scenario is validated, path counts and sweep points before a run
starts. Each bound fails fast with a message that names it and the variable that raises it::

    from margincall.model.limits import limits
    limits().check("paths", 10**12, subject="--paths")
    # LimitError: --paths is 1,000,000,000,000, above the bound of 1,000,000,000 paths per run;
    # if you mean it, raise the bound: MARGINCALL_MAX_PATHS=1000000000000

The values are read from the environment on each `limits()` call (a few dictionary look-ups),
so a variable set after import takes effect. This module imports nothing of margincall's: the
schema (`margincall.model`) and every layer above may use it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

__all__ = ["BOUNDS", "Bound", "LimitError", "Limits", "bound", "limits"]


class LimitError(ValueError):
    """An input beyond a stated bound, or a bound's environment variable that is not a number.
    `bound` is the `Bound` concerned; `value` what was given."""

    def __init__(self, message: str, bound: Bound, value: object = None):
        super().__init__(message)
        self.bound = bound
        self.value = value


@dataclass(frozen=True)
class Bound:
    """One bound: its name (a field of `Limits`), the environment variable that overrides it,
    its default, its unit (plural, as in "paths per run") and what it bounds."""

    name: str
    env: str
    default: int | float
    unit: str
    what: str

    @property
    def integral(self) -> bool:
        return isinstance(self.default, int)

    def read(self, environ: Mapping[str, str] | None = None) -> int | float:
        """The bound in force: the environment variable's value when set, else the default."""
        raw = (os.environ if environ is None else environ).get(self.env, "").strip()
        if not raw:
            return self.default
        try:
            number = float(raw.replace("_", ""))
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and number > 0 and (not self.integral or number.is_integer())):
            kind = "a positive whole number" if self.integral else "a positive number"
            raise LimitError(
                f"{self.env}={raw!r} is not {kind}; give one (e.g. {self.env}={_plain(self.default)}) "
                f"or unset it to use the default of {_shown(self.default)} {self.unit}",
                self,
                raw,
            )
        return int(number) if self.integral else number

    def problem(self, value: int | float, limit: int | float, subject: str | None = None) -> str | None:
        """The message for `value` beyond `limit`, or None when it is within it."""
        if value <= limit:
            return None
        return (
            f"{subject or self.what} is {_shown(value)}, above the bound of {_shown(limit)} {self.unit}; "
            f"if you mean it, raise the bound: {self.env}={_plain(_raised(value, self.integral))}"
        )


def _shown(value: int | float) -> str:
    if isinstance(value, int) or float(value).is_integer() and abs(value) < 1e18:
        return f"{int(value):,}"
    return f"{value:g}"


def _plain(value: int | float) -> str:
    return str(int(value)) if isinstance(value, int) or float(value).is_integer() and abs(value) < 1e18 else f"{value:g}"


def _raised(value: int | float, integral: bool) -> int | float:
    return math.ceil(value) if integral else value


BOUNDS: tuple[Bound, ...] = (
    Bound("file_bytes", "MARGINCALL_MAX_FILE_BYTES", 10_000_000, "bytes",
          "size of a scenario or stress file, checked before it is read"),
    Bound("prices_bytes", "MARGINCALL_MAX_PRICES_BYTES", 100_000_000, "bytes",
          "size of a prices CSV (historical market, calibrate), checked before it is read"),
    Bound("yaml_depth", "MARGINCALL_MAX_YAML_DEPTH", 32, "levels", "nesting depth of a YAML document"),
    Bound("yaml_nodes", "MARGINCALL_MAX_YAML_NODES", 1_000_000, "nodes",
          "values in a YAML document, counting each use of an alias in full"),
    Bound("yaml_aliases", "MARGINCALL_MAX_YAML_ALIASES", 10_000, "aliases", "uses of aliases (*name) in a YAML document"),
    Bound("assets", "MARGINCALL_MAX_ASSETS", 1_000, "assets", "number of assets in a scenario"),
    Bound("loans", "MARGINCALL_MAX_LOANS", 1_000, "loans", "number of loans in a scenario"),
    Bound("borrowers", "MARGINCALL_MAX_BORROWERS", 1_000, "borrowers", "number of borrowers in a scenario"),
    Bound("lenders", "MARGINCALL_MAX_LENDERS", 1_000, "lenders", "number of lenders in a scenario"),
    Bound("cash_flows", "MARGINCALL_MAX_CASH_FLOWS", 100_000, "cash flows", "number of cash flows in a scenario, in all"),
    Bound("shocks", "MARGINCALL_MAX_SHOCKS", 10_000, "shocks", "number of shocks in a scenario or stress"),
    Bound("correlations", "MARGINCALL_MAX_CORRELATIONS", 500_000, "pairs", "number of correlation pairs in a scenario"),
    Bound("horizon_days", "MARGINCALL_MAX_HORIZON_DAYS", 25_200, "trading days",
          "horizon, and any other length in days (100 years of 252 trading days)"),
    Bound("amount", "MARGINCALL_MAX_AMOUNT", 1e15, "currency units",
          "size of any amount of money, in the scenario's currency"),
    Bound("name_chars", "MARGINCALL_MAX_NAME_CHARS", 200, "characters",
          "length of an id, a name or a run label"),
    Bound("paths", "MARGINCALL_MAX_PATHS", 1_000_000_000, "paths per run", "Monte Carlo paths of one run"),
    Bound("trace_paths", "MARGINCALL_MAX_TRACE_PATHS", 1_000, "paths", "paths whose events are printed (--trace)"),
    Bound("sweep_points", "MARGINCALL_MAX_SWEEP_POINTS", 10_000, "points", "points of a sweep grid"),
    Bound("workers", "MARGINCALL_MAX_WORKERS", 64, "worker processes", "worker processes of a local Dask cluster"),
    Bound("dask_timeout_s", "MARGINCALL_DASK_TIMEOUT", 10.0, "seconds",
          "wait for a Dask scheduler to answer, and for its first worker"),
    Bound("db_connect_timeout_s", "MARGINCALL_DB_CONNECT_TIMEOUT", 10.0, "seconds",
          "wait for a PostgreSQL run store to accept a connection"),
    Bound("db_statement_timeout_s", "MARGINCALL_DB_STATEMENT_TIMEOUT", 60.0, "seconds",
          "run time of one statement on a PostgreSQL run store"),
)
_BY_NAME = {b.name: b for b in BOUNDS}


def bound(name: str) -> Bound:
    """The `Bound` called `name` (a field of `Limits`)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no bound {name!r}; bounds: {', '.join(_BY_NAME)}") from None


@dataclass(frozen=True)
class Limits:
    """The bounds in force (see `BOUNDS` for each one's unit, variable and meaning)."""

    file_bytes: int
    prices_bytes: int
    yaml_depth: int
    yaml_nodes: int
    yaml_aliases: int
    assets: int
    loans: int
    borrowers: int
    lenders: int
    cash_flows: int
    shocks: int
    correlations: int
    horizon_days: int
    amount: float
    name_chars: int
    paths: int
    trace_paths: int
    sweep_points: int
    workers: int
    dask_timeout_s: float
    db_connect_timeout_s: float
    db_statement_timeout_s: float

    @classmethod
    def defaults(cls) -> Limits:
        return cls(**{b.name: b.default for b in BOUNDS})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, each replaced by its environment variable where one is set; `LimitError`
        naming the variable when one is not a positive number."""
        return cls(**{b.name: b.read(environ) for b in BOUNDS})

    def problem(self, name: str, value: int | float, subject: str | None = None) -> str | None:
        """The message for `value` beyond the bound `name` (None when within it); `subject` is
        what the message calls the value (an option such as --paths, or a field path)."""
        return bound(name).problem(value, getattr(self, name), subject)

    def check(self, name: str, value: int | float, subject: str | None = None) -> None:
        """Raise `LimitError` when `value` is beyond the bound `name`."""
        message = self.problem(name, value, subject)
        if message is not None:
            raise LimitError(message, bound(name), value)


assert [f.name for f in fields(Limits)] == [b.name for b in BOUNDS], "Limits and BOUNDS list the same bounds in order"


def limits(environ: Mapping[str, str] | None = None) -> Limits:
    """The bounds in force now (defaults overridden by MARGINCALL_MAX_* and the timeouts' variables)."""
    return Limits.from_env(environ)


def markdown_table() -> str:
    """The bounds as a Markdown table (bound, default, variable): the README and docs/reliability.md
    carry it, and a test keeps them current."""
    lines = ["| bound | default | override |", "| --- | --- | --- |"]
    for b in BOUNDS:
        lines.append(f"| {b.what} | {_shown(b.default)} {b.unit} | `{b.env}` |")
    return "\n".join(lines)
