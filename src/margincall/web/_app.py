"""The service: `create_app(settings)` builds the FastAPI app (REST API, dashboard, job runner)
on the run store the settings name. Nothing happens at import, so tests give each app its own
temporary store."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, RedirectResponse

from margincall._version import __version__
from margincall.errors import MarginCallError
from margincall.store import StoreError, open_store
from margincall.web._deps import ClientDep, ServiceState, TokenCache
from margincall.web._limits import BodyLimit
from margincall.web._pool import AbstractPool, DaskPool, ProcessPool
from margincall.web._runner import JobRunner, recover
from margincall.web._settings import Settings
from margincall.web.routes import compare, health, monitor, runs, scenarios

log = logging.getLogger("margincall.web")

DESCRIPTION = """margincall's REST API: scenarios, jobs (any simulating command, run outside the
request by a bounded pool of worker processes or on a Dask cluster), comparisons and daily
monitoring.

**Tokens.** Every call needs `Authorization: Bearer TOKEN` except `GET /health` and the
dashboard's login page. Tokens come from `margincall token create --name NAME [--read-only]`.
No token or a wrong one: 401. A read-only token that submits a job, uploads a scenario or posts
marks: 403.

**Visibility.** A job, uploaded scenario or monitoring is seen by the token that created it and,
unless it was created with `"private": true`, by every token. Another token's private job
answers **404**, exactly like a job that does not exist. Only the submitting token may cancel.

**Limits** (each 4xx names the limit and its setting): the request body (413,
`MARGINCALL_MAX_UPLOAD_BYTES`), paths per simulation (422, `MARGINCALL_MAX_PATHS`), sweep points
(422, `MARGINCALL_MAX_SWEEP_POINTS`), queued and running jobs per token (429,
`MARGINCALL_MAX_ACTIVE_JOBS`).

**Restarts.** A job queued or running when the service stops is marked failed with the reason
when it stops, or when it starts again after being killed: it is never lost silently nor run twice.
"""


def _pool(settings: Settings) -> AbstractPool:
    if settings.scheduler is not None:
        from margincall.model.limits import limits

        return DaskPool(settings.scheduler, slots=settings.dask_jobs, cancel_grace_s=settings.cancel_grace_s,
                        timeout_s=limits().dask_timeout_s)
    pool = ProcessPool(settings.workers, threads=settings.threads, cancel_grace_s=settings.cancel_grace_s)
    pool.start()
    return pool


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service's app. Its store is opened (and migrated), unfinished jobs of a service that
    stopped are marked failed, and the job runner started, when the app starts (its lifespan)."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings.db)
        recover(store)
        pool = _pool(settings)
        runner = JobRunner(store, pool)
        app.state.service = ServiceState(settings=settings, store=store, runner=runner,
                                         tokens=TokenCache(store, settings.token_cache_s))
        runner.start()
        log.info("margincall service on %s: jobs run on %s", store.url, pool.description)
        try:
            yield
        finally:
            runner.stop()
            store.close()

    app = FastAPI(title="margincall", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    for router in (health.router, scenarios.router, runs.router, compare.router, monitor.router):
        app.include_router(router)
    _openapi_route(app)
    from margincall.web.ui import pages

    app.include_router(pages.router)
    pages.mount_static(app)
    _errors(app)
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes)

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    return app


def _openapi_route(app: FastAPI) -> None:
    """GET /openapi.json, behind a token like every call but health and the login page."""

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(client: ClientDep) -> JSONResponse:
        return JSONResponse(app.openapi())


def _errors(app: FastAPI) -> None:
    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> JSONResponse:
        log.error("store: %s", exc)
        return JSONResponse({"detail": f"the run store could not do that: {exc}"}, status_code=503)

    @app.exception_handler(MarginCallError)
    async def margincall_error(request: Request, exc: MarginCallError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

