"""The dashboard's pages: login, overview (monitoring), runs, a run, compare, the scenario editor.
Pages read the token from a same-site, HTTP-only cookie set at login; the page's script calls the
REST API with it."""

from __future__ import annotations

import importlib.resources
import json
import math
import urllib.parse
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from margincall._version import __version__
from margincall.analysis.loading import builtin_scenarios
from margincall.store import JobStatus, TokenInfo
from margincall.web._deps import COOKIE, ServiceState, StateDep, get_client, get_state, get_writer
from margincall.web._editor import apply, form
from margincall.web._jobs_view import public, visible_job
from margincall.web._reports import job_result
from margincall.web._scenarios import parse_uploaded
from margincall.web._schemas import ScenarioSource
from margincall.web._submit import submit
from margincall.web._summaries import summarise

router = APIRouter(prefix="/ui", include_in_schema=False)
STATIC = Path(str(importlib.resources.files("margincall.web.ui") / "static"))
CSP = ("default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "frame-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'")


class _Login(Exception):
    pass


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("margincall.web.ui", "templates"),
                             autoescape=jinja2.select_autoescape(["html"], default=True), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda x, d=1: "-" if not isinstance(x, int | float) or not math.isfinite(x) else f"{x:.{d}%}"
    env.filters["num"] = lambda x, d=2: "-" if not isinstance(x, int | float) or not math.isfinite(x) else f"{x:,.{d}f}"
    env.filters["when"] = lambda t: "-" if t is None else t.strftime("%Y-%m-%d %H:%M:%S")
    return env


ENV = _env()


def _render(template: str, request: Request, client: TokenInfo | None, **context: Any) -> HTMLResponse:
    html = ENV.get_template(template).render(client=client, version=__version__, path=request.url.path, **context)
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})


def page_client(request: Request, state: StateDep) -> TokenInfo:
    """The logged-in client, or a redirect to the login page."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    credentials = HTTPAuthorizationCredentials(scheme=scheme, credentials=secret.strip()) if scheme.lower() == "bearer" else None
    try:
        return get_client(request, state, credentials)
    except HTTPException:
        raise _Login() from None


PageClient = Annotated[TokenInfo, Depends(page_client)]


def mount_static(app: FastAPI) -> None:
    """The dashboard's script and style (public: the login page needs them), plotly.js from the
    plotly package, and the login redirect."""

    @app.get("/ui/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name == "plotly.min.js":
            path = Path(str(importlib.resources.files("plotly") / "package_data" / "plotly.min.js"))
        else:
            path = STATIC / name
            if path.parent != STATIC or not path.is_file():
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file")
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})

    @app.exception_handler(_Login)
    async def to_login(request: Request, exc: _Login) -> RedirectResponse:
        target = urllib.parse.quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/ui/login?next={target}", status_code=status.HTTP_303_SEE_OTHER)


# -- login ----------------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/ui/", error: str = "") -> HTMLResponse:
    return _render("login.html", request, None, next=_safe_next(next), error=error)


@router.post("/login")
async def login(request: Request, state: ServiceState = Depends(get_state)) -> Response:
    form_data = urllib.parse.parse_qs((await request.body()).decode("utf-8", "replace"))
    token = (form_data.get("token") or [""])[0].strip()
    target = _safe_next((form_data.get("next") or ["/ui/"])[0])
    if not token or state.tokens.check(token) is None:
        return _render("login.html", request, None, next=target, error="That token is not valid (unknown or revoked).")
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")
    return response


@router.get("/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/ui/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path="/")
    return response


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/ui/"


# -- overview -------------------------------------------------------------------------------------


def _scenario_choices(state: ServiceState, client: TokenInfo) -> list[dict[str, Any]]:
    choices = [{"value": f"builtin:{n}", "label": f"{n} (built in)"} for n in builtin_scenarios()]
    choices += [{"value": f"id:{s.id}", "label": f"{s.name} (#{s.id})"} for s in state.store.scenarios.list(visible_for=client.id, limit=200)]
    return choices


@router.get("/")
def overview(request: Request, state: StateDep, client: PageClient,
             scenario: Annotated[str | None, Query(max_length=200)] = None) -> HTMLResponse:
    record = state.store.monitors.latest(visible_for=client.id, scenario=scenario)
    loans: list[dict[str, Any]] = []
    if record is not None:
        for loan_id, entry in record.state.get("loans", {}).items():
            loans.append({"id": loan_id, **entry})
        loans.sort(key=lambda r: (r.get("headroom_call") is None, r.get("headroom_call") if r.get("headroom_call") is not None else 0.0))
    alerts = state.store.monitors.alerts(visible_for=client.id, scenario=scenario, limit=50)
    chart = None
    if loans:
        secured = [r for r in loans if r.get("ltv") is not None]
        chart = json.dumps({"loans": [r["id"] for r in secured], "ltv": [r["ltv"] for r in secured],
                            "call": [r.get("margin_call_ltv") for r in secured],
                            "liquidation": [r.get("liquidation_ltv") for r in secured]})
    return _render("overview.html", request, client, record=record, loans=loans, alerts=alerts, chart=chart,
                   choices=_scenario_choices(state, client))


# -- runs -----------------------------------------------------------------------------------------


@router.get("/runs")
def runs_page(request: Request, state: StateDep, client: PageClient,
              kind: Annotated[str | None, Query(max_length=32)] = None, status_: Annotated[str | None, Query(alias="status", max_length=16)] = None,
              scenario: Annotated[str | None, Query(max_length=200)] = None, mine: bool = False) -> HTMLResponse:
    kind = kind or None
    status_ = status_ if status_ in {s.value for s in JobStatus} else None
    jobs = state.store.jobs.list(visible_for=client.id, kind=kind, status=status_, scenario=scenario or None, mine=mine, limit=200)
    return _render("runs.html", request, client, jobs=[public(j, client) for j in jobs],
                   filters={"kind": kind or "", "status": status_ or "", "scenario": scenario or "", "mine": mine})


@router.get("/runs/{job_id}")
def run_page(job_id: int, request: Request, state: StateDep, client: PageClient) -> HTMLResponse:
    job = visible_job(state.store, job_id, client)
    tables = summarise(job.kind, job_result(state.store, job) or {}) if job.status == "complete" else []
    return _render("run.html", request, client, job=public(job, client), tables=tables,
                   has_report=job.status == "complete")


@router.get("/compare")
def compare_page(request: Request, state: StateDep, client: PageClient, a: Annotated[int, Query(ge=1, lt=2**31)],
                 b: Annotated[int, Query(ge=1, lt=2**31)]) -> HTMLResponse:
    from margincall.web.routes.compare import compare

    try:
        comparison = compare(state.store, client, a, b)
        error = None
    except HTTPException as exc:
        comparison, error = None, str(exc.detail)
    return _render("compare.html", request, client, comparison=comparison, error=error, a=a, b=b)


# -- the scenario editor --------------------------------------------------------------------------


def _source(value: str) -> ScenarioSource:
    kind, _, name = value.partition(":")
    if kind == "id" and name.isdigit():
        return ScenarioSource(id=int(name))
    if kind == "builtin":
        return ScenarioSource(builtin=name)
    raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"pick a scenario (got '{value}')")


def _text_of(state: ServiceState, client: TokenInfo, source: ScenarioSource) -> tuple[str, str]:
    from margincall.web._scenarios import resolve

    resolved = resolve(source, state.store, client)
    return resolved.name, resolved.text


@router.get("/editor")
def editor(request: Request, state: StateDep, client: PageClient,
           scenario: Annotated[str, Query(max_length=220)] = f"builtin:{builtin_scenarios()[0]}") -> HTMLResponse:
    source = _source(scenario)
    name, text = _text_of(state, client, source)
    model = parse_uploaded(text, name)
    return _render("editor.html", request, client, groups=form(model), choices=_scenario_choices(state, client),
                   chosen=scenario, name=name)


class EditorBody(BaseModel):
    scenario: str = Field(max_length=220)
    changes: dict[str, str]
    name: str | None = Field(default=None, max_length=200)
    paths: int = Field(default=5_000, ge=1)
    seed: int = Field(default=0, ge=0, lt=2**63)


@router.post("/editor/check")
def editor_check(body: EditorBody, state: StateDep, client: TokenInfo = Depends(get_client)) -> JSONResponse:
    _name, text = _text_of(state, client, _source(body.scenario))
    new_text, errors, general = apply(text, body.changes)
    return JSONResponse({"valid": new_text is not None, "errors": errors, "general": general})


@router.post("/editor/run")
def editor_run(body: EditorBody, state: StateDep, client: TokenInfo = Depends(get_writer)) -> JSONResponse:
    name, text = _text_of(state, client, _source(body.scenario))
    new_name = (body.name or "").strip() or f"{name} (edited)"
    new_text, errors, general = apply(text, body.changes, name=new_name)
    if new_text is None:
        return JSONResponse({"valid": False, "errors": errors, "general": general}, status_code=422)
    record = state.store.scenarios.add(new_name, new_text, token_id=client.id)
    job = submit(state, client, "run", ScenarioSource(id=record.id), {"antithetic": False}, paths=body.paths, seed=body.seed,
                 private=False)
    return JSONResponse({"valid": True, "scenario_id": record.id, "job": public(job, client).model_dump(mode="json")},
                        status_code=202)


