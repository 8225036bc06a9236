"""The HTTP API (FastAPI, OpenAPI 3.1 at /openapi.json). Thin: parse, call a use case, answer."""
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from http import HTTPMethod
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from onceonly.bootstrap import Exchange, bootstrap
from onceonly.config import audit_interval
from onceonly.config import require_signatures as config_require_signatures
from onceonly.config import trusted_proxies as config_trusted_proxies
from onceonly.domain.agreements import TRANSITIONS, FieldGrant, PrivacyAssessment
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.transforms import TRANSFORMS
from onceonly.entrypoints.api.anomaly_routes import anomaly_router
from onceonly.entrypoints.api.audit_metrics import AuditCollector
from onceonly.entrypoints.api.audit_routes import audit_router
from onceonly.entrypoints.api.background import background_work
from onceonly.entrypoints.api.bulk_routes import bulk_router
from onceonly.entrypoints.api.consent_routes import consent_router
from onceonly.entrypoints.api.delivery_metrics import DeliveryCollector
from onceonly.entrypoints.api.dispatch import blocking_runner
from onceonly.entrypoints.api.event_routes import event_data_schemas, event_router
from onceonly.entrypoints.api.identity_routes import identity_router
from onceonly.entrypoints.api.json_bodies import DuplicateKey, JsonRoute
from onceonly.entrypoints.api.key_routes import key_router
from onceonly.entrypoints.api.middleware import (
    BodyLimit,
    Metrics,
    RequestIds,
    RequestMetrics,
    every_process,
)
from onceonly.entrypoints.api.schemas import (
    MAX_AGREEMENT_ID,
    AgreementIn,
    AgreementOut,
    AlertOut,
    CatalogueOut,
    DatasetOut,
    FieldOut,
    InternalProblem,
    KillSwitchIn,
    KillSwitchOut,
    OrganisationOut,
    Problem,
    QueryIn,
    ReasonIn,
    ReleaseOut,
    TransformOut,
)
from onceonly.entrypoints.api.signatures import RequestSignatures
from onceonly.entrypoints.api.unavailable import install_unavailable
from onceonly.entrypoints.web.pages import mount_web
from onceonly.services.agreements import DraftCommand
from onceonly.services.anomaly import RESOLUTIONS
from onceonly.services.auth import authenticate, require_role
from onceonly.services.queries import QueryCommand, QueryRefused
from onceonly.services.request_signatures import SignaturePolicy, check_caller, refuse_signature

SIGNATURE_HEADER = "Onceonly-Signature"
AgreementIdPath = Annotated[int, Path(gt=0, le=MAX_AGREEMENT_ID)]

STATUS = {
    ErrorKind.INVALID: 422,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.LIMITED: 429,
    ErrorKind.GONE: 410,
}

ERRORS: dict[int | str, dict[str, Any]] = {
    **{status: {"model": Problem} for status in (401, 403, 404, 409, 410, 413, 422, 429, 503)},
    500: {"model": InternalProblem, "description": "a fault the exchange did not foresee"},
}

log = structlog.get_logger("onceonly.api")


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"code": code, "detail": detail, **extra}, status, headers=headers)


def allowed_methods(request: Request, named: Mapping[str, str]) -> str:
    """Every method the request's path takes (RFC 9110 §15.5.6), where routing names only
    those of the first route with that path; mounts (static files) name their own."""
    allowed = {m.strip() for m in named.get("Allow", "").split(",") if m.strip()}
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    for method in HTTPMethod:
        probe = {**request.scope, "method": method.value}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            allowed.add(method.value)
    return ", ".join(sorted(allowed))


def create_app(exchange: Exchange, *, integrate_every: float | None = None,
               require_signatures: bool | frozenset[str] | None = None,
               trusted_proxies: list[str] | None = None) -> FastAPI:
    """The API over `exchange`. While it serves, new audit entries are brought under a signed
    tree head every `integrate_every` seconds (default ONCEONLY_AUDIT_INTERVAL; 0: never).
    `require_signatures`: whose requests must be signed (RFC 9421): True for everyone, or
    organisation ids (default ONCEONLY_REQUIRE_SIGNATURES). `trusted_proxies`: whose
    X-Forwarded-For and X-Forwarded-Proto are believed (default ONCEONLY_TRUSTED_PROXIES)."""
    interval = audit_interval() if integrate_every is None else integrate_every
    signing = SignaturePolicy.of(config_require_signatures() if require_signatures is None
                                 else require_signatures)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        workers = background_work(exchange, interval) if interval > 0 else []
        for worker in workers:
            worker.start()
        try:
            yield
        finally:
            for worker in workers:
                await worker.stop()

    app = FastAPI(
        title="onceonly",
        lifespan=lifespan,
        version="0.1.0",
        summary="Secure data exchange for the public sector: data as a service, not copies.",
        openapi_url="/openapi.json",
        responses=ERRORS,
    )
    app.router.route_class = JsonRoute  # as each API router: JSON bodies read strictly
    run_blocking = blocking_runner(exchange.embedded_database)
    metrics = Metrics(CollectorRegistry())
    figures = every_process(metrics.registry)
    # What a scrape shows: every worker's request figures, the exchange's own (read from the
    # database, so each once), and this process's.
    exposition = CollectorRegistry()
    for collector in (figures, DeliveryCollector(exchange.dashboard),
                      AuditCollector(exchange.audit), ProcessCollector(registry=None),
                      PlatformCollector(registry=None)):
        exposition.register(collector)
    app.add_middleware(RequestSignatures, verifier=exchange.signatures, uows=exchange.uows)
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_middleware(BodyLimit)
    # The client's address and scheme, for everything inside, in this one place (servers
    # run with uvicorn's own proxy_headers off).
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=(
        config_trusted_proxies() if trusted_proxies is None else trusted_proxies))
    app.add_middleware(RequestIds)  # outermost: every answer carries the id, even a fault's
    install_unavailable(app)
    app.state.exchange = exchange
    bearer = HTTPBearer(auto_error=False, description="an API token from `onceonly token issue`")

    def signature_checked(request: Request, principal: Principal | None) -> Principal | None:
        """Signed requests (RFC 9421, verified by the RequestSignatures middleware): the
        signing organisation must be the caller's; where signatures are required, one must
        be there. Without a signature or a policy this is one attribute read."""
        signed = getattr(request.state, "signed_by", None)
        if signed is None and not signing.active:
            return principal
        if signed is None and signing.everyone:
            refuse_signature(exchange.uows, exchange.clock, "signature_required", None,
                             {"path": request.url.path})
        if principal is None:  # a route that authenticates late: look now
            token = getattr(request.state, "unchecked_token", (None,))[0]
            principal = authenticate(exchange.uows, exchange.clock, token)
        check_caller(exchange.uows, exchange.clock, signing, signed, principal.org_id,
                     principal.id)
        return principal

    def current_principal(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        token = credentials.credentials if credentials else None
        if signing.everyone and getattr(request.state, "signed_by", None) is None:
            signature_checked(request, None)  # refused before the token is looked up
        principal = authenticate(exchange.uows, exchange.clock, token)
        signature_checked(request, principal)
        return principal

    Caller = Annotated[Principal, Depends(current_principal)]

    async def bearer_token(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str | None:
        """The bearer token, not yet checked: the use case authenticates it in its own read
        transaction. Noted on the request so that a body that fails validation is refused
        for its token first, as on the routes that take a `Caller`."""
        token = credentials.credentials if credentials else None
        request.state.unchecked_token = (token,)
        signature_checked(request, None)
        return token

    BearerToken = Annotated[str | None, Depends(bearer_token)]

    @app.exception_handler(DomainError)
    def domain_error(request: Request, error: DomainError) -> JSONResponse:
        log.info("refused", path=request.url.path, code=error.code)
        return problem(STATUS[error.kind], error.code, error.detail)

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        unchecked = getattr(request.state, "unchecked_token", None)
        if unchecked is not None:  # a route that authenticates late: the token goes first
            try:
                authenticate(exchange.uows, exchange.clock, unchecked[0])
            except DomainError as refused:
                return domain_error(request, refused)
        if isinstance(error.__cause__, DuplicateKey):
            return problem(422, "duplicate_key", error.__cause__.msg)
        errors = error.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem(422, "malformed_json", "the body is not valid JSON")
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:10]
        )
        fields = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
        return problem(422, "invalid_request", detail, errors=fields)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:  # FastAPI's answer to a body it cannot decode
            return problem(422, "malformed_json", "the body is not valid UTF-8 JSON")
        codes = {404: "not_found", 405: "method_not_allowed"}
        answer = problem(error.status_code, codes.get(error.status_code, "http_error"),
                         str(error.detail))
        answer.headers.update(error.headers or {})
        if error.status_code == 405:
            answer.headers["Allow"] = allowed_methods(request, error.headers or {})
        return answer

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Ready to serve: the database answers and the operator can sign tree heads; else
        503 with why (`database_unavailable`, `exchange_not_initialised`, ...)."""
        with exchange.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        exchange.audit.check_signer()
        return {"status": "ok"}

    @app.get("/metrics", tags=["operations"], response_class=Response)
    def prometheus(caller: Caller) -> Response:
        require_role(exchange.uows, exchange.clock, caller, {Role.MANAGER, Role.ADMIN},
                     "metrics.read")
        return Response(generate_latest(exposition), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/catalogue", response_model=CatalogueOut, tags=["catalogue"])
    def catalogue() -> CatalogueOut:
        with exchange.uows() as uow:
            orgs = uow.catalogue.organisations()
            datasets = uow.catalogue.datasets()
        return CatalogueOut(
            organisations=[OrganisationOut(id=o.id, name=o.name, systems=list(o.systems))
                           for o in orgs],
            datasets=[
                DatasetOut(
                    id=d.id, provider=d.provider_id, title=d.title,
                    subject_scheme=d.subject_scheme,
                    fields=[FieldOut(name=f.name, type=f.type.value,
                                     sensitivity=f.sensitivity.value, source=f.source.value,
                                     description=f.description) for f in d.fields],
                )
                for d in datasets
            ],
            transforms=[TransformOut(name=t.name, derived=t.derived, description=t.description)
                        for t in TRANSFORMS.values()],
        )

    @app.post(
        "/v1/queries",
        response_model=ReleaseOut,
        tags=["queries"],
        responses={200: {"headers": {SIGNATURE_HEADER: {
            "description": "detached JWS (RFC 7515 appendix F, Ed25519) over the RFC 8785 "
                           "canonical JSON of the body by the agreement's provider; its "
                           "keys at /.well-known/jwks/{provider}.json",
            "schema": {"type": "string"}}}}},
    )
    async def query(body: QueryIn, token: BearerToken) -> Response:
        command = QueryCommand(
            agreement_id=body.agreement_id,
            scheme=body.subject.scheme,
            value=body.subject.value,
            fields=tuple(body.fields),
            purpose=body.purpose,
        )

        try:
            release = await run_blocking(
                lambda: exchange.queries.query_with_token(token, command))
        except QueryRefused as refusal:
            metrics.decisions.labels("deny", refusal.code).inc()
            raise
        metrics.decisions.labels("permit", "").inc()
        return Response(release.payload, media_type="application/json",
                        headers={SIGNATURE_HEADER: release.signature})

    @app.post("/v1/agreements", status_code=201, response_model=AgreementOut,
              tags=["agreements"])
    def create_agreement(body: AgreementIn, caller: Caller) -> AgreementOut:
        assessment = body.privacy_assessment
        agreement = exchange.agreements.draft(caller, DraftCommand(
            dataset_id=body.dataset_id,
            grants=[FieldGrant(g.name, g.source, g.transform) for g in body.fields],
            purpose_code=body.purpose.code,
            purpose_text=body.purpose.text,
            legal_basis=body.legal_basis,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            max_queries_per_day=body.max_queries_per_day,
            retention_days=body.retention_days,
            hidden_days=body.hidden_days,
            max_persons_per_day=body.max_persons_per_day,
            max_uses=body.max_uses,
            bulk_max_records=body.bulk_max_records,
            assessment=None if assessment is None else PrivacyAssessment(
                assessment.risk, assessment.summary, assessment.assessed_by,
                assessment.assessed_on),
        ))
        return AgreementOut.of(agreement, exchange.clock.now())

    @app.get("/v1/agreements", response_model=list[AgreementOut], tags=["agreements"])
    def list_agreements(caller: Caller) -> list[AgreementOut]:
        now = exchange.clock.now()
        return [AgreementOut.of(a, now) for a in exchange.agreements.list(caller)]

    @app.get("/v1/agreements/{agreement_id}", response_model=AgreementOut, tags=["agreements"])
    def get_agreement(agreement_id: AgreementIdPath, caller: Caller) -> AgreementOut:
        return AgreementOut.of(exchange.agreements.get(caller, agreement_id),
                               exchange.clock.now())

    @app.post("/v1/kill-switches", status_code=201, response_model=KillSwitchOut,
              tags=["constraints"])
    def pull_kill_switch(body: KillSwitchIn, caller: Caller) -> KillSwitchOut:
        """Suspend every active agreement of one consumer with the caller's organisation, in
        one action (a guardian of the provider, with a reason)."""
        return KillSwitchOut.of(exchange.kill_switches.pull(caller, body.consumer, body.reason))

    @app.get("/v1/kill-switches", response_model=list[KillSwitchOut], tags=["constraints"])
    def list_kill_switches(caller: Caller) -> list[KillSwitchOut]:
        return [KillSwitchOut.of(s) for s in exchange.kill_switches.list(caller)]

    @app.post("/v1/kill-switches/{switch_id}/restore", response_model=KillSwitchOut,
              tags=["constraints"])
    def restore_kill_switch(switch_id: AgreementIdPath, body: ReasonIn,
                            caller: Caller) -> KillSwitchOut:
        """Resume the agreements the switch suspended (those revoked since stay revoked)."""
        return KillSwitchOut.of(exchange.kill_switches.restore(caller, switch_id, body.reason))

    @app.get("/v1/alerts", response_model=list[AlertOut], tags=["constraints"])
    def list_alerts(caller: Caller) -> list[AlertOut]:
        """Anomaly alerts about the caller's organisation's data, newest first (guardians)."""
        return [AlertOut.of(a) for a in exchange.anomalies.alerts(caller)]

    for resolution in RESOLUTIONS:
        _add_alert_route(app, exchange, resolution, Caller)
    for action in TRANSITIONS:
        _add_transition_route(app, exchange, action, Caller)
    app.include_router(key_router(exchange))
    app.include_router(audit_router(exchange, Caller))
    app.include_router(bulk_router(exchange, Caller))
    app.include_router(anomaly_router(exchange, Caller))
    app.include_router(identity_router(exchange, Caller))
    mount_web(app, exchange, figures)  # the portals (entrypoints/web)
    app.include_router(consent_router(exchange, Caller))
    app.include_router(event_router(exchange, Caller))
    generated = app.openapi

    def document() -> dict[str, Any]:
        schema = generated()
        schema["components"]["schemas"].update(event_data_schemas())  # the events route's
        return schema

    app.openapi = document  # type: ignore[method-assign]
    return app


def _add_transition_route(app: FastAPI, exchange: Exchange, action: str, caller_type: Any) -> None:
    def transition(agreement_id: AgreementIdPath, body: ReasonIn,
                   caller: caller_type) -> AgreementOut:
        moved = exchange.agreements.transition(caller, agreement_id, action, body.reason)
        return AgreementOut.of(moved, exchange.clock.now())

    app.post(
        f"/v1/agreements/{{agreement_id}}/{action}",
        response_model=AgreementOut,
        tags=["agreements"],
        name=f"{action}_agreement",
        summary=f"{action.capitalize()} an agreement (with a reason)",
    )(transition)


def _add_alert_route(app: FastAPI, exchange: Exchange, action: str, caller_type: Any) -> None:
    def resolve(alert_id: AgreementIdPath, body: ReasonIn, caller: caller_type) -> AlertOut:
        return AlertOut.of(exchange.anomalies.resolve(caller, alert_id, action, body.reason))

    app.post(f"/v1/alerts/{{alert_id}}/{action}", response_model=AlertOut, tags=["constraints"],
             name=f"{action}_after_alert",
             summary=f"{action.capitalize()} the agreement an anomaly alert suspended")(resolve)


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and `onceonly serve`: ONCEONLY_DATABASE_URL decides."""
    return create_app(bootstrap())
