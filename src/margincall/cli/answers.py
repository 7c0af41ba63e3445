"""Commands that answer questions: stress, reverse, size, sensitivities, calibrate."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
