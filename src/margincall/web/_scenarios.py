"""Scenarios as the service sees them: resolve a source (built-in, uploaded, inline) to its name,
text and validated model; turn a `ScenarioError` into field problems a client can show."""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml
from fastapi import HTTPException, status

from margincall.analysis.loading import (
    builtin_scenario_text,
    builtin_scenarios,
    parse_scenario,
)
from margincall.analysis.yamlsafe import YamlError, read_yaml
from margincall.errors import ScenarioError
from margincall.model.scenario import Scenario
from margincall.store import RunStore, ScenarioNotFoundError, TokenInfo
from margincall.web._schemas import Problem, ScenarioOutline, ScenarioSource

_WHERE = re.compile(r"^(?P<field>.*?) \(line (?P<line>\d+)\)$")


@dataclass(frozen=True)
class Resolved:
    name: str
    text: str
    scenario: Scenario


def problems_of(exc: ScenarioError) -> list[Problem]:
    out = []
    for where, message in exc.problems:
        match = _WHERE.match(where)
        if match:
            out.append(Problem(field=match["field"], line=int(match["line"]), message=message))
        else:
            out.append(Problem(field=where, message=message))
    return out


def outline(scenario: Scenario) -> ScenarioOutline:
    return ScenarioOutline(name=scenario.name or "scenario", description=(scenario.description or "").strip() or None,
                           currency=scenario.currency, horizon_days=scenario.horizon, assets=scenario.asset_ids,
                           loans=list(scenario.loans))


def invalid(exc: ScenarioError) -> HTTPException:
    """422 naming each bad field."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, {
        "message": f"the scenario is not valid: {len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''}",
        "problems": [p.model_dump() for p in problems_of(exc)],
    })


def parse_uploaded(text: str, name: str | None = None) -> Scenario:
    """Validate scenario text sent to the service. A historical market would read a file on the
    server, so it is refused here (it runs from the command line)."""
    data = _mapping(text)
    market = data.get("market") if data is not None else None
    if isinstance(market, dict) and market.get("model") == "historical":  # refused before any file is opened
        raise ScenarioError("uploaded scenario", [(
            "market.model", "the historical model reads a prices file on the server, which the service does not "
            "allow; use model: gbm, or run it with `margincall run`")])
    given = data.get("name") if data is not None else None
    default = name or (str(given) if isinstance(given, str | int) and str(given).strip() else None) or "uploaded"
    return parse_scenario(text, source="uploaded scenario", default_name=default)


def _mapping(text: str) -> dict | None:
    try:
        data, _root = read_yaml(text)
    except (YamlError, yaml.YAMLError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def resolve(source: ScenarioSource, store: RunStore, client: TokenInfo) -> Resolved:
    """The scenario a job or a monitoring names; 404 for an unknown id or name, 422 for a bad text."""
    try:
        if source.builtin is not None:
            if source.builtin not in builtin_scenarios():
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no built-in scenario '{source.builtin}'; built in: "
                                    f"{', '.join(builtin_scenarios())}")
            text = builtin_scenario_text(source.builtin)
            return Resolved(source.builtin, text, parse_scenario(text, source=f"built-in:{source.builtin}",
                                                                 default_name=source.builtin))
        if source.id is not None:
            try:
                record = store.scenarios.get(source.id, visible_for=client.id)
            except ScenarioNotFoundError:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no uploaded scenario {source.id} "
                                    "(GET /scenarios lists those this token sees)") from None
            return Resolved(record.name, record.text, parse_uploaded(record.text, record.name))
        assert source.yaml is not None
        scenario = parse_uploaded(source.yaml)
        return Resolved(scenario.name or "uploaded", source.yaml, scenario)
    except ScenarioError as exc:
        raise invalid(exc) from None
