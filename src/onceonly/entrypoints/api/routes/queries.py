"""The governed query over HTTP: one person's agreed fields, released signed by the provider."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from onceonly.bootstrap import Exchange
from onceonly.entrypoints.api.caller import BearerToken, note_caller
from onceonly.entrypoints.api.dispatch import Run
from onceonly.entrypoints.api.middleware import Metrics
from onceonly.entrypoints.api.schemas.problems import Problem
from onceonly.entrypoints.api.schemas.queries import QueryIn, ReleaseOut
from onceonly.services.queries import QueryCommand, QueryRefused, Release

SIGNATURE_HEADER = "Onceonly-Signature"

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
    app.post("/v1/queries", response_model=ReleaseOut, tags=["queries"],
             responses=QUERY_RESPONSES)(query)


async def query(body: QueryIn, token: BearerToken, request: Request) -> Response:
    # The exchange, where the use case runs (dispatch.py) and the decisions' figures, as
    # create_app set them: read here, not through dependencies, each of which costs the hot
    # path a resolution.
    exchange: Exchange = request.app.state.exchange
    run_blocking: Run[Release] = request.app.state.run_blocking
    metrics: Metrics = request.app.state.metrics
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
        metrics.decisions.labels("deny", refusal.code).inc()
        raise
    metrics.decisions.labels("permit", "").inc()
    return Response(release.payload, media_type="application/json",
                    headers={SIGNATURE_HEADER: release.signature})
