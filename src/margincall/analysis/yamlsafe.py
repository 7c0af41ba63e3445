"""YAML read faithfully and within bounds: what the user wrote is what margincall gets, or an error.

PyYAML's defaults change what a user wrote without a word, or never return. This reader refuses:

- a key given twice in one mapping (PyYAML keeps the last): both lines are named;
- the YAML 1.1 words yes/no/on/off (any case), which PyYAML reads as true/false: write true or
  false for a switch, or quote the word for text. Only true/false (True, TRUE, ...) are booleans;
- numbers whose meaning changed between YAML 1.1 and 1.2: a leading zero (010 is 8 in 1.1, 10
  in 1.2) and base-60 numbers (1:30 is 90 in 1.1): write 10, 0o10, or quote the text;
- a literal number too large for a float (1e400, which would become infinity), an integer of
  more than 4,300 digits, and a date that does not exist (2026-02-30);
- a document nested deeper than the bound `yaml_depth`, with more values than `yaml_nodes`
  (each use of an alias counted in full: "billion laughs"), more alias uses than
  `yaml_aliases`, or an alias that refers to a node containing it (a recursive structure).

Numbers follow YAML 1.2: `5e9` is a number (PyYAML reads it as text), as are `0x1F`, `0o17`,
`0b101`, `1_000` and `.inf`/`.nan` (which the schema then refuses where it needs a finite
number). Dates (YYYY-MM-DD) are dates. Bounds are those of `margincall.model.limits`.

`read_yaml(text)` returns the data and the node tree (for line numbers), or raises
`YamlError` with (where, what) problems naming the line of each.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

from margincall.model.limits import Limits, limits

try:  # libyaml's parser (C) under Python's composer: about five times faster, and the composer stays hookable
    from yaml._yaml import CParser as _Parser

    _C_PARSER = True
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml.parser import Parser as _Parser  # type: ignore[assignment]
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    _C_PARSER = False

AMBIGUOUS = "tag:margincall,2026:ambiguous"
MAX_PROBLEMS = 20
INT_DIGITS = 4300  # Python's default limit on converting long digit strings to int


class YamlError(ValueError):
    """YAML that margincall will not read; `problems` are (where, what) pairs, `where` naming the
    line (and field path where known)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{where}: {what}" for where, what in problems))


class _Refused(yaml.MarkedYAMLError):
    """A bound passed while composing (depth, values, aliases): stops the parse at once."""


class _Resolver(BaseResolver):
    """YAML 1.2 core scalars, with the YAML 1.1 forms whose meaning changed resolved to AMBIGUOUS."""


_R = _Resolver.add_implicit_resolver
_R("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_R(AMBIGUOUS, re.compile(r"^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$"), list("yYnNoO"))
_R(AMBIGUOUS, re.compile(r"^[-+]?0[0-9_]+$"), list("-+0"))  # leading zero: octal in 1.1
_R(AMBIGUOUS, re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$"), list("-+0123456789"))  # base 60
_R("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?0o[0-7_]+|[-+]?0b[01_]+)$"),
   list("-+0123456789"))
_R("tag:yaml.org,2002:float",
   re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
   list("-+0123456789."))
_R("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])
_R("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_R("tag:yaml.org,2002:timestamp",
   re.compile(r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
                |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
                 (?:[Tt]|[ \t]+)[0-9][0-9]?
                 :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
                 (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", re.X),
   list("0123456789"))
del _R


class _Constructor(SafeConstructor):
    """Numbers as YAML 1.2 reads them; a bad date or an overflowing literal is an error at its line."""

    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = str(self.construct_scalar(node)).replace("_", "")
        digits = len(text.lstrip("+-"))
        if digits > INT_DIGITS:
            raise ConstructorError(None, None, f"an integer of {digits:,} digits; margincall reads at most {INT_DIGITS:,}", node.start_mark)
        try:
            return int(text, 0)
        except ValueError:
            raise ConstructorError(None, None, f"'{node.value}' is not an integer", node.start_mark) from None

    def construct_yaml_float(self, node: ScalarNode) -> float:
        text = str(self.construct_scalar(node)).replace("_", "").lower()
        if text.lstrip("+-") in (".inf", ".nan"):
            value = float(text.replace(".", ""))
            return value
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise ConstructorError(
                None, None, f"{node.value} is beyond the range of numbers (about ±1.8e308); write a finite number", node.start_mark
            )
        return value

    def construct_yaml_timestamp(self, node: ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise ConstructorError(None, None, f"'{node.value}' is not a valid date ({exc}); write an existing date, YYYY-MM-DD",
                                   node.start_mark) from None

    def construct_ambiguous(self, node: ScalarNode) -> Any:
        raise ConstructorError(None, None, _ambiguous_message(node.value), node.start_mark)


_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)
_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor.construct_yaml_float)
_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)
_Constructor.add_constructor(AMBIGUOUS, _Constructor.construct_ambiguous)


class _Composer(Composer):
    """Python's composer with bounds on depth, values and alias uses, checked as it goes."""

    def __init__(self, bounds: Limits):
        super().__init__()
        self._bounds = bounds
        self._depth = 0
        self._nodes = 0
        self._aliases = 0

    def _refuse(self, name: str, value: int, what: str) -> None:
        from margincall.model.limits import bound

        event = self.peek_event()
        message = bound(name).problem(value, getattr(self._bounds, name), what)
        raise _Refused(None, None, message, event.start_mark)

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(AliasEvent):
            self._aliases += 1
            if self._aliases > self._bounds.yaml_aliases:
                self._refuse("yaml_aliases", self._aliases, "the number of alias uses (*name)")
        else:
            self._nodes += 1
            if self._nodes > self._bounds.yaml_nodes:
                self._refuse("yaml_nodes", self._nodes, "the number of values in the document")
        self._depth += 1
        try:
            if self._depth > self._bounds.yaml_depth:
                self._refuse("yaml_depth", self._depth, "the nesting depth")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


if _C_PARSER:

    class _Loader(_Composer, _Parser, _Constructor, _Resolver):  # type: ignore[misc, valid-type]
        def __init__(self, text: str, bounds: Limits):
            _Parser.__init__(self, text)
            _Constructor.__init__(self)
            _Resolver.__init__(self)
            _Composer.__init__(self, bounds)

else:  # pragma: no cover

    class _Loader(Reader, Scanner, _Parser, _Composer, _Constructor, _Resolver):  # type: ignore[no-redef, misc]
        def __init__(self, text: str, bounds: Limits):
            Reader.__init__(self, text)
            Scanner.__init__(self)
            _Parser.__init__(self)
            _Composer.__init__(self, bounds)
            _Constructor.__init__(self)
            _Resolver.__init__(self)


def _ambiguous_message(text: str) -> str:
    if text.lower() in ("yes", "no", "on", "off"):
        return (f"'{text}' is ambiguous: YAML 1.1 reads it as {'true' if text.lower() in ('yes', 'on') else 'false'}, "
                f"YAML 1.2 as text; write true or false for a switch, or quote it (\"{text}\") for text")
    if ":" in text:
        return (f"'{text}' is ambiguous: YAML 1.1 reads it as a base-60 number; "
                "write the number in decimal, or quote it for text")
    return (f"'{text}' is ambiguous: YAML 1.1 reads a leading zero as octal; write the number without the leading "
            "zero (or 0o... for octal), or quote it for text")


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _where(path: list[str], line: int) -> str:
    return f"{'.'.join(path)} (line {line})" if path else f"line {line}"


def _check(root: Node, bounds: Limits) -> list[tuple[str, str]]:
    """Duplicate keys, ambiguous scalars, recursive aliases and the expanded size, in one walk
    (each distinct node visited once; an alias's size counted at every use)."""
    problems: list[tuple[str, str]] = []
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def walk(node: Node, path: list[str]) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise _Recursive(node)
        open_nodes.add(key)
        size = 1
        if isinstance(node, ScalarNode):
            if node.tag == AMBIGUOUS:
                problems.append((_where(path, _line(node)), _ambiguous_message(node.value)))
        elif isinstance(node, SequenceNode):
            for i, child in enumerate(node.value):
                size += walk(child, [*path, str(i)])
        elif isinstance(node, MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key_node, value_node in node.value:
                name = str(key_node.value) if isinstance(key_node, ScalarNode) else "?"
                if isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    ident = (key_node.tag, key_node.value)
                    if ident in seen:
                        first, again = seen[ident], _line(key_node)
                        problems.append((
                            _where([*path, name], again),
                            f"the key '{name}' is given twice in this mapping (lines {first} and {again}); give it once",
                        ))
                    else:
                        seen[ident] = _line(key_node)
                size += walk(key_node, [*path, name]) + walk(value_node, [*path, name])
        open_nodes.discard(key)
        sizes[key] = size
        if size > bounds.yaml_nodes:
            raise _TooLarge(node, size)
        return size

    try:
        walk(root, [])
    except _Recursive as rec:
        problems.append((f"line {_line(rec.node)}", "an alias refers to a value that contains it (a recursive structure); "
                                                    "margincall reads no recursive YAML"))
    except _TooLarge as big:
        from margincall.model.limits import bound

        message = bound("yaml_nodes").problem(big.size, bounds.yaml_nodes, "the number of values with every alias expanded (at least)")
        problems.append((f"line {_line(big.node)}", message or "too large"))
    return problems


class _Recursive(Exception):
    def __init__(self, node: Node):
        self.node = node


class _TooLarge(Exception):
    def __init__(self, node: Node, size: int):
        self.node = node
        self.size = size


def _marked(exc: yaml.MarkedYAMLError, syntax: bool) -> tuple[str, str]:
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "YAML"
    problem = exc.problem or str(exc)
    if exc.context and syntax:
        problem = f"{exc.context}: {problem}"
    return where, (f"YAML syntax error: {problem}" if syntax else problem)


def read_yaml(text: str, bounds: Limits | None = None) -> tuple[Any, Node | None]:
    """The data of one YAML document and its node tree (None for an empty document).

    Raises `YamlError` for a syntax error, a refused form (see the module's docstring) or a
    bound passed; `LimitError` when a bound's environment variable is not a number."""
    bounds = bounds or limits()
    loader = _Loader(text, bounds)
    try:
        try:
            root = loader.get_single_node()
        except _Refused as exc:
            raise YamlError([_marked(exc, syntax=False)]) from None
        except yaml.MarkedYAMLError as exc:
            raise YamlError([_marked(exc, syntax=True)]) from None
        except yaml.YAMLError as exc:
            raise YamlError([("YAML", f"YAML syntax error: {exc}")]) from None
        except RecursionError:  # pragma: no cover - the depth bound stops well before Python's limit
            raise YamlError([("YAML", f"nested too deeply for Python (recursion limit {sys.getrecursionlimit()})")]) from None
        if root is None:
            return None, None
        problems = _check(root, bounds)
        if problems:
            if len(problems) > MAX_PROBLEMS:
                problems = problems[:MAX_PROBLEMS] + [("...", f"and {len(problems) - MAX_PROBLEMS} more problems like these")]
            raise YamlError(problems)
        try:
            data = loader.construct_document(root)
        except yaml.MarkedYAMLError as exc:
            raise YamlError([_marked(exc, syntax=False)]) from None
        return data, root
    finally:
        loader.dispose()
