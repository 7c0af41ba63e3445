"""Where the store lives: an explicit URL, else $MARGINCALL_DB, else a SQLite file in the user's data folder."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from margincall.store._errors import StoreError

ENV_URL = "MARGINCALL_DB"
FILE_NAME = "runs.db"
FORMS = "a SQLite file path, sqlite:///PATH, or postgresql://USER@HOST:PORT/DATABASE"


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
        try:
            raw = f"sqlite:///{Path(raw).expanduser().absolute()}"
        except (RuntimeError, ValueError) as exc:  # ~user that does not exist; a NUL in the path
            raise StoreError(f"the run store {raw!r} is not a usable path ({exc}); give {FORMS}") from None
    try:
        parsed = make_url(raw)
    except (ArgumentError, ValueError) as exc:
        raise StoreError(f"the run store {_redacted(raw)!r} is not a database URL ({exc}); give {FORMS}") from None
    backend, _, driver = parsed.drivername.partition("+")  # without loading a dialect: foo:// is not an ImportError
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend in ("postgresql", "postgres"):
        raise StoreError(f"the run store {shown(parsed)} names the driver '{driver}'; margincall talks to PostgreSQL through "
                         "psycopg 3: write postgresql://... or postgresql+psycopg://...")
    if backend == "sqlite" and driver not in ("", "pysqlite"):
        raise StoreError(f"the run store {shown(parsed)} names the driver '{driver}'; write sqlite:///PATH")
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(f"the run store {shown(parsed)} is a '{backend}' database; margincall keeps runs in SQLite or "
                         f"PostgreSQL: give {FORMS}")
    return parsed


def _redacted(raw: str) -> str:
    """A URL that could not be parsed, with anything between :// and @ hidden (it may hold a password)."""
    head, sep, rest = raw.partition("://")
    if sep and "@" in rest:
        return f"{head}://***@{rest.rpartition('@')[2]}"
    return raw


def shown(url: URL) -> str:
    """The URL with any password hidden, for messages."""
    return url.render_as_string(hide_password=True)
