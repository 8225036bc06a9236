"""The HTTP API (FastAPI, OpenAPI 3.1 at /openapi.json). Thin: parse, call a use case, answer.
Each feature's routes are in routes/, its bodies in schemas/; who is calling in caller.py;
how refusals and faults are answered in problems.py."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from onceonly.bootstrap import Exchange, bootstrap
from onceonly.config import audit_interval
from onceonly.config import require_signatures as config_require_signatures
from onceonly.config import trusted_proxies as config_trusted_proxies
from onceonly.entrypoints.api.background import lifespan
from onceonly.entrypoints.api.dispatch import blocking_runner
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.middleware import (
    BodyLimit,
    Metrics,
    RequestIds,
    RequestMetrics,
    StrictTransport,
    every_process,
)
from onceonly.entrypoints.api.problems import ERRORS, install_problems
from onceonly.entrypoints.api.request_signatures import RequestSignatures
from onceonly.entrypoints.api.routes import (
    accuracy,
    agreements,
    anomaly,
    audit,
    bulk,
    catalogue,
    consents,
    datasets,
    delivery,
    identity,
    keys,
    kill_switch,
    life_events,
    members,
    operations,
    org_keys,
    people,
    queries,
    register,
    single_sign_on,
    witness,
)
from onceonly.entrypoints.api.schemas.life_events import event_data_schemas
from onceonly.entrypoints.web.pages import mount_web
from onceonly.logging import configure_logging
from onceonly.services.request_signatures import SignaturePolicy

# In the order they are matched and documented, after the query.
FEATURES = (operations, catalogue, agreements, kill_switch, anomaly, keys, audit,
            bulk, identity, consents, accuracy, life_events, delivery, members, people,
            org_keys, datasets, witness, register, single_sign_on)


def create_app(exchange: Exchange, *, integrate_every: float | None = None,
               require_signatures: bool | frozenset[str] | None = None,
               trusted_proxies: list[str] | None = None) -> FastAPI:
    """The API over `exchange`. While it serves, new audit entries are brought under a signed
    tree head every `integrate_every` seconds (default ONCEONLY_AUDIT_INTERVAL; 0: never).
    `require_signatures`: whose requests must be signed (RFC 9421): True for everyone, or
    organisation ids (default ONCEONLY_REQUIRE_SIGNATURES). `trusted_proxies`: whose
    X-Forwarded-For and X-Forwarded-Proto are believed (default ONCEONLY_TRUSTED_PROXIES)."""
    app = FastAPI(
        title="onceonly",
        lifespan=lifespan,
        version="0.1.0",
        summary="Secure data exchange for the public sector: data as a service, not copies.",
        openapi_url="/openapi.json",
        docs_url=None, redoc_url=None,  # the portals serve both from vendored copies
        responses=ERRORS,
    )
    app.router.route_class = JsonRoute  # as each API router: JSON bodies read strictly
    metrics = Metrics(CollectorRegistry())
    figures = every_process(metrics.registry)
    # What the routes, the caller dependencies and the lifespan read.
    app.state.exchange = exchange
    app.state.signing = SignaturePolicy.of(
        config_require_signatures() if require_signatures is None else require_signatures)
    app.state.integrate_every = audit_interval() if integrate_every is None else integrate_every
    app.state.metrics = metrics
    app.state.exposition = operations.exposition(exchange, figures)
    app.state.run_blocking = blocking_runner(exchange.embedded_database, exchange.durability)
    # Innermost: the governed query, answered before FastAPI's routing (routes/queries.py).
    app.add_middleware(queries.QueryFront, api=app)
    app.add_middleware(RequestSignatures, auth=exchange.auth)
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_middleware(BodyLimit)
    app.add_middleware(StrictTransport)  # inside the proxy headers: sees the client's scheme
    # The client's address and scheme, for everything inside, in this one place (servers
    # run with uvicorn's own proxy_headers off).
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=(
        config_trusted_proxies() if trusted_proxies is None else trusted_proxies))
    app.add_middleware(RequestIds)  # outermost: every answer carries the id, even a fault's
    install_problems(app)
    queries.add_to(app)
    for feature in FEATURES:
        app.include_router(feature.router)
    mount_web(app, exchange, figures)  # the portals (entrypoints/web)
    _document_event_data(app)
    return app


def create_witness_app(exchange: Exchange) -> FastAPI:
    """Only the witness's routes (`onceonly witness serve`), over `exchange`'s database."""
    app = FastAPI(title="onceonly witness", version="0.1.0", openapi_url="/openapi.json",
                  responses=ERRORS)
    app.state.exchange = exchange
    app.state.run_blocking = blocking_runner(exchange.embedded_database, exchange.durability)
    app.add_middleware(BodyLimit)
    app.add_middleware(RequestIds)
    install_problems(app)
    app.include_router(witness.router)
    return app


def _document_event_data(app: FastAPI) -> None:
    """Each event type's `data` schema, in the document as a component (the events routes
    refer to them)."""
    generated = app.openapi

    def document() -> dict[str, Any]:
        schema = generated()
        schema["components"]["schemas"].update(event_data_schemas())
        return schema

    app.openapi = document  # type: ignore[method-assign]


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and `onceonly serve`: ONCEONLY_DATABASE_URL decides.
    Each worker process of `serve --workers N` starts here, so its logs are set up here."""
    configure_logging()
    return create_app(bootstrap())
