"""An HTTP connector's config, parsed and checked once (http.py says what it describes):
the provider's URL for one person, the method, the projection parameter, where each field
is in the answer (a JSON Pointer or a JMESPath expression), TLS, authentication, timeout,
retries, corrections and the host's breaker."""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jmespath
import jsonpointer

ABSENT = object()  # a field the answer does not hold


class ConfigInvalid(ValueError):
    """A connector config that cannot describe an HTTP connector; the message says why."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: str
    find: Callable[[Any], Any]  # the field's value in the answer, or ABSENT
    where: str  # the pointer or expression, as configured
    param: str  # the provider's name for it when asked for only some fields
    path: tuple[str, ...] | None  # the object members leading to it (None: an expression)


def field_spec(name: str, spec: Mapping[str, Any]) -> FieldSpec:
    kind = spec.get("type")
    if kind not in {"string", "integer", "boolean", "date", "list"}:
        raise ConfigInvalid(f"field {name!r}: unknown type {kind!r}")
    param = spec.get("param", name)
    if "pointer" in spec:
        parts = tuple(jsonpointer.JsonPointer(spec["pointer"]).parts)  # the library parses
        return FieldSpec(name, kind, lambda doc: _walk(doc, parts), spec["pointer"], param,
                         parts)
    if "jmespath" in spec:
        expression = jmespath.compile(spec["jmespath"])
        # JMESPath answers null for a path that is not there: a null is absent here.
        dotted = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*",
                              spec["jmespath"])
        return FieldSpec(name, kind, lambda doc: ABSENT if (found := expression.search(doc))
                         is None else found, spec["jmespath"], param,
                         tuple(spec["jmespath"].split(".")) if dotted else None)
    return FieldSpec(name, kind, lambda doc: doc.get(name, ABSENT)
                     if isinstance(doc, dict) else ABSENT, "/" + name, param, (name,))


def _walk(document: Any, parts: tuple[str, ...]) -> Any:
    """The value at a parsed JSON Pointer, or ABSENT."""
    for part in parts:
        if isinstance(document, dict):
            document = document.get(part, ABSENT)
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return ABSENT
        if document is ABSENT:
            return ABSENT
    return document


@dataclass(frozen=True, slots=True)
class HttpConfig:
    url: str
    method: str
    fields_param: str | None
    fields: Mapping[str, FieldSpec]
    timeout: float
    retries: int
    tls: Mapping[str, str]
    auth: Mapping[str, str]
    corrections: str  # "patch" or "notify"
    threshold: int
    pause: float
    origin: str = field(init=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        object.__setattr__(self, "origin", f"{parts.scheme}://{parts.netloc}")

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> HttpConfig:
        url = config.get("url", "")
        if "{id}" not in url or urlsplit(url).scheme not in {"http", "https"}:
            raise ConfigInvalid("url must be an http(s) URL naming the person by {id}")
        auth = dict(config.get("auth") or {})
        if auth and auth.get("kind") not in {"signature", "bearer"}:
            raise ConfigInvalid(f"unknown auth kind {auth.get('kind')!r}")
        if auth.get("kind") == "bearer" and not ({"env", "file"} & auth.keys()):
            raise ConfigInvalid("a bearer secret is read from `env` or `file`, never stored")
        breaker = config.get("breaker") or {}
        return cls(
            url=url, method=config.get("method", "GET").upper(),
            fields_param=config.get("fields_param"),
            fields={name: field_spec(name, spec) for name, spec in config["fields"].items()},
            timeout=float(config.get("timeout", 5.0)), retries=int(config.get("retries", 1)),
            tls=dict(config.get("tls") or {}), auth=auth,
            corrections=config.get("corrections", "notify"),
            threshold=int(breaker.get("threshold", 5)), pause=float(breaker.get("pause", 30.0)))

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.url.startswith("https:"):
            return None
        context = ssl.create_default_context(cafile=self.tls.get("ca_file"))
        if "cert_file" in self.tls:  # mutual TLS: the exchange's client certificate
            context.load_cert_chain(self.tls["cert_file"], self.tls.get("key_file"))
        return context
