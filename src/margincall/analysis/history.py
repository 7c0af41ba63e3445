"""The returns the `historical` market model replays: a scenario's prices CSV -> [days, assets]
daily log returns in the scenario's asset order, read once per file version (cached by path,
modification time and size).

`load_scenario` stores `market.prices` as an absolute path (relative paths are taken from the
scenario file's folder), so `simulate(scenario)` finds the file wherever it runs from.
"""

from __future__ import annotations

import csv
import functools
import os
from pathlib import Path

import numpy as np

from margincall.analysis.calibrate import CalibrationError, read_prices
from margincall.analysis.files import read_text
from margincall.errors import InputFileError, ScenarioError
from margincall.model.limits import LimitError
from margincall.model.scenario import Scenario

Loc = tuple[str | int, ...]
_HEAD_BYTES = 1 << 16  # enough of a prices file for its header row


class _Problem(Exception):
    def __init__(self, loc: Loc, message: str):
        super().__init__(message)
        self.loc = loc
        self.message = message


def resolve_prices(scenario: Scenario, base_dir: str | Path | None) -> Scenario:
    """The scenario with `market.prices` made absolute: a relative path is taken from `base_dir`
    (the scenario file's folder; the working folder when None)."""
    market = scenario.market
    if market is None or market.prices is None:
        return scenario
    path = Path(market.prices).expanduser()
    if not path.is_absolute():
        path = Path(base_dir if base_dir is not None else Path.cwd()) / path
    absolute = os.path.abspath(path)  # not resolve(): a symlink loop is reported when the file is read
    if absolute == market.prices:
        return scenario
    return scenario.model_copy(update={"market": market.model_copy(update={"prices": absolute})})


def history_problems(scenario: Scenario, base_dir: str | Path | None = None) -> list[tuple[Loc, str]]:
    """What keeps the scenario's prices file from being replayed, as (field path, message) pairs."""
    try:
        _returns(scenario, base_dir)
    except _Problem as problem:
        return [(problem.loc, problem.message)]
    return []


def history_returns(scenario: Scenario, base_dir: str | Path | None = None) -> np.ndarray | None:
    """Daily log returns [days, assets] (asset order) that the historical model replays; None
    under the gbm model. A fresh array each call. Raises `ScenarioError` naming market.prices or
    market.columns when the file is missing, lacks a column or has too few rows."""
    try:
        return _returns(scenario, base_dir)
    except _Problem as problem:
        where = ".".join(str(part) for part in problem.loc)
        raise ScenarioError(scenario.name or "<scenario>", [(where, problem.message)]) from None


def _returns(scenario: Scenario, base_dir: str | Path | None) -> np.ndarray | None:
    if not scenario.historical:
        return None
    market = scenario.market
    assert market is not None
    if market.prices is None:
        raise _Problem(("market", "prices"), "the historical model replays a prices CSV; give its path")
    path = Path(resolve_prices(scenario, base_dir).market.prices)  # type: ignore[union-attr, arg-type]
    header = _header(path)
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise _Problem(("market", "prices"), f"{path}: cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    wanted = scenario.history_columns()
    explicit = market.columns or {}
    for asset_id, column in wanted.items():
        if column not in header:
            loc: Loc = ("market", "columns", asset_id) if asset_id in explicit else ("market", "columns")
            raise _Problem(
                loc,
                f"{path} has no column '{column}' for asset '{asset_id}'; its columns: {', '.join(header) or '(none)'}"
                + ("" if asset_id in explicit else "; map the asset to one with market.columns"),
            )
    unique = tuple(dict.fromkeys(wanted.values()))
    rows, returns = _read_returns(str(path), stat.st_mtime_ns, stat.st_size, unique)
    if rows < market.block_days + 1:
        raise _Problem(
            ("market", "prices"),
            f"{path} has {rows} dated rows with a price in every used column ({', '.join(unique)}); "
            f"blocks of market.block_days = {market.block_days} need at least {market.block_days + 1}",
        )
    position = {column: k for k, column in enumerate(unique)}
    return np.ascontiguousarray(returns[:, [position[wanted[a]] for a in scenario.assets]], dtype=np.float64)


def _header(path: Path) -> list[str]:
    """The CSV's column names, the date column (the first) left out."""
    try:
        head = read_text(path, bound="prices_bytes", head=_HEAD_BYTES)
    except InputFileError as exc:
        hint = "; give a CSV of daily prices (a date column, one column per asset)" if exc.reason == "not found" else ""
        raise _Problem(("market", "prices"), f"{path}: {exc.reason}{hint}") from None
    except LimitError as exc:
        raise _Problem(("market", "prices"), str(exc)) from None
    try:
        for row in csv.reader(head.splitlines()):
            if any(cell.strip() for cell in row):
                return [cell.strip() for cell in row[1:]]
    except csv.Error as exc:
        raise _Problem(("market", "prices"), f"{path}: cannot be read as a CSV ({exc})") from None
    raise _Problem(("market", "prices"), f"{path}: is empty; give a header (date, then one column per asset) and daily rows")


@functools.lru_cache(maxsize=16)
def _read_returns(path: str, mtime_ns: int, size: int, columns: tuple[str, ...]) -> tuple[int, np.ndarray]:
    """The number of dated rows with a price in every one of `columns`, and the log returns
    [rows - 1, columns] between consecutive such rows (sorted by date). Cached per file version
    (read-only: callers copy)."""
    del mtime_ns, size  # part of the cache key only
    try:
        history = read_prices(path, columns=list(columns))
    except CalibrationError as exc:
        raise _Problem(("market", "prices"), str(exc)) from None
    complete = np.all(np.isfinite(history.prices), axis=1)
    prices = history.prices[complete]
    returns = np.diff(np.log(prices), axis=0) if prices.shape[0] >= 2 else np.zeros((0, len(columns)))
    returns.flags.writeable = False
    return int(prices.shape[0]), returns
