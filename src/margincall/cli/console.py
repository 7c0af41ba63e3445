"""The CLI's consoles: every user string is shown as typed.

Scenario names, ids, labels and file names come from users. Printed through rich, `[blink red]`
would be styling and `[/x]` an exception; an escape character could move the cursor. The console
here treats every string literally (markup only where a call asks for it, with user text escaped)
and writes control characters as visible escapes.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from rich.console import Console
from rich.text import Text

# C0 and C1 control characters (newline and tab kept), DEL, and the bidirectional overrides that can
# make a name read differently from what it is.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def literal(text: str) -> str:
    """`text` with control characters written as escapes (\\x1b, \\u202e): a name shows what it is,
    and cannot move the cursor, clear the screen or reverse the line."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class LiteralConsole(Console):
    """A console that shows every string as typed: no rich markup or emoji codes unless a call asks
    for markup (`markup=True`, with user text escaped), and control characters escaped. Table
    cells and titles are strings rendered here too, so an id like `[blink red]loan[/]` or `[/x]`
    prints as written and never raises."""

    def __init__(self, **options: Any):
        options.setdefault("markup", False)
        options.setdefault("emoji", False)
        super().__init__(**options)

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(literal(text), **options)


def terminal(*, stderr: bool = False) -> LiteralConsole:
    """The CLI's console for stdout or stderr; piped output gets wide tables rather than rich's
    80-column default."""
    stream = sys.stderr if stderr else sys.stdout
    return LiteralConsole(stderr=stderr, soft_wrap=True, width=None if stream.isatty() else 160)
