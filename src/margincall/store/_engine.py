"""Engines for the store's back ends, and the schema migration run when a store opens.

SQLite: WAL journal (readers never block the writer), a busy timeout, and every transaction
begun with BEGIN IMMEDIATE, so that concurrent processes writing one file queue for the write
lock instead of failing or corrupting it. PostgreSQL: psycopg 3; migrations take an advisory lock.
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import StaticPool

from margincall._version import __version__
from margincall.store._errors import StoreError
from margincall.store._url import shown

BUSY_TIMEOUT_S = 60.0  # how long a SQLite writer waits for another's lock before giving up
MIGRATION_LOCK = 0x6D617267696E63  # PostgreSQL advisory lock key held while migrating ("margin c")


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} cannot be stored as JSON")


def _json(value: Any) -> str:
    return json.dumps(value, allow_nan=False, default=_plain)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (the sqlite3 module's implicit transactions would defer it).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


READ_ONLY = "margincall_read_only"  # execution option of the store's read-only sessions


def _sqlite_begin(connection: Connection) -> None:
    # Take the write lock at the start: a deferred transaction that reads and then writes can fail
    # at once with SQLITE_BUSY under WAL when another process committed in between. A session that
    # only reads (READ_ONLY) begins a deferred transaction: under WAL it never waits for writers.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_store_engine(url: URL) -> Engine:
    """An engine for `url` set up for concurrent use by several processes."""
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        memory = database in ("", ":memory:") or "mode=memory" in str(url)
        if not memory and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        options: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}}
        if memory:
            options["poolclass"] = StaticPool
        engine = create_engine(url, json_serializer=_json, **options)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, json_serializer=_json, pool_pre_ping=True)


def alembic_config(url: URL | str | None = None) -> Config:
    """An Alembic config for the migrations shipped in this package (no alembic.ini needed).

    To write a new migration after changing `_schema.py`:
        from alembic import command
        command.revision(alembic_config("sqlite:////tmp/dev.db"), message="what changed", autogenerate=True)
    (upgrade that database to head first), then review the file written under migrations/versions.
    """
    config = Config()
    location = importlib.resources.files("margincall.store") / "migrations"
    config.set_main_option("script_location", str(location))
    config.set_main_option("path_separator", "os")
    if url is not None:
        rendered = url if isinstance(url, str) else url.render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))  # ConfigParser interpolation
    return config


def head_revision() -> str:
    """The newest schema revision this margincall knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def migrate(engine: Engine) -> str:
    """Bring the store's schema up to this margincall's head revision; return the revision.

    Runs in one transaction holding the database's write lock (SQLite) or an advisory lock
    (PostgreSQL), so processes opening a new store at once migrate it once.
    """
    config = alembic_config()
    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    known = {rev.revision for rev in script.walk_revisions()}
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        current = MigrationContext.configure(connection).get_current_revision()
        if current is not None and current not in known:
            raise StoreError(
                f"the store {shown(engine.url)} has schema revision {current!r}, which margincall {__version__} "
                "does not know: a newer margincall wrote it; upgrade margincall, or use another store (--db)"
            )
        if current != head:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    assert head is not None
    return head
