"""Small helpers shared by the store's modules."""

from __future__ import annotations

import datetime as dt
import hashlib


def scenario_hash(text: str) -> str:
    """SHA-256 of the scenario text (UTF-8), hex: the key to find runs of the same scenario."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def now() -> dt.datetime:
    """The time now, UTC."""
    return dt.datetime.now(dt.UTC)
