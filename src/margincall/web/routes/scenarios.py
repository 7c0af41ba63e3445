"""Scenarios: upload, validate, list, get (uploaded ones by id, built-in ones by name)."""

from __future__ import annotations

import functools

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from margincall.analysis.loading import builtin_scenario_text, builtin_scenarios, parse_scenario
from margincall.errors import ScenarioError
from margincall.store import ScenarioNotFoundError, ScenarioRecord, ScenarioSummary, TokenInfo
from margincall.web._deps import ClientDep, StoreDep, WriterDep
from margincall.web._scenarios import invalid, outline, parse_uploaded, problems_of
from margincall.web._schemas import (
    BuiltinScenario,
    ScenarioCreate,
    ScenarioDetail,
    ScenarioList,
    ScenarioPublic,
    ValidationReport,
)

router = APIRouter(prefix="/scenarios", tags=["scenarios"])
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")
BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ScenarioCreate"}},
            "application/yaml": {"schema": {"type": "string", "description": "The scenario YAML as the body"}},
        },
    }
}


async def _body(request: Request) -> ScenarioCreate:
    """A JSON ScenarioCreate, or YAML text as the body (name and private from the query)."""
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    raw = await request.body()
    if kind in YAML_TYPES:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the scenario must be UTF-8 text") from None
        private = request.query_params.get("private", "false").lower() in ("1", "true", "yes")
        return ScenarioCreate(yaml=text, name=request.query_params.get("name") or None, private=private)
    if kind != "application/json":
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            "send JSON ({\"yaml\": ..., \"name\": ...}) or the YAML itself as application/yaml")
    try:
        return ScenarioCreate.model_validate_json(raw)
    except ValueError as exc:
        errors = getattr(exc, "errors", lambda: [])()
        detail = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in errors] or str(exc)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail) from None


def _public(record: ScenarioSummary, client: TokenInfo, detail: bool = False) -> ScenarioPublic:
    fields = dict(id=record.id, name=record.name, scenario_hash=record.scenario_hash, private=record.private,
                  mine=record.token_id == client.id, created_at=record.created_at)
    if detail and isinstance(record, ScenarioRecord):
        try:
            fields["outline"] = outline(parse_scenario(record.text, default_name=record.name))
        except ScenarioError:
            fields["outline"] = None
        return ScenarioDetail(**fields, yaml=record.text)
    return ScenarioPublic(**fields)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ScenarioDetail, openapi_extra=BODY,
             summary="Upload a scenario (JSON, or its YAML as application/yaml with ?name=)",
             responses={422: {"description": "The scenario is not valid: each bad field with its line"},
                        403: {"description": "A read-only token"}, 413: {"description": "Over the upload size limit"}})
async def upload(request: Request, response: Response, store: StoreDep, client: WriterDep) -> ScenarioDetail:
    body = await _body(request)
    try:
        scenario = parse_uploaded(body.yaml, body.name)
    except ScenarioError as exc:
        raise invalid(exc) from None
    record = store.scenarios.add(body.name or scenario.name or "uploaded", body.yaml, token_id=client.id, private=body.private)
    response.headers["Location"] = f"/scenarios/{record.id}"
    public = _public(record, client, detail=True)
    assert isinstance(public, ScenarioDetail)
    return public


@router.post("/validate", response_model=ValidationReport, openapi_extra=BODY,
             summary="Validate a scenario without storing it: each problem with its field and line")
async def validate(request: Request, client: ClientDep) -> ValidationReport:
    body = await _body(request)
    try:
        scenario = parse_uploaded(body.yaml, body.name)
    except ScenarioError as exc:
        return ValidationReport(valid=False, problems=problems_of(exc))
    return ValidationReport(valid=True, problems=[], outline=outline(scenario))


@router.get("", response_model=ScenarioList, summary="The built-in scenarios and the uploaded ones this token sees")
def list_scenarios(store: StoreDep, client: ClientDep, name: str | None = None,
                   limit: int = Query(default=100, ge=1, le=1000), offset: int = Query(default=0, ge=0, lt=2**31)) -> ScenarioList:
    builtin = [BuiltinScenario(name=n, outline=_builtin_outline(n)) for n in builtin_scenarios()]
    uploaded = [_public(r, client) for r in store.scenarios.list(visible_for=client.id, name=name, limit=limit, offset=offset)]
    return ScenarioList(builtin=builtin, uploaded=uploaded)


@functools.cache
def _builtin_outline(name: str):
    return outline(parse_scenario(builtin_scenario_text(name), default_name=name))


@router.get("/builtin/{name}", response_model=BuiltinScenario, summary="A built-in scenario with its YAML")
def get_builtin(name: str, client: ClientDep) -> BuiltinScenario:
    if name not in builtin_scenarios():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no built-in scenario '{name}'; built in: {', '.join(builtin_scenarios())}")
    text = builtin_scenario_text(name)
    return BuiltinScenario(name=name, outline=_builtin_outline(name), yaml=text)


@router.get("/{scenario_id}", response_model=ScenarioDetail, summary="An uploaded scenario with its YAML",
            responses={404: {"description": "No such scenario, or another token's private one"}})
def get_scenario(scenario_id: int, store: StoreDep, client: ClientDep) -> ScenarioDetail:
    if not 0 < scenario_id < 2**31:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no uploaded scenario {scenario_id}")
    try:
        record = store.scenarios.get(scenario_id, visible_for=client.id)
    except ScenarioNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no uploaded scenario {scenario_id}") from None
    public = _public(record, client, detail=True)
    assert isinstance(public, ScenarioDetail)
    return public
