"""The governed query answered by the bare ASGI handler in front of FastAPI (routes/queries.py
`QueryFront`) answers exactly as FastAPI answers the same route: two real servers over one
exchange, one with the handler and one without it, are sent the same requests (well formed,
malformed, unauthenticated, refused, over the cap, generated) and must give the same status,
the same problem body (its request id naming the answer's X-Request-Id), the same headers,
the same audit entries and the same request figures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.routes.queries import QueryFront
from onceonly.entrypoints.api.server import running
from tests.e2e.conftest import Api

OFFICER = "officer:GOV/DWP"
# Headers whose values differ between any two answers, whoever answers.
VARYING = {"date", "x-request-id"}
POLICIES = {"none": False, "DWP must sign": frozenset({"GOV/DWP"}), "everyone signs": True}


def without_front(app: FastAPI) -> FastAPI:
    """The same app answering the query through FastAPI alone, as before the handler."""
    app.user_middleware = [m for m in app.user_middleware if m.cls is not QueryFront]
    return app


@dataclass
class Pair:
    api: Api
    front: httpx.Client
    fastapi: httpx.Client
    apps: tuple[FastAPI, FastAPI]

    def both(self, **request: Any) -> tuple[Any, Any]:
        return self.answer(self.front, **request), self.answer(self.fastapi, **request)

    def answer(self, client: httpx.Client, **request: Any) -> Any:
        seq = self._last_seq()
        response = client.request("POST", request.pop("path", "/v1/queries"), **request)
        return _comparable(response), self._audited_since(seq)

    def _last_seq(self) -> int:
        with self.api.exchange.engine.connect() as conn:
            return conn.execute(select(t.audit_log.c.seq).order_by(t.audit_log.c.seq.desc())
                                .limit(1)).scalar() or 0

    def _audited_since(self, seq: int) -> list[tuple[Any, ...]]:
        audit = t.audit_log.c
        with self.api.exchange.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(
                select(audit.action, audit.outcome, audit.reason, audit.org_id,
                       audit.agreement_id).where(audit.seq > seq).order_by(audit.seq))]


def _comparable(response: httpx.Response) -> dict[str, Any]:
    headers = {k: v for k, v in response.headers.items() if k not in VARYING}
    if "location" in headers:  # each server has its own port
        headers["location"] = httpx.URL(headers["location"]).path
    body: Any = response.content
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
    if isinstance(body, dict) and "request_id" in body:
        assert body.pop("request_id") == response.headers["x-request-id"]
    if response.status_code == 200:  # a release: its id and moment are its own
        assert set(body) == {"release_id", "agreement_id", "subject", "data", "sources",
                             "released_at"}
        body = {k: v for k, v in body.items() if k not in ("release_id", "released_at")}
        headers = {k: v for k, v in headers.items()
                   if k not in ("content-length", "onceonly-signature")}
        assert response.headers["onceonly-signature"].count(".") == 2
    return {"status": response.status_code, "body": body, "headers": headers}


@pytest.fixture(scope="module", params=list(POLICIES))
def pair(request: pytest.FixtureRequest, api: Api) -> Iterator[Pair]:
    signing = POLICIES[request.param]
    apps = tuple(create_app(api.exchange, integrate_every=0, require_signatures=signing,
                            trusted_proxies=["127.0.0.1"]) for _ in range(2))
    front_app, fastapi_app = apps[0], without_front(apps[1])
    with ExitStack() as stack:
        clients = [stack.enter_context(httpx.Client(
            base_url=stack.enter_context(running(app)), timeout=30))
            for app in (front_app, fastapi_app)]
        yield Pair(api, clients[0], clients[1], (front_app, fastapi_app))


def _query(api: Api, **changes: Any) -> dict[str, Any]:
    return {"agreement_id": 1, "subject": {"scheme": "nino",
                                           "value": api.world.citizen_ids["nino"]},
            "fields": ["income_band"], "purpose": "benefit-entitlement", **changes}


def _cases(api: Api) -> list[tuple[str, dict[str, Any]]]:
    auth = api.auth(OFFICER)
    as_json = {**auth, "Content-Type": "application/json"}
    good = json.dumps(_query(api)).encode()
    return [
        ("released", {"json": _query(api), "headers": auth}),
        ("released, a request id given, over TLS from the proxy",
         {"json": _query(api), "headers": {**auth, "X-Request-ID": "given-id.1",
                                           "X-Forwarded-Proto": "https"}}),
        ("purpose refused", {"json": _query(api, purpose="not-the-purpose"), "headers": auth}),
        ("no such agreement", {"json": _query(api, agreement_id=999_999), "headers": auth}),
        ("field not agreed", {"json": _query(api, fields=["annual_income"]), "headers": auth}),
        ("unknown person", {"json": _query(api, subject={"scheme": "nino",
                                                         "value": "QQ999999Z"}),
                            "headers": auth}),
        ("another organisation's agreement",
         {"json": _query(api), "headers": api.auth("officer:COM/ACME")}),
        ("no token", {"json": _query(api)}),
        ("a token that is not one", {"json": _query(api),
                                     "headers": {"Authorization": "Bearer not-a-token"}}),
        ("basic, not bearer", {"json": _query(api), "headers": {"Authorization": "Basic eDp5"}}),
        ("bearer without a token", {"json": _query(api), "headers": {"Authorization": "Bearer"}}),
        ("no body", {"headers": auth}),
        ("no body, no token", {}),
        ("empty JSON object", {"json": {}, "headers": auth}),
        ("invalid, bad token", {"json": {}, "headers": {"Authorization": "Bearer nope"}}),
        ("a list", {"json": [1, 2], "headers": auth}),
        ("extra field", {"json": _query(api, extra=1), "headers": auth}),
        ("agreement id as text", {"json": _query(api, agreement_id="1"), "headers": auth}),
        ("agreement id whole float", {"json": _query(api, agreement_id=1.0), "headers": auth}),
        ("agreement id too large", {"json": _query(api, agreement_id=2**40), "headers": auth}),
        ("fields empty", {"json": _query(api, fields=[]), "headers": auth}),
        ("not JSON", {"content": b"{not json", "headers": as_json}),
        ("not UTF-8", {"content": b'{"a": "\xff"}', "headers": as_json}),
        ("a key twice", {"content": good[:-1] + b', "purpose": "x"}', "headers": as_json}),
        ("deeply nested", {"content": b"[" * 100_000 + b"]" * 100_000, "headers": as_json}),
        ("over the cap, announced", {"content": b" " * 70_000, "headers": as_json}),
        ("over the cap, streamed", {"content": iter([b" " * 40_000, b" " * 40_000]),
                                    "headers": as_json}),
        ("no content type", {"content": good, "headers": auth}),
        ("text/plain", {"content": good, "headers": {**auth, "Content-Type": "text/plain"}}),
        ("JSON with a charset", {"content": good, "headers": {
            **auth, "Content-Type": "application/json; charset=utf-8"}}),
        ("+json", {"content": good, "headers": {**auth, "Content-Type": "application/x+json"}}),
        ("a signature that does not verify", {"content": good, "headers": {
            **as_json, "Signature-Input": 'sig=("@method");created=1', "Signature": "sig=:AA==:"}}),
        ("a query string", {"json": _query(api), "headers": auth, "path": "/v1/queries?x=1"}),
        ("trailing slash", {"json": _query(api), "headers": auth, "path": "/v1/queries/"}),
    ]


def test_each_case_is_answered_as_fastapi_answers_it(pair: Pair) -> None:
    for name, request in _cases(pair.api):
        if "iter" in type(request.get("content")).__name__:  # a stream is sent once
            chunks = list(request["content"])
            front, fastapi = (pair.answer(client, **{**request, "content": iter(chunks)})
                              for client in (pair.front, pair.fastapi))
        else:
            front, fastapi = pair.both(**request)
        assert front == fastapi, name


def test_the_request_figures_are_the_same(pair: Pair) -> None:
    pair.both(json=_query(pair.api), headers=pair.api.auth(OFFICER))
    pair.both(json={}, headers=pair.api.auth(OFFICER))
    figures = [_query_figures(app) for app in pair.apps]
    assert figures[0] == figures[1] and figures[0]


def _query_figures(app: FastAPI) -> dict[tuple[str, ...], float]:
    found = {}
    for family in app.state.metrics.registry.collect():
        for sample in family.samples:
            if sample.name in ("onceonly_http_requests_total", "onceonly_decisions_total") \
                    and sample.labels.get("route", "/v1/queries") == "/v1/queries":
                found[(sample.name, *sorted(sample.labels.items()))] = sample.value
    return found


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                  max_size=3),
    max_leaves=8)


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A query with any one of its parts replaced or dropped, or any JSON value at all."""
    body: Any = {"agreement_id": 1, "subject": {"scheme": "nino", "value": "QQ123456C"},
                 "fields": ["income_band"], "purpose": "benefit-entitlement"}
    if draw(st.booleans()):
        key = draw(st.sampled_from([*body, "subject.value", "subject.scheme", "other"]))
        if draw(st.booleans()) and key in body:
            del body[key]
        elif key.startswith("subject."):
            body["subject"][key.split(".")[1]] = draw(JSON_VALUES)
        else:
            body[key] = draw(JSON_VALUES)
    else:
        body = draw(JSON_VALUES)
    return body


@settings(max_examples=25, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture])
@given(body=bodies(), token=st.sampled_from([OFFICER, "citizen", None]))
def test_generated_bodies_are_answered_as_fastapi_answers_them(
        pair: Pair, body: Any, token: str | None) -> None:
    headers = pair.api.auth(token) if token else {}
    front, fastapi = pair.both(json=body, headers=headers)
    assert front == fastapi
