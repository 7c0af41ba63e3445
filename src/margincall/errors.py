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
