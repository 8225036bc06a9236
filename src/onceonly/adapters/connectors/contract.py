"""An HTTP connector checked against the provider's own OpenAPI document, at publication:
the URL template names an operation the document has (its method, and the query parameter
that asks for only some fields), and each field is in that operation's JSON answer where the
connector looks for it, with the dataset's type. The first disagreement refuses the
publication (`connector_contract_mismatch`), naming it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import jsonpointer

from onceonly.services.ports.connectors import ContractMismatch

# How each catalogue type appears in a JSON Schema (OpenAPI 3.0 and 3.1).
_SCHEMA_TYPES = {"string": "string", "integer": "integer", "boolean": "boolean",
                 "list": "array", "date": "string"}
_SIMPLE_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_PARAMETER = re.compile(r"\{[^}/]+\}")


def check_contract(config: Mapping[str, Any], document: Mapping[str, Any],
                   field_types: Mapping[str, str]) -> None:
    """Raise ContractMismatch at the first field (or `url`) the document contradicts.
    `field_types`: the dataset's fields and their catalogue types."""
    try:
        _check(config, document, field_types)
    except jsonpointer.JsonPointerException as problem:  # a `$ref` or `pointer` not one
        raise ContractMismatch("url", f"a JSON Pointer does not read: {problem}") from None


def _check(config: Mapping[str, Any], document: Mapping[str, Any],
           field_types: Mapping[str, str]) -> None:
    operation = _operation(config, document)
    if config.get("fields_param") and not any(
            p.get("in") == "query" and p.get("name") == config["fields_param"]
            for p in (_resolved(document, p) for p in operation.get("parameters", []))):
        raise ContractMismatch("fields_param", f"the operation takes no query parameter "
                                               f"{config['fields_param']!r}")
    answer = _answer_schema(document, operation)
    mapped = config.get("fields") or {}
    for name, kind in field_types.items():
        spec = mapped.get(name)
        if spec is None:
            raise ContractMismatch(name, "the connector does not say where to find it")
        if spec.get("type") != kind:
            raise ContractMismatch(name, f"the connector reads it as {spec.get('type')}, "
                                         f"the dataset publishes {kind}")
        schema = _schema_at(document, answer, _tokens(name, spec))
        if schema is None:
            raise ContractMismatch(name, "the provider's answer has no such property")
        if not _has_type(schema, kind):
            raise ContractMismatch(name, f"the provider's document gives it as "
                                         f"{schema.get('type')!r}, not {kind}")


def _operation(config: Mapping[str, Any], document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The document's operation for the URL template and method."""
    wanted = _shape(urlsplit(config.get("url", "")).path)
    bases = [urlsplit(s.get("url", "")).path.rstrip("/") for s in document.get("servers", [])]
    for path, item in (document.get("paths") or {}).items():
        if any(_shape(base + path) == wanted for base in bases or [""]):
            operation = item.get(config.get("method", "GET").lower())
            if operation is None:
                raise ContractMismatch("url", f"{path} takes no {config.get('method', 'GET')}")
            return operation  # type: ignore[no-any-return]
    raise ContractMismatch("url", "the provider's document has no operation at "
                                  f"{urlsplit(config.get('url', '')).path}")


def _shape(path: str) -> str:
    """A path with each parameter's name left out: /people/{id} and /people/{nino} agree."""
    return _PARAMETER.sub("{}", path.rstrip("/"))


def _answer_schema(document: Mapping[str, Any],
                   operation: Mapping[str, Any]) -> Mapping[str, Any]:
    responses = operation.get("responses") or {}
    found = _resolved(document, responses.get("200") or responses.get("2XX") or {})
    content = (found.get("content") or {}).get("application/json") or {}
    if "schema" not in content:
        raise ContractMismatch("url", "the operation's 200 answer has no JSON schema")
    return _resolved(document, content["schema"])


def _tokens(name: str, spec: Mapping[str, Any]) -> list[str]:
    if "pointer" in spec:
        return list(jsonpointer.JsonPointer(spec["pointer"]).parts)
    if "jmespath" in spec:
        if not _SIMPLE_PATH.match(spec["jmespath"]):
            raise ContractMismatch(name, "only a dotted JMESPath can be checked against the "
                                         "provider's document")
        return spec["jmespath"].split(".")
    return [name]


def _schema_at(document: Mapping[str, Any], schema: Mapping[str, Any],
               tokens: list[str]) -> Mapping[str, Any] | None:
    for token in tokens:
        schema = _resolved(document, schema)
        if token.isdigit() and "items" in schema:
            schema = schema["items"]
            continue
        properties = schema.get("properties") or {}
        if token not in properties:
            return None
        schema = properties[token]
    return _resolved(document, schema)


def _has_type(schema: Mapping[str, Any], kind: str) -> bool:
    declared = schema.get("type")
    types = set(declared) if isinstance(declared, list) else {declared}
    if _SCHEMA_TYPES[kind] not in types:
        return False
    return kind != "date" or schema.get("format") == "date"


def _resolved(document: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """A node with its local `$ref` followed (`#/components/...`)."""
    seen = 0
    while isinstance(node, Mapping) and "$ref" in node and seen < 20:
        ref = node["$ref"]
        if not ref.startswith("#"):
            raise ContractMismatch("url", f"the document refers outside itself ({ref})")
        node = jsonpointer.resolve_pointer(document, ref[1:], {})
        seen += 1
    return node
