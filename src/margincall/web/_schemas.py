"""Request and response bodies of the REST API: separate create and public schemas per resource."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Seed = Annotated[int, Field(ge=0, lt=2**63, description="Random seed: the same seed gives the same numbers.")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- scenarios ------------------------------------------------------------------------------------


class ScenarioSource(_Body):
    """Which scenario: a built-in one by name, an uploaded one by id, or YAML text inline. Give exactly one."""

    builtin: str | None = Field(default=None, max_length=200, description="Name of a built-in scenario, e.g. softbank-openai.")
    id: int | None = Field(default=None, ge=1, lt=2**31, description="Id of an uploaded scenario (POST /scenarios).")
    yaml: str | None = Field(default=None, description="Scenario YAML text.")

    @model_validator(mode="after")
    def _exactly_one(self) -> "ScenarioSource":
        given = [name for name in ("builtin", "id", "yaml") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of builtin, id or yaml (got {', '.join(given) or 'none'})")
        return self


class ScenarioCreate(_Body):
    yaml: str = Field(description="The scenario YAML text (see `margincall schema`).")
    name: str | None = Field(default=None, max_length=200, description="Name; default: the scenario's own name field.")
    private: bool = Field(default=False, description="true: only this token sees it.")


class Problem(BaseModel):
    field: str = Field(description="Dotted field path (loans.ID.cure_ltv) or 'file', 'top level', 'line N, column M'.")
    line: int | None = Field(default=None, description="Line of the YAML text, where known.")
    message: str


class ScenarioOutline(BaseModel):
    """What a scenario holds, in a few fields."""

    name: str
    description: str | None
    currency: str
    horizon_days: int
    assets: list[str]
    loans: list[str]


class ValidationReport(BaseModel):
    valid: bool
    problems: list[Problem]
    outline: ScenarioOutline | None = None


class ScenarioPublic(BaseModel):
    id: int
    name: str
    scenario_hash: str
    private: bool
    mine: bool
    created_at: dt.datetime
    outline: ScenarioOutline | None = None


class ScenarioDetail(ScenarioPublic):
    yaml: str


class BuiltinScenario(BaseModel):
    name: str
    outline: ScenarioOutline
    yaml: str | None = None


class ScenarioList(BaseModel):
    builtin: list[BuiltinScenario]
    uploaded: list[ScenarioPublic]


# -- jobs -----------------------------------------------------------------------------------------


class _JobCreate(_Body):
    scenario: ScenarioSource
    seed: Seed = 0
    private: bool = Field(default=False, description="true: only this token sees the job (others get 404).")


class RunCreate(_JobCreate):
    """`margincall run`: one simulation."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"kind": "run", "scenario": {"builtin": "softbank-openai"}, "paths": 2000, "seed": 1}]})

    kind: Literal["run"]
    paths: int = Field(default=20_000, ge=1, description="Monte Carlo paths.")
    antithetic: bool = Field(default=False, description="Pair each path with its mirror (an even path count).")


class StressCreate(_JobCreate):
    """`margincall stress`: the base scenario and named stresses with common random numbers."""

    kind: Literal["stress"]
    paths: int = Field(default=20_000, ge=1, description="Paths of each simulation.")
    stresses: list[Annotated[str, Field(max_length=200)]] | None = Field(
        default=None, max_length=50, description="Built-in stresses by name or id (S1...); default: all.")


class ReverseCreate(_JobCreate):
    """`margincall reverse`: the smallest shock along a direction that reaches a target."""

    kind: Literal["reverse"]
    paths: int = Field(default=20_000, ge=1, description="Paths of each step of the search.")
    assets: list[Annotated[str, Field(max_length=200)]] = Field(min_length=1, max_length=50,
                                                                description="Assets to shock (id, *public, *private, *; optionally =WEIGHT).")
    target: str = Field(max_length=200, description="e.g. p_default>=0.05, borrower.p_cascade>=0.1, or call / LOAN.call.")
    loan: str | None = Field(default=None, max_length=200)
    day: int = Field(default=0, ge=0, lt=100_000, description="Trading day of the shock.")
    over_days: int = Field(default=1, ge=1, lt=100_000)
    shock_range: tuple[float, float] = Field(default=(-1.0, 0.0), description="Shocks searched (relative moves).")
    tolerance: float = Field(default=0.002, gt=0.0, le=1.0)
    trace: int = Field(default=3, ge=0, le=100, description="Paths whose events are kept at the shock found.")


class SizeCreate(_JobCreate):
    """`margincall size`: the value of a field (default a loan's principal) at which a bound is just met."""

    kind: Literal["size"]
    paths: int = Field(default=20_000, ge=1, description="Paths of each step of the search.")
    bound: str = Field(max_length=200, description="e.g. p_margin_call<=0.01 or expected_loss<=1e8.")
    loan: str | None = Field(default=None, max_length=200)
    field: str | None = Field(default=None, max_length=300, description="e.g. loans.ID.margin_call_ltv; default: loans.LOAN.principal.")
    search_range: tuple[float, float] | None = None
    smallest: bool = False
    tolerance: float | None = Field(default=None, gt=0.0)


class SensitivitiesCreate(_JobCreate):
    """`margincall sensitivities`: bumps of volatilities, correlations, drifts, haircuts and triggers."""

    kind: Literal["sensitivities"]
    paths: int = Field(default=20_000, ge=2, description="Paths of each simulation (the base and every bump, common random numbers).")
    block_paths: int | None = Field(default=None, ge=1, description="Paths per block for the standard errors (paired across bumps); default: the command's.")
    only: list[Literal["volatility", "correlation", "drift", "haircut", "trigger", "cure"]] | None = None


class SweepCreate(_JobCreate):
    """`margincall sweep`: a grid of field values, every point from the same seed."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"kind": "sweep", "scenario": {"builtin": "softbank-openai"}, "paths": 1000,
         "sets": ["loans.openai-margin-loan.margin_call_ltv=0.2,0.3"]}]})

    kind: Literal["sweep"]
    paths: int = Field(default=20_000, ge=1, description="Paths per point.")
    sets: list[Annotated[str, Field(max_length=500)]] = Field(min_length=1, max_length=10,
                                                              description="PATH=V, PATH=V1,V2 or PATH=START:STOP:COUNT.")


class ExplainCreate(_JobCreate):
    """`margincall explain`: the first causes of default, and the stories of a typical defaulting
    path and of the path behind the 99% loss, day by day."""

    kind: Literal["explain"]
    paths: int = Field(default=20_000, ge=1, description="Paths searched for the stories.")


JobCreate = Annotated[RunCreate | StressCreate | ReverseCreate | SizeCreate | SensitivitiesCreate | SweepCreate | ExplainCreate,
                      Field(discriminator="kind")]


class Progress(BaseModel):
    done: int = Field(description="Paths simulated so far.")
    total: int | None = Field(description="Paths in all (null for searches, whose steps are not known ahead).")
    fraction: float | None


class JobPublic(BaseModel):
    id: int
    kind: str
    status: Literal["queued", "running", "complete", "failed", "cancelled"]
    scenario_name: str
    scenario_hash: str
    paths: int
    seed: int
    options: dict[str, Any]
    private: bool
    mine: bool
    progress: Progress
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    error: str | None
    run_id: int | None = Field(description="The run-store record of a run job (`margincall show ID`).")
    links: dict[str, str]


class JobList(BaseModel):
    jobs: list[JobPublic]
    limit: int
    offset: int


# -- compare --------------------------------------------------------------------------------------


class ComparisonRowPublic(BaseModel):
    scope: str
    subject: str
    metric: str
    path: list[str] = Field(description="The figure's path in the result, e.g. [loans, acme-loan, p_default].")
    a: float | None
    b: float | None
    difference: float | None
    combined_se: float | None
    significant: bool | None = Field(description="|difference| > sigmas x combined_se (null where a run lacks an SE).")


class Comparison(BaseModel):
    a: int
    b: int
    sigmas: float
    same_scenario: bool
    rows: list[ComparisonRowPublic]


# -- monitor --------------------------------------------------------------------------------------


class MarksCreate(_Body):
    """Today's prices and marks for a scenario's book (see `margincall monitor`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": [
        {"scenario": {"yaml": "assets:\n  s: {kind: public, value: 100, volatility: 0.3, adv: 1e9}\nborrower: {cash: 0}\n"
                              "loans:\n  l: {principal: 50, rate: 0.05, term_days: 252, collateral: {s: 1.0},\n"
                              "      margin_call_ltv: 0.7, cure_ltv: 0.6, cure_days: 2, liquidation_ltv: 0.9}\n"},
         "marks_csv": "date,asset,value\n2026-11-30,s,80\n", "alerts": ["headroom<10%"], "paths": 1000}]})

    scenario: ScenarioSource
    marks_csv: str = Field(description="CSV with header date,asset,price (the price of one unit), one row per asset and date; a one-borrower scenario may give value (the whole holding's value) instead.")
    as_of: dt.date | None = Field(default=None, description="Date of the monitoring; default: the newest date in the marks.")
    alerts: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=50,
                                                                description="Rules such as headroom<10% or p_call_5d>0.05.")
    cash: float | None = Field(default=None, ge=0.0, description="The borrower's cash today; default: the scenario's.")
    paths: int = Field(default=20_000, ge=1, description="Paths of the 20-day simulation.")
    seed: Seed = 0
    private: bool = False


class MonitorStatePublic(BaseModel):
    id: int
    scenario_name: str
    as_of: dt.date
    created_at: dt.datetime
    job_id: int | None
    state: dict[str, Any]


class AlertPublic(BaseModel):
    id: int
    monitor_id: int
    scenario_name: str
    loan: str
    rule: str
    metric: str
    value: float
    threshold: float
    raised_at: dt.datetime


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    executor: str


class ErrorBody(BaseModel):
    detail: Any
    limit: str | None = None
    setting: str | None = None
