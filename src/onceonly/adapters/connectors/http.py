"""The HTTP connector: reads one person's fields from a provider's own API.

A dataset's connector config of `kind: http` names the provider's URL for one person
(`url`, with `{id}` where the provider's own identifier goes), the `method`, the query
parameter that asks for only some fields (`fields_param`, or none), where each field is in
the JSON answer (`fields`: a type and a JSON Pointer, `pointer`, or a JMESPath expression,
`jmespath`), how the exchange authenticates (`tls` with a client certificate for mutual
TLS; `auth` of kind `signature`, an RFC 9421 signature by the exchange's key, or `bearer`,
a secret read from the environment or a file and never stored), `timeout` in seconds and
`retries` on connection errors. Corrections are a `PATCH` where `corrections` is `patch`,
else a `record.corrected` notification to the provider (tell-us-once delivery).

Reads are awaited on the caller's event loop with a pooled aiohttp client (pools.py: keep-alive
connections, one pool per provider origin and TLS identity); the synchronous port (bulk
extracts, consents, corrections, the command line) runs the same coroutine on a loop of the
connectors' own in another thread. Every read passes the host's circuit breaker.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import jmespath
import jsonpointer
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from onceonly.adapters.connectors.breaker import Breaker, BreakerFigures
from onceonly.adapters.connectors.pools import HttpPools
from onceonly.crypto.http_signatures import sign
from onceonly.services.ports.connectors import (
    ConnectorUnusable,
    CorrectionsByNotice,
    ProviderFailure,
)

SigningKey = Callable[[], tuple[Ed25519PrivateKey, str]]  # the exchange's key and its kid

UNAVAILABLE, TIMEOUT, INVALID = ("provider_unavailable", "provider_timeout",
                                 "provider_response_invalid")
_NO_RECORD = object()
_ACCEPT_JSON = {"Accept": "application/json"}
_ABSENT = object()


class ConfigInvalid(ValueError):
    """A connector config that cannot describe an HTTP connector; the message says why."""


def _is_type(kind: str, value: Any) -> bool:
    """Whether a provider's value is of the catalogue type `kind` (dates as ISO 8601)."""
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    if kind == "date" and isinstance(value, str):
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return len(value) == 10
    return False


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: str
    find: Callable[[Any], Any]  # the field's value in the answer, or _ABSENT
    where: str  # the pointer or expression, as configured
    param: str  # the provider's name for it when asked for only some fields
    path: tuple[str, ...] | None  # the object members leading to it (None: an expression)


def _field(name: str, spec: Mapping[str, Any]) -> FieldSpec:
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
        return FieldSpec(name, kind, lambda doc: _ABSENT if (found := expression.search(doc))
                         is None else found, spec["jmespath"], param,
                         tuple(spec["jmespath"].split(".")) if dotted else None)
    return FieldSpec(name, kind, lambda doc: doc.get(name, _ABSENT)
                     if isinstance(doc, dict) else _ABSENT, "/" + name, param, (name,))


def _walk(document: Any, parts: tuple[str, ...]) -> Any:
    """The value at a parsed JSON Pointer, or _ABSENT."""
    for part in parts:
        if isinstance(document, dict):
            document = document.get(part, _ABSENT)
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return _ABSENT
        if document is _ABSENT:
            return _ABSENT
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
            fields={name: _field(name, spec) for name, spec in config["fields"].items()},
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


class _Message:
    """A request as the RFC 9421 signer reads it: method, URL and headers."""

    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method, self.url, self.headers = method, url, headers


class HttpConnector:
    def __init__(self, config: HttpConfig, breaker: Breaker, pools: HttpPools,
                 signing_key: SigningKey | None) -> None:
        self.config = config
        self.breaker = breaker
        self.pools = pools
        self.signing_key = signing_key
        self._ssl = config.ssl_context()
        self._pool_key = json.dumps([config.origin, config.tls], sort_keys=True)
        # By the fields asked for: the projection's query and the fields' specs, made once.
        self._plans: dict[tuple[str, ...], tuple[str, tuple[FieldSpec, ...]]] = {}
        self._url_parts = config.url.split("{id}", 1)
        self._timeout = aiohttp.ClientTimeout(total=config.timeout)
        self._retry_after = max(1, round(config.timeout))

    # The synchronous port: the same coroutines, on the connectors' own loop.
    def fetch(self, local_id: str, fields: Sequence[str]) -> Mapping[str, Any] | None:
        return self.pools.run(self.fetch_async(local_id, fields))

    def write(self, local_id: str, field: str, value: Any) -> bool:
        return self.pools.run(self.write_async(local_id, field, value))

    def check(self, fields: Sequence[str]) -> None:
        """Publication's try: every field mapped, and the provider's API answering (any
        answer but a failure: a probe identifier is not expected to be on record)."""
        missing = sorted(set(fields) - self.config.fields.keys())
        if missing:
            raise ConnectorUnusable(f"the connector does not say where to find {missing}")
        try:
            self.pools.run(self._call(self.config.method, "onceonly-probe",
                                      self._plan(fields)[0], None))
        except ProviderFailure as failure:
            raise ConnectorUnusable(f"the provider's API at {self.config.origin} did not "
                                    f"answer: {failure.detail}") from failure

    async def fetch_async(self, local_id: str,
                          fields: Sequence[str]) -> Mapping[str, Any] | None:
        query, specs = self._plan(fields)
        document = await self._call(self.config.method, local_id, query, None)
        if document is _NO_RECORD:
            return None
        record: dict[str, Any] = {}
        for spec in specs:
            value = spec.find(document)
            if value is _ABSENT:
                raise ProviderFailure(INVALID, f"the provider's answer has no {spec.name} "
                                               f"(at {spec.where})")
            if not _is_type(spec.type, value):
                raise ProviderFailure(INVALID, f"the provider's {spec.name} is not of type "
                                               f"{spec.type}")
            record[spec.name] = value
        return record

    def _plan(self, fields: Sequence[str]) -> tuple[str, tuple[FieldSpec, ...]]:
        """The query asking the provider for only `fields` ("" if it cannot be asked so),
        and their specs; KeyError for a field the connector does not map."""
        asked = tuple(fields)
        plan = self._plans.get(asked)
        if plan is None:
            unknown = set(asked) - self.config.fields.keys()
            if unknown:
                raise KeyError(f"the connector maps no fields {sorted(unknown)}")
            query = ""
            if self.config.fields_param and asked:
                # The provider's names, each once (two fields may come from one part).
                names = dict.fromkeys(self.config.fields[name].param for name in asked)
                query = ("&" if "?" in self.config.url else "?") + \
                    self.config.fields_param + "=" + quote(",".join(names), safe=",")
            plan = self._plans[asked] = (query, tuple(self.config.fields[n] for n in asked))
        return plan

    async def write_async(self, local_id: str, field: str, value: Any) -> bool:
        """A correction as a JSON merge patch of the one field (RFC 7396), where the dataset
        lets corrections reach the provider's API; False if it holds no such record."""
        if self.config.corrections != "patch":
            raise CorrectionsByNotice("this provider's API takes corrections as notifications")
        if field not in self.config.fields:
            raise KeyError(f"the connector maps no field {field!r}")
        path = self.config.fields[field].path
        if not path or any(part.isdigit() for part in path):
            raise ConnectorUnusable(f"{field} is found by an expression a merge patch cannot "
                                    "name")
        patch: Any = value.isoformat() if isinstance(value, date) else value
        for part in reversed(path):  # {"income": {"annual": 41000}}: the rest left as it is
            patch = {part: patch}
        body = json.dumps(patch).encode()
        found = await self._call("PATCH", local_id, "", body)
        return found is not _NO_RECORD

    def _url(self, local_id: str, query: str) -> str:
        before, after = self._url_parts
        return before + quote(local_id, safe="") + after + query

    def _headers(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        kind = self.config.auth.get("kind")
        if kind is None and body is None:
            return _ACCEPT_JSON  # aiohttp copies the headers it is given
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/merge-patch+json"
        if kind == "bearer":
            headers["Authorization"] = "Bearer " + _secret(self.config.auth)
        elif kind == "signature" and self.signing_key is not None:
            try:
                key, kid = self.signing_key()
            except LookupError:  # a fresh exchange: no signing key for its operator yet
                raise _Refused(UNAVAILABLE, "the exchange has no key to sign its requests "
                               "to this provider with yet") from None
            message = _Message(method, url, headers)
            sign(message, key, kid, body)
        return headers

    async def _call(self, method: str, local_id: str, query: str,
                    body: bytes | None) -> Any:
        """One exchange with the provider, through its breaker: the JSON answer, or
        _NO_RECORD for a 404; ProviderFailure for anything else."""
        wait = self.breaker.admit()
        if wait is not None:
            raise ProviderFailure(UNAVAILABLE, f"{self.config.origin} failed repeatedly; the "
                                  "exchange is not calling it for now", int(wait) + 1)
        try:
            answer = await self._send(method, self._url(local_id, query), body)
        except (_Refused, _NotJson):  # the host answered: it is up
            self.breaker.succeeded()
            raise
        except BaseException:  # down, failing, slow (or the caller gave up on it)
            self.breaker.failed()
            raise
        self.breaker.succeeded()
        return answer

    async def _send(self, method: str, url: str, body: bytes | None) -> Any:
        session = self.pools.session(self._pool_key, self._ssl)
        retry_after = self._retry_after
        for attempt in range(self.config.retries + 1):
            headers = self._headers(method, url, body)
            try:  # aiohttp's own timer: one less than wrapping it in asyncio.timeout
                async with session.request(method, url, data=body, headers=headers,
                                           timeout=self._timeout) as got:
                    return await _answer(got, retry_after)
            except TimeoutError:  # aiohttp's timeouts are TimeoutErrors (and connection errors)
                raise ProviderFailure(TIMEOUT, f"{self.config.origin} did not answer within "
                                      f"{self.config.timeout:g} s", retry_after) from None
            except aiohttp.ClientConnectionError as error:
                if attempt == self.config.retries or method != "GET":
                    raise ProviderFailure(UNAVAILABLE, f"{self.config.origin} could not be "
                                          f"reached ({type(error).__name__})",
                                          retry_after) from None
        raise AssertionError("unreachable")  # pragma: no cover


async def _answer(got: aiohttp.ClientResponse, retry_after: int) -> Any:
    if got.status == 404:
        return _NO_RECORD
    if got.status >= 500:
        raise ProviderFailure(UNAVAILABLE, f"the provider answered HTTP {got.status}",
                              retry_after)
    if got.status >= 400:  # it refused the exchange's request: its access or this config
        raise _Refused(UNAVAILABLE, f"the provider refused the exchange's request "
                       f"(HTTP {got.status})", retry_after)
    if got.status == 204:
        return None
    try:
        return json.loads(await got.read())
    except ValueError:
        raise _NotJson(INVALID, "the provider's answer is not JSON") from None


class _Refused(ProviderFailure):
    """A 4xx other than 404, or a request the exchange could not make (its secret or key
    missing): no fault of the provider's host, so not counted by its breaker."""


class _NotJson(ProviderFailure):
    """An answer that is not JSON: the provider is up and answered wrongly."""


def _secret(auth: Mapping[str, str]) -> str:
    """A bearer secret, read where the config says each time (rotated without a restart)."""
    if "env" in auth:
        value = os.environ.get(auth["env"])
        if not value:
            raise _Refused(UNAVAILABLE, f"the bearer secret ${auth['env']} is not set")
        return value
    try:
        return Path(auth["file"]).read_text().strip()
    except OSError as error:
        raise _Refused(UNAVAILABLE, f"the bearer secret's file cannot be read "
                       f"({error.strerror})") from None


class HttpConnectors:
    """HTTP connectors by dataset, with one breaker per provider host."""

    def __init__(self, signing_key: SigningKey | None = None) -> None:
        self.signing_key = signing_key
        self.pools = HttpPools()
        self._connectors: dict[str, HttpConnector] = {}
        self._breakers: dict[str, Breaker] = {}
        self._lock = threading.Lock()

    def for_config(self, config: Mapping[str, Any]) -> HttpConnector:
        cache_key = orjson.dumps(config, option=orjson.OPT_SORT_KEYS)  # asked each query
        connector = self._connectors.get(cache_key)
        if connector is None:
            parsed = HttpConfig.parse(config)
            host = urlsplit(parsed.url).netloc
            with self._lock:
                breaker = self._breakers.get(host)
                if breaker is None:
                    breaker = self._breakers[host] = Breaker(
                        host, threshold=parsed.threshold, pause=parsed.pause)
                connector = self._connectors[cache_key] = HttpConnector(
                    parsed, breaker, self.pools, self.signing_key)
        return connector

    def breakers(self) -> list[BreakerFigures]:
        with self._lock:
            return [breaker.figures() for _, breaker in sorted(self._breakers.items())]

    def close(self) -> None:
        self.pools.close()
