"""Where a result holds a number that is not finite: results are checked before they are shown,
written or stored, so that NaN or infinity never passes for an answer."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def first_nonfinite(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The path (keys and list positions) of the first NaN or infinite float in `value` (nested
    mappings, lists and tuples; numpy scalars included), or None when every number is finite."""
    if isinstance(value, float) or type(value).__name__ in ("float64", "float32"):
        return None if math.isfinite(float(value)) else path
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = first_nonfinite(item, (*path, str(key)))
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = first_nonfinite(item, (*path, str(i)))
            if found is not None:
                return found
    return None
