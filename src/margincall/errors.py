"""The exceptions margincall raises at its boundary."""

from __future__ import annotations


class MarginCallError(Exception):
    """Base of every error margincall raises on purpose."""


class ScenarioError(MarginCallError, ValueError):
    """A scenario that cannot be read or is not valid. `problems` lists (where, what) pairs,
    `where` being a field path such as `loans.acme-loan.cure_ltv (line 12)`."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = [f"{source}: {len(problems)} problem{'s' if len(problems) != 1 else ''}"]
        lines += [f"  {where}: {what}" for where, what in problems]
        super().__init__("\n".join(lines))


class SimulationError(MarginCallError):
    """Arguments to a simulation that cannot be used (a path count of 0, say)."""


class InputFileError(MarginCallError, ValueError):
    """A file that margincall will not read: missing, not a regular file, too large, not UTF-8.
    `path` is the path as given, `reason` what is wrong with it."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")
