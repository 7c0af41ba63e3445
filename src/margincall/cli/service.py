"""Commands of the service: `serve` (the REST API and dashboard) and `token` (its clients)."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer
from rich.table import Table

DbOpt = Annotated[
    Optional[str],
    typer.Option("--db", envvar="MARGINCALL_DB", help="Run store URL or SQLite file (default: the user's data folder)."),
]
OPTIONS = ("db", "host", "port", "workers", "scheduler")  # the settings that `serve` takes as options
token_app = typer.Typer(help="The service's tokens: create (shown once), list, revoke.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("serve")(serve)
    app.add_typer(token_app, name="token")


def serve(
    db: DbOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, help="Worker processes that run jobs (default 2).")] = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Run jobs on the Dask cluster at tcp://HOST:PORT instead.")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
) -> None:
    """Start the service: REST API (OpenAPI at /openapi.json), dashboard at /ui/, jobs on worker
    processes or a Dask cluster. Limits come from MARGINCALL_* variables (see docs/service.md)."""
    from pydantic import ValidationError

    from margincall.cli.main import _fail, err_console
    from margincall.errors import MarginCallError
    from margincall.model.limits import LimitError
    from margincall.store import StoreError

    values = {k: v for k, v in {"db": db, "host": host, "port": port, "workers": workers, "scheduler": scheduler}.items()
              if v is not None}
    try:
        import uvicorn

        from margincall.web import Settings, create_app

        settings = Settings(**values)
        _preflight(settings)
        app = create_app(settings)
        err_console.print(f"margincall service at http://{settings.host}:{settings.port}/ui/ "
                          f"(a token: margincall token create --name NAME)", highlight=False)
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=log_level, access_log=log_level == "debug")
    except ValidationError as exc:
        _fail(ValueError("; ".join(_setting_problem(e) for e in exc.errors())))
    except (MarginCallError, LimitError, StoreError, OSError) as exc:
        _fail(exc)


def _setting_problem(error: Any) -> str:
    """A bad setting named by its option or environment variable, with the value given."""
    from margincall.web import Settings

    message = error["msg"].removeprefix("Value error, ")
    field = str(error["loc"][0]) if error.get("loc") else ""
    if not field:
        return message
    option = f"--{field.replace('_', '-')} or " if field in OPTIONS else ""
    given = "" if error["type"].startswith("value_error") else f" (got {error.get('input')!r})"
    return f"{option}{Settings.variable(field)}: {message}{given}"


def _preflight(settings: Any) -> None:
    """What would otherwise fail inside the server's start-up, with a traceback from uvicorn: the
    run store is opened (a bad URL, a damaged or foreign file) and the scheduler address checked,
    before the server starts."""
    from margincall.store import open_store

    if settings.scheduler is not None:
        from distributed import Client

        from margincall.distributed._dask import check_scheduler_address
        from margincall.errors import MarginCallError
        from margincall.model.limits import limits

        address = check_scheduler_address(settings.scheduler)
        wait_s = limits().dask_timeout_s
        try:
            Client(address, timeout=wait_s, set_as_default=False).close()
        except (OSError, TimeoutError) as exc:
            raise MarginCallError(f"cannot reach the Dask scheduler at {address} within {wait_s:g} s ({exc.__class__.__name__}): "
                                  "start it, or give its address with --scheduler; MARGINCALL_DASK_TIMEOUT waits longer") from None
    with open_store(settings.db):
        pass


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="Who or what holds the token (unique).")],
    read_only: Annotated[bool, typer.Option("--read-only", help="The token can read but not submit jobs or upload scenarios.")] = False,
    db: DbOpt = None,
) -> None:
    """Create a token and print it once: only its hash is stored."""
    from margincall.cli.main import _fail, console, err_console
    from margincall.store import StoreError, open_store

    try:
        with open_store(db) as store:
            info, secret = store.tokens.create(name, read_only=read_only)
            url = store.url
    except StoreError as exc:
        _fail(exc)
    console.print(secret, highlight=False, markup=False)
    err_console.print(f"token {info.id} '{info.name}'{' (read-only)' if info.read_only else ''} in {url}: "
                      "keep it now, it is not shown again", highlight=False)


@token_app.command("list")
def token_list(db: DbOpt = None) -> None:
    """List tokens (never their secrets)."""
    from margincall.cli.main import _fail, console
    from margincall.store import StoreError, open_store

    try:
        with open_store(db) as store:
            tokens = store.tokens.list()
    except StoreError as exc:
        _fail(exc)
    table = Table(title=f"Tokens ({len(tokens)})")
    for column in ("id", "name", "access", "created (UTC)", "last used (UTC)", "revoked (UTC)"):
        table.add_column(column)
    for t in tokens:
        table.add_row(str(t.id), t.name, "read-only" if t.read_only else "read-write", f"{t.created_at:%Y-%m-%d %H:%M}",
                      "-" if t.last_used_at is None else f"{t.last_used_at:%Y-%m-%d %H:%M}",
                      "-" if t.revoked_at is None else f"{t.revoked_at:%Y-%m-%d %H:%M}")
    console.print(table)


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="The token's name (or id).")], db: DbOpt = None) -> None:
    """Revoke a token: it stops working at once (within the service's token cache, 5 s by default)."""
    from margincall.cli.main import _fail, console
    from margincall.store import StoreError, open_store

    try:
        with open_store(db) as store:
            info = store.tokens.revoke(name)
    except StoreError as exc:
        _fail(exc)
    console.print(f"token {info.id} '{info.name}' revoked at {info.revoked_at:%Y-%m-%d %H:%M:%S} UTC", highlight=False)
