"""The governed query over HTTP: one person's agreed fields, released signed by the provider.

The route is declared to FastAPI (its document, its validation) and answered by `QueryFront`,
a bare ASGI handler in front of FastAPI's routing that does the same steps for less."""

from __future__ import annotations

import email.message
import inspect
import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from onceonly.bootstrap import Exchange
from onceonly.entrypoints.api.caller import BearerToken, bearer_of, note_caller, noted_token
from onceonly.entrypoints.api.dispatch import Run
from onceonly.entrypoints.api.json_bodies import loads_strictly
from onceonly.entrypoints.api.middleware import Metrics
from onceonly.entrypoints.api.schemas.problems import Problem
from onceonly.entrypoints.api.schemas.queries import QueryIn, ReleaseOut
from onceonly.services.queries import QueryCommand, QueryRefused, Release

SIGNATURE_HEADER = "Onceonly-Signature"
PATH = "/v1/queries"

# What a read through a provider's connector may answer besides the exchange's own refusals.
PROVIDER_FAILURES: dict[int | str, dict[str, Any]] = {
    502: {"model": Problem, "description": "the provider's own system failed or answered "
          "wrongly (`provider_unavailable`, `provider_response_invalid`); Retry-After"},
    504: {"model": Problem, "description": "the provider's own system did not answer in time "
          "(`provider_timeout`); Retry-After"}}

QUERY_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"headers": {SIGNATURE_HEADER: {
    "description": "detached JWS (RFC 7515 appendix F, Ed25519) over the RFC 8785 canonical "
                   "JSON of the body by the agreement's provider; its keys at "
                   "/.well-known/jwks/{provider}.json",
    "schema": {"type": "string"}}}}, **PROVIDER_FAILURES}


def add_to(app: FastAPI) -> None:
    """The query route, on `app` itself rather than in an included router, which FastAPI
    matches twice: the governed query is the exchange's hot path."""
    app.post(PATH, response_model=ReleaseOut, tags=["queries"],
             responses=QUERY_RESPONSES)(query)


async def query(body: QueryIn, token: BearerToken, request: Request) -> Response:
    release = await released(body, token, request)
    return Response(release.payload, media_type="application/json",
                    headers={SIGNATURE_HEADER: release.signature})


async def released(body: QueryIn, token: str | None, request: Request) -> Release:
    """The query answered for `token`: its release, or QueryRefused (counted either way)."""
    # The exchange, where the use case runs (dispatch.py) and the decisions' figures, as
    # create_app set them: read here, not through dependencies, each of which costs the hot
    # path a resolution.
    state = request.app.state
    exchange: Exchange = state.exchange
    run_blocking: Run[Release] = state.run_blocking
    metrics: Metrics = state.metrics
    command = QueryCommand(
        agreement_id=body.agreement_id,
        scheme=body.subject.scheme,
        value=body.subject.value,
        fields=tuple(body.fields),
        purpose=body.purpose,
    )

    try:
        release = await exchange.queries.query_awaiting(
            token, command, run_blocking, lambda caller: note_caller(request.state, caller))
    except QueryRefused as refusal:
        metrics.decided("deny", refusal.code)
        raise
    metrics.decided("permit")
    return release


class QueryFront:
    """`POST /v1/queries` answered as bare ASGI: innermost of the API's middleware, so its
    answers carry what every answer carries (request id, HSTS, the body cap, metrics, signed
    requests verified), and in front of FastAPI's routing and dependency resolution, which
    cost the hot path more than they do here (BENCHMARKS.md section 13). It takes FastAPI's
    steps for the declared route in FastAPI's order: read the body, decoded strictly when
    its Content-Type says JSON; the bearer token and the request's signature (caller.py);
    the body validated by the route's own model; then `query` itself. Refusals and faults
    go to the app's own exception handlers (problems.py). Everything else goes on to the
    app."""

    def __init__(self, app: ASGIApp, api: FastAPI) -> None:
        self.app = app
        self.api = api  # for its exception handlers, looked up when one is needed
        self.route = next(r for r in api.router.routes if isinstance(r, APIRoute)
                          and r.path == PATH and "POST" in r.methods)
        self.validator: TypeAdapter[QueryIn] = TypeAdapter(QueryIn)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith(PATH) \
                or self.route.matches(scope)[0] is not Match.FULL:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route  # for the access log, metrics and problems' log lines
        request = Request(scope, receive)
        try:
            release = await self._answer(request, receive)
        except Exception as error:
            response = await self._handled(request, error)
            await response(scope, receive, send)
            return
        # As Response(payload, media_type="application/json", headers=...) sends it.
        await send({"type": "http.response.start", "status": 200, "headers": [
            (SIGNATURE_KEY, release.signature.encode("latin-1")),
            (b"content-length", str(len(release.payload)).encode()), JSON_TYPE]})
        await send({"type": "http.response.body", "body": release.payload})

    async def _answer(self, request: Request, receive: Receive) -> Release:
        content_type, authorization = _headers(request.scope["headers"])
        body = await _body(request, receive, content_type)
        token = noted_token(request, bearer_of(authorization))
        if body is _NO_BODY:
            raise RequestValidationError([
                {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}])
        try:
            command = self.validator.validate_python(body, from_attributes=True)
        except ValidationError as invalid:
            raise RequestValidationError([{**e, "loc": ("body", *e["loc"])}
                                          for e in invalid.errors(include_url=False)],
                                         body=body) from None
        return await released(command, token, request)

    async def _handled(self, request: Request, error: Exception) -> Response:
        """The app's own answer to `error`, as Starlette's exception middleware finds it
        (the handler of its nearest class; a plain function in a worker thread); an error
        it has no handler for goes on up to the RequestIds middleware, the last resort."""
        handlers = self.api.exception_handlers
        handler = next((handlers[kind] for kind in type(error).__mro__ if kind in handlers),
                       None)
        if handler is None:
            raise error
        if inspect.iscoroutinefunction(handler):
            return await handler(request, error)
        return await run_in_threadpool(handler, request, error)


_NO_BODY = object()
SIGNATURE_KEY = SIGNATURE_HEADER.lower().encode("latin-1")
JSON_TYPE = (b"content-type", b"application/json")


def _headers(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, str | None]:
    """The request's Content-Type and Authorization, the first of each, as Starlette's
    `request.headers.get` reads them, in one pass over the raw list."""
    content_type = authorization = None
    for name, value in headers:
        if name == b"content-type" and content_type is None:
            content_type = value.decode("latin-1")
        elif name == b"authorization" and authorization is None:
            authorization = value.decode("latin-1")
    return content_type, authorization


async def _body(request: Request, receive: Receive, content_type: str | None) -> Any:
    """The body as FastAPI reads it for a JSON body parameter: its JSON value when the
    Content-Type is JSON; its bytes, for validation to refuse, when it is not; nothing when
    it is empty. JSON that does not decode is a validation error, a body that cannot be read
    (over the cap, not UTF-8, the client gone) an HTTP 400."""
    try:
        received = await _received(request, receive)
        if not received:
            return _NO_BODY
        return loads_strictly(received) if content_type and _is_json(content_type) \
            else received
    except json.JSONDecodeError as undecoded:
        raise RequestValidationError([{
            "type": "json_invalid", "loc": ("body", undecoded.pos), "msg": "JSON decode error",
            "input": {}, "ctx": {"error": undecoded.msg}}], body=undecoded.doc) from undecoded
    except Exception as unread:
        raise HTTPException(400, "There was an error parsing the body") from unread


async def _received(request: Request, receive: Receive) -> bytes:
    """The whole body, as `request.body()` reads it (and kept where it keeps it), without
    its stream's generator: one message is the usual case."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    request._body = body  # what request.body() answers from now on
    return body


def _is_json(content_type: str) -> bool:
    if content_type == "application/json":
        return True
    parsed = email.message.Message()
    parsed["content-type"] = content_type
    subtype = parsed.get_content_subtype()
    return parsed.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json"))
