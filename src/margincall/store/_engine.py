"""Engines for the store's back ends, and the schema migration run when a store opens.

SQLite: WAL journal (readers never block the writer), a busy timeout, and every transaction
begun with BEGIN IMMEDIATE, so that concurrent processes writing one file queue for the write
lock instead of failing or corrupting it. PostgreSQL: psycopg 3, a connect timeout and a
statement timeout (`MARGINCALL_DB_CONNECT_TIMEOUT`, `MARGINCALL_DB_STATEMENT_TIMEOUT`, or
`connect_timeout` / `options` in the URL); migrations take an advisory lock.

A store is never created over something else: a file that is not a SQLite database, a SQLite
database of another application, or a damaged store is refused with its path and what to do
(`StoreError`), and nothing is written to it.
"""

from __future__ import annotations

import importlib.resources
import json
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.pool import StaticPool

from margincall._version import __version__
from margincall.model.limits import LimitError, limits
from margincall.store._errors import StoreError
from margincall.store._url import shown

BUSY_TIMEOUT_S = 60.0  # how long a SQLite writer waits for another's lock before giving up
SQLITE_HEADER = b"SQLite format 3\x00"
OUR_TABLES = frozenset({"runs", "alembic_version"})
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
    cursor.execute("PRAGMA foreign_keys = ON")  # WAL is set once the file is known to be a store (`migrate`)
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


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite store (None for an in-memory database or another back end)."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or "mode=memory" in str(url) or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def _damaged_advice(path: Path) -> str:
    return (f"margincall will not re-initialise it over your runs. Recover what it holds with "
            f"`sqlite3 {path} .recover | sqlite3 {path}.recovered` and use --db {path}.recovered, or move it aside "
            f"(mv {path} {path}.damaged) and margincall starts a new store there")


def _check_sqlite_file(path: Path) -> None:
    """Refuse, before connecting, a path that is not a SQLite file margincall may use."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"the run store {path} cannot be opened ({exc.strerror or exc}); give another file with --db or MARGINCALL_DB") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise StoreError(f"the run store {path} is {kind}; give a SQLite file with --db or MARGINCALL_DB")
    if info.st_size == 0:
        return  # an empty file is an empty database
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"the run store {path} cannot be read ({exc.strerror or exc}); check its permissions") from None
    if header != SQLITE_HEADER:
        raise StoreError(
            f"the run store {path} is not a SQLite database (it starts with {header[:16]!r}); margincall will not write "
            "over it. Give another file with --db or MARGINCALL_DB; if it is a damaged store, move it aside "
            f"(mv {path} {path}.damaged) and margincall starts a new store there"
        )


def _postgres_options(url: URL) -> dict[str, Any]:
    """Connect and statement timeouts from the bounds, unless the URL sets its own."""
    bounds = limits()
    args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        args["connect_timeout"] = max(2, round(bounds.db_connect_timeout_s))  # libpq's minimum is 2 s
    if "options" not in url.query:
        args["options"] = f"-c statement_timeout={round(bounds.db_statement_timeout_s * 1000)}"
    return args


def create_store_engine(url: URL) -> Engine:
    """An engine for `url` set up for concurrent use by several processes."""
    if url.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            _check_sqlite_file(path)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder of the run store {path} ({exc.strerror or exc}); "
                                 "give another place with --db or MARGINCALL_DB") from None
        options: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}}
        if path is None:
            options["poolclass"] = StaticPool
        engine = create_engine(url, json_serializer=_json, **options)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        connect_args = _postgres_options(url)
    except LimitError as exc:
        raise StoreError(str(exc)) from None
    return create_engine(url, json_serializer=_json, pool_pre_ping=True, connect_args=connect_args)


def describe_database_error(engine: Engine, exc: DBAPIError) -> str:
    """One sentence for a database error: the store, what happened, and what to do."""
    original = exc.orig if exc.orig is not None else exc
    what = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    path = sqlite_path(engine.url)
    if path is not None:
        lowered = what.lower()
        if "locked" in lowered or "busy" in lowered:
            return f"the run store {path} is locked by another process (waited {BUSY_TIMEOUT_S:g} s): {what}; try again when it is done"
        if isinstance(exc, OperationalError) and ("unable to open" in lowered or "readonly" in lowered or "read-only" in lowered):
            return f"the run store {path} cannot be written ({what}); check the file's and its folder's permissions, or give another --db"
        if "disk i/o" in lowered or "full" in lowered:
            return f"the run store {path} could not be written ({what}); check the disk"
        return f"the run store {path} is damaged or not a margincall store ({what}): {_damaged_advice(path)}"
    if "statement timeout" in what.lower():
        seconds = limits().db_statement_timeout_s
        return (f"the run store {shown(engine.url)} did not answer within the statement timeout ({seconds:g} s): {what}; "
                "raise it with MARGINCALL_DB_STATEMENT_TIMEOUT if the store is just slow")
    if isinstance(exc, (OperationalError, InterfaceError)):
        seconds = limits().db_connect_timeout_s
        return (f"cannot open the run store {shown(engine.url)}: {what} (connect timeout {seconds:g} s, "
                "MARGINCALL_DB_CONNECT_TIMEOUT); check that the server is up and the URL is right, or use --no-store")
    return f"the run store {shown(engine.url)} failed: {what}"


@contextmanager
def database_errors(engine: Engine) -> Iterator[None]:
    """Database errors (a damaged file, a server gone, a timeout) as one `StoreError` sentence."""
    try:
        yield
    except DBAPIError as exc:
        raise StoreError(describe_database_error(engine, exc)) from exc


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
    (PostgreSQL), so processes opening a new store at once migrate it once. A database that
    holds tables of another application, or a damaged SQLite file, is refused (`StoreError`)
    before anything is written."""
    config = alembic_config()
    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    known = {rev.revision for rev in script.walk_revisions()}
    with database_errors(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        current = MigrationContext.configure(connection).get_current_revision()
        if current is not None and current not in known:
            raise StoreError(
                f"the store {shown(engine.url)} has schema revision {current!r}, which margincall {__version__} "
                "does not know: a newer margincall wrote it; upgrade margincall, or use another store (--db)"
            )
        if current is None:
            _check_new_store(engine, connection)
        if current != head:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    if sqlite_path(engine.url) is not None:
        _use_wal(engine)
    assert head is not None
    return head


def _use_wal(engine: Engine) -> None:
    """Put a SQLite store in WAL mode (kept in the file), outside any transaction, and only once
    the file is known to be a margincall store: switching writes the file's header."""
    with database_errors(engine):
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            # two processes opening a new store at once: the switch can fail at once with "database is
            # locked", without SQLite's busy handler (seen in CI), so it is tried again until the timeout
            deadline = time.monotonic() + BUSY_TIMEOUT_S
            while True:
                try:
                    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                        cursor.execute("PRAGMA journal_mode = WAL")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
            cursor.close()
        finally:
            connection.close()


def _check_new_store(engine: Engine, connection: Connection) -> None:
    """A database without margincall's revision is created only when nothing else is in it
    (SQLite: no table at all and an intact file; PostgreSQL: no table called runs)."""
    tables = set(inspect(connection).get_table_names())
    path = sqlite_path(engine.url)
    if path is not None:
        if connection.exec_driver_sql("PRAGMA quick_check").scalar() != "ok":
            raise StoreError(f"the run store {path} is damaged (its integrity check fails): {_damaged_advice(path)}")
        foreign = sorted(tables - OUR_TABLES)
        if foreign:
            shown_tables = ", ".join(foreign[:8]) + (", ..." if len(foreign) > 8 else "")
            raise StoreError(
                f"{path} is a SQLite database of another application (tables: {shown_tables}); margincall will not add "
                "its tables to it. Give another file with --db or MARGINCALL_DB"
            )
        if "runs" in tables:
            raise StoreError(f"the run store {path} has a runs table but no schema revision: {_damaged_advice(path)}")
    elif "runs" in tables:
        raise StoreError(
            f"the database {shown(engine.url)} already has a table called runs that margincall did not make; "
            "margincall will not write into it. Give another database with --db or MARGINCALL_DB"
        )
