"""Where the store lives: an explicit URL, else $MARGINCALL_DB, else a SQLite file in the user's data folder."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url

ENV_URL = "MARGINCALL_DB"
FILE_NAME = "runs.db"


def data_dir() -> Path:
    """$XDG_DATA_HOME/margincall, else ~/.local/share/margincall."""
    base = os.environ.get("XDG_DATA_HOME") or ""
    root = Path(base) if base.strip() and Path(base).is_absolute() else Path.home() / ".local" / "share"
    return root / "margincall"


def default_url() -> str:
    """The SQLite file used when neither an URL nor $MARGINCALL_DB is given."""
    return f"sqlite:///{data_dir() / FILE_NAME}"


def resolve_url(url: str | os.PathLike[str] | None = None) -> URL:
    """The store's SQLAlchemy URL.

    Order: `url`, then $MARGINCALL_DB, then `default_url()`. A value without `://` is a SQLite file path;
    `postgresql://` and `postgres://` mean the psycopg (3) driver.
    """
    raw = os.fspath(url) if url is not None else (os.environ.get(ENV_URL) or "").strip() or default_url()
    if "://" not in raw:
        raw = f"sqlite:///{Path(raw).expanduser().resolve()}"
    parsed = make_url(raw)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def shown(url: URL) -> str:
    """The URL with any password hidden, for messages."""
    return url.render_as_string(hide_password=True)
