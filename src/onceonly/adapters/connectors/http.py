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

The config is parsed in http_config.py, requests are made in http_requests.py and answers
read in http_answers.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import orjson

from onceonly.adapters.connectors.breaker import Breaker, BreakerFigures
from onceonly.adapters.connectors.http_answers import (
    NO_RECORD,
    TIMEOUT,
    UNAVAILABLE,
    NotJson,
    Refused,
    answer,
    record_of,
)
from onceonly.adapters.connectors.http_config import FieldSpec, HttpConfig
from onceonly.adapters.connectors.http_requests import SigningKey, headers_for
from onceonly.adapters.connectors.pools import HttpPools
from onceonly.services.ports.connectors import (
    ConnectorUnusable,
    CorrectionsByNotice,
    ProviderFailure,
)


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
        if document is NO_RECORD:
            return None
        return record_of(document, specs)

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
        return found is not NO_RECORD

    def _url(self, local_id: str, query: str) -> str:
        before, after = self._url_parts
        return before + quote(local_id, safe="") + after + query

    async def _call(self, method: str, local_id: str, query: str,
                    body: bytes | None) -> Any:
        """One exchange with the provider, through its breaker: the JSON answer, or
        NO_RECORD for a 404; ProviderFailure for anything else."""
        wait = self.breaker.admit()
        if wait is not None:
            raise ProviderFailure(UNAVAILABLE, f"{self.config.origin} failed repeatedly; the "
                                  "exchange is not calling it for now", int(wait) + 1)
        try:
            answer = await self._send(method, self._url(local_id, query), body)
        except (Refused, NotJson):  # the host answered: it is up
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
            headers = headers_for(self.config.auth, self.signing_key, method, url, body)
            try:  # aiohttp's own timer: one less than wrapping it in asyncio.timeout
                async with session.request(method, url, data=body, headers=headers,
                                           timeout=self._timeout) as got:
                    return await answer(got, retry_after)
            except TimeoutError:  # aiohttp's timeouts are TimeoutErrors (and connection errors)
                raise ProviderFailure(TIMEOUT, f"{self.config.origin} did not answer within "
                                      f"{self.config.timeout:g} s", retry_after) from None
            except aiohttp.ClientConnectionError as error:
                if attempt == self.config.retries or method != "GET":
                    raise ProviderFailure(UNAVAILABLE, f"{self.config.origin} could not be "
                                          f"reached ({type(error).__name__})",
                                          retry_after) from None
        raise AssertionError("unreachable")  # pragma: no cover


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
