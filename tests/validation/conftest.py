"""The statistical validation suite: fixed seeds, tolerances from the engine's standard errors.

Shared builders and closed forms live in `validation_support.py`; this file puts that module on
the import path whatever pytest's import mode is.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
