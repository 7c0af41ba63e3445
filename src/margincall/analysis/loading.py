"""Reading scenario files: YAML -> validated `Scenario`, with errors that name the field and line."""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from margincall.analysis.files import read_text
from margincall.analysis.history import history_problems, resolve_prices
from margincall.analysis.yamlsafe import YamlError, read_yaml
from margincall.errors import InputFileError, ScenarioError
from margincall.model.limits import LimitError
from margincall.model.scenario import Scenario, ScenarioProblems

DEFAULT_SCENARIO = "softbank-openai"


def builtin_scenarios() -> list[str]:
    """Names of the scenarios shipped with margincall: the default first (what the service's editor
    opens), then the others in name order."""
    files = importlib.resources.files("margincall.scenarios")
    names = sorted(p.name.removesuffix(".yaml") for p in files.iterdir() if p.name.endswith(".yaml"))
    return sorted(names, key=lambda name: name != DEFAULT_SCENARIO)


def builtin_scenario_text(name: str = DEFAULT_SCENARIO) -> str:
    resource = importlib.resources.files("margincall.scenarios") / f"{name}.yaml"
    if not resource.is_file():
        raise ScenarioError(name, [("scenario", f"no built-in scenario '{name}'; built in: {', '.join(builtin_scenarios())}")])
    return resource.read_text(encoding="utf-8")


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with the exact text it was read from and where that text came from:
    `path` is the file's absolute path, or `built-in:NAME` for a scenario shipped with margincall."""

    scenario: Scenario
    text: str
    path: str


def read_scenario(path: str | Path | None = None) -> LoadedScenario:
    """Read and validate a scenario file, keeping its text (what the run store records). A name
    without a file, such as 'softbank-openai', is the built-in scenario of that name; None is
    the built-in default. Every file is read through `files.read_text` (regular files only, size
    bounded) and `yamlsafe.read_yaml` (duplicate keys, ambiguous scalars, depth and size bounded)."""
    if path is None:
        path = DEFAULT_SCENARIO
    path = Path(path)
    if path.suffix == "" and path.name == str(path) and path.name in builtin_scenarios() and not _exists(path):
        text = builtin_scenario_text(path.name)
        return LoadedScenario(parse_scenario(text, source=f"built-in:{path.name}", default_name=path.name), text, f"built-in:{path.name}")
    try:
        text = read_text(path)
    except InputFileError as exc:
        hint = "; give the path of a scenario YAML file" if exc.reason == "not found" else ""
        if exc.reason == "not found" and path.suffix == "" and path.parent == Path("."):
            hint += f", or a built-in scenario: {', '.join(builtin_scenarios())}"
        raise ScenarioError(str(path), [("file", exc.reason + hint)]) from None
    scenario = parse_scenario(text, source=str(path), default_name=path.stem, base_dir=path.parent)
    return LoadedScenario(scenario, text, str(path.absolute()))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (YAML). A name without a file, such as
    'softbank-openai', loads the built-in scenario of that name."""
    return read_scenario(path).scenario


def _exists(path: Path) -> bool:
    try:
        path.stat()
    except (OSError, ValueError):
        return False
    return True


def default_scenario() -> Scenario:
    """The built-in default scenario (SoftBank's OpenAI- and Arm-backed loans)."""
    return parse_scenario(builtin_scenario_text(), source=f"built-in:{DEFAULT_SCENARIO}", default_name=DEFAULT_SCENARIO)


def parse_scenario(
    text: str, *, source: str = "<scenario>", default_name: str | None = None, base_dir: str | Path | None = None
) -> Scenario:
    """Validate scenario YAML text; raise `ScenarioError` naming each bad field and its line.

    A historical market's `prices` file is taken relative to `base_dir` (the scenario file's
    folder; the working folder when None), stored as an absolute path, and read here, so that a
    missing file, column or too short a history is reported with the scenario's other problems."""
    data, root = read_yaml_mapping(text, source, "a scenario is a YAML mapping with keys assets, borrower, loans, ...")
    if data.get("name") is None and default_name is not None:
        data["name"] = default_name
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, _validation_problems(exc, root)) from None
    problems: list = []
    if scenario.historical:
        scenario = resolve_prices(scenario, base_dir)
        problems = history_problems(scenario)
    if problems:
        raise ScenarioError(source, [(_where(loc, root), message) for loc, message in problems])
    return scenario


def read_yaml_mapping(text: str, source: str, expected: str) -> tuple[dict[str, Any], yaml.Node | None]:
    """YAML text as a mapping, with its node tree (for line numbers); a `ScenarioError` naming the
    line of a syntax error or a refused form (`yamlsafe`), or saying `expected` when the top
    level is not a mapping."""
    try:
        data, root = read_yaml(text)
    except YamlError as exc:
        raise ScenarioError(source, exc.problems) from None
    except LimitError as exc:
        raise ScenarioError(source, [("bounds", str(exc))]) from None
    if not isinstance(data, dict):
        raise ScenarioError(source, [("top level", expected)])
    return data, root


def _validation_problems(exc: ValidationError, root: yaml.Node | None) -> list[tuple[str, str]]:
    """Each field error with its path and line; the cross-field problems that the scenario's own
    validator found (`ScenarioProblems`) each with their own path and line."""
    described: list[tuple[str, str]] = []
    for err in exc.errors():
        found = (err.get("ctx") or {}).get("error")
        if isinstance(found, ScenarioProblems):
            described += [(_where(tuple(loc), root), message) for loc, message in found.problems]
        else:
            described.append(_describe(err, root))
    return described


def scenario_json_schema() -> dict[str, Any]:
    return Scenario.model_json_schema()


def _describe(err: Any, root: yaml.Node | None) -> tuple[str, str]:
    loc = tuple(part for part in err["loc"] if not _is_union_tag(part))
    message = err["msg"]
    kind = err["type"]
    if kind == "extra_forbidden":
        message = _unknown_field_message(loc)
    elif kind == "missing":
        message = "required field is missing"
    elif kind == "value_error":  # a validator's own sentence, which says what was given
        message = message.removeprefix("Value error, ")
    elif "input" in err and kind not in ("missing",) and not isinstance(err["input"], dict | list):
        message = f"{message} (got {_short(repr(err['input']))})"
    return _where(loc, root), message


def _short(text: str, width: int = 80) -> str:
    """A value as shown in a message: at most `width` characters."""
    return text if len(text) <= width else text[: width - 3] + "..."


def _unknown_field_message(loc: tuple) -> str:
    """Name the fields allowed where an unknown one was found, and the closest to it."""
    import difflib
    import types
    import typing

    from pydantic import BaseModel

    if not loc:  # every part of the path was a union's tag: nothing to name
        return "unknown field; check its spelling against `margincall schema`"

    model: type[BaseModel] | None = Scenario
    for part in loc[:-1]:
        if model is None:
            break
        field = model.model_fields.get(str(part))
        if field is None:
            continue  # a mapping key (an asset or loan id) or a list index
        model = None
        pending = [field.annotation]
        while pending:
            annotation = pending.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                model = annotation
                break
            if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
                pending.extend(typing.get_args(annotation))
    if model is None:
        return "unknown field; check its spelling against `margincall schema`"
    allowed = sorted(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown field; {hint}allowed here: {', '.join(allowed)} (units and defaults: `margincall schema`)"


def _is_union_tag(part: object) -> bool:
    """Whether a part of a pydantic error location names a member of a union (`float`,
    `IndexRate`, `function-after[...]`) rather than a field, key or index of the file."""
    if not isinstance(part, str):
        return False
    return part in _UNION_TAGS or "[" in part or part[:1].isupper() and part.isidentifier() and part in _MODEL_NAMES


_UNION_TAGS = {"float", "int", "date", "str", "bool", "list[str]", "constrained-float", "constrained-int"}
_MODEL_NAMES = {"IndexRate", "CrossDefault", "Borrower", "Lender", "Loan", "Asset", "Scenario"}


def _where(loc: tuple, root: yaml.Node | None) -> str:
    path = ".".join(str(part) for part in loc) or "top level"
    line = _line_of(loc, root)
    return f"{path} (line {line})" if line else path


def _line_of(loc: tuple, node: yaml.Node | None) -> int | None:
    """1-based line of the YAML node at `loc`, or of its nearest existing parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == str(part):
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
