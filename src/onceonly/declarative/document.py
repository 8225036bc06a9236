"""An exchange declared in a YAML (or JSON) file: read with the line of every part kept,
checked against the JSON Schema shipped beside this module, and with its secrets brought in
from where the file names them (the environment, a key file). Every problem names the file,
the line and the path in the file."""

from __future__ import annotations

import json
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError

SCHEMA_PATH = Path(__file__).with_name("exchange.schema.json")
MAX_PROBLEMS = 20  # the first problems are enough to act on

Loc = tuple[str | int, ...]


class DeclarationError(Exception):
    """The file cannot be applied; each problem is one line naming where it is."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)[:MAX_PROBLEMS]
        super().__init__("\n".join(self.problems))


try:  # libyaml's parser where PyYAML was built with it: ten times the pure one's speed
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - a PyYAML without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _Loader(_SafeLoader):
    """YAML's own types, except that a date stays the text it is written as."""


    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A key written twice is a mistake, not the last one winning."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is written twice in one mapping", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@cache
def schema() -> dict[str, Any]:
    """The file format, as JSON Schema (printed by `onceonly apply --schema`)."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@dataclass(frozen=True)
class Declaration:
    path: Path
    data: Mapping[str, Any]
    tree: yaml.Node

    def items(self, part: str) -> list[tuple[Loc, Mapping[str, Any]]]:
        """The entries of a top-level list, each with where it is."""
        return [((part, i), entry) for i, entry in enumerate(self.data.get(part) or [])]

    def line(self, loc: Loc) -> int:
        return line_of(self.tree, loc)

    def problem(self, loc: Loc, message: str) -> str:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc) or "(top)"
        return f"{self.path} line {self.line(loc)}: {path.removeprefix('.')}: {message}"


def load(path: Path, environ: Mapping[str, str]) -> Declaration:
    """The declaration in `path`, checked against the schema, with each connector's
    `${NAME}` replaced by that environment variable and each `jwk_file` read; or a
    DeclarationError naming every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        raise DeclarationError([f"{path}: cannot read it: "
                                f"{getattr(problem, 'strerror', None) or problem}"]) from None
    try:
        tree = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader, dates kept as text
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise DeclarationError([f"{path}{where}: not YAML or JSON: "
                                f"{getattr(problem, 'problem', None) or problem}"]) from None
    if tree is None or not isinstance(data, dict):
        raise DeclarationError([f"{path} line 1: expected a mapping with version: 1 and the "
                                "exchange's organisations, schemes, datasets and agreements"])
    declaration = Declaration(path, data, tree)
    errors = sorted(Draft202012Validator(schema()).iter_errors(data),
                    key=lambda e: (declaration.line(_where(e)), e.message))
    if errors:
        raise DeclarationError(declaration.problem(_where(e), _said(e.message))
                               for e in errors)
    problems = _bring_in_secrets(declaration, environ)
    if problems:
        raise DeclarationError(problems)
    return declaration


def _where(error: ValidationError) -> Loc:
    """Where the problem is: for a key the schema does not know, that key itself."""
    loc: Loc = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        extra = next((k for k in error.instance if k not in known), None)
        return (*loc, extra) if isinstance(extra, str) else loc
    return loc


def _said(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[:limit] + "..."


def _bring_in_secrets(declaration: Declaration, environ: Mapping[str, str]) -> list[str]:
    """Connector settings from the environment, keys from their files: in place, once the
    file is known to be well formed."""
    problems: list[str] = []
    for loc, dataset in declaration.items("datasets"):
        connector = dataset["connector"]
        for name, value in list(connector.items()):
            if isinstance(value, str):
                try:
                    connector[name] = string.Template(value).substitute(environ)
                except KeyError as missing:
                    problems.append(declaration.problem(
                        (*loc, "connector", name),
                        f"names ${{{missing.args[0]}}}, which is not set in the environment"))
                except ValueError:
                    problems.append(declaration.problem(
                        (*loc, "connector", name),
                        "a $ must start ${NAME} (an environment variable) or be written $$"))
    for org_loc, org in declaration.items("organisations"):
        for i, key in enumerate(org.get("keys") or []):
            if "jwk_file" in key:
                source = declaration.path.parent / key["jwk_file"]
                try:
                    key["jwk"] = json.loads(source.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, json.JSONDecodeError) as problem:
                    why = getattr(problem, "strerror", None) or getattr(problem, "msg", problem)
                    problems.append(declaration.problem(
                        (*org_loc, "keys", i, "jwk_file"), f"cannot read {source}: {why}"))
    return problems


def line_of(node: yaml.Node, loc: tuple[Any, ...]) -> int:
    """The line (from 1) of the part at `loc` in a YAML tree, or of the nearest part holding
    it."""
    for part in loc:
        found = None
        if isinstance(node, yaml.MappingNode):
            found = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and part < len(node.value):
            found = node.value[part]
        if found is None:
            break
        node = found
    return node.start_mark.line + 1
