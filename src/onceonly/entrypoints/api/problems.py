"""How the API refuses and fails, in one place: the status of each kind of domain error
(entrypoints/http_status.py, shared with the portals), the problem body (`{code, detail}`)
every refusal and fault is answered with, and the exception handlers.

What the exchange depends on, failing while it serves, is 503 with a code and Retry-After,
never a bare 500: its database does not answer (down, unreachable, locked past the busy
timeout, or not migrated); a key it cannot decrypt (its master key file replaced or missing
a key, a wrapped key or envelope altered in the database); no signing key for its operator
yet (a freshly migrated database), so no tree head. The caller did nothing wrong and can
retry once an operator has put it right; the operator is told what failed in the log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPMethod
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount
from starlette.types import Scope, Send

from onceonly.crypto.canonical import canonical_json
from onceonly.crypto.envelope import EnvelopeInvalid, MasterKeyUnavailable
from onceonly.domain.errors import DomainError
from onceonly.entrypoints.api.caller import check_unchecked_token
from onceonly.entrypoints.api.json_bodies import DuplicateKey
from onceonly.entrypoints.api.schemas.problems import InternalProblem, Problem
from onceonly.entrypoints.http_status import http_status
from onceonly.services.audit_integration import ExchangeNotInitialised
from onceonly.services.ports.health import SchemaNotCurrent

# What the document says any operation may answer.
ERRORS: dict[int | str, dict[str, Any]] = {
    **{status: {"model": Problem} for status in (401, 403, 404, 409, 410, 413, 422, 429, 503)},
    500: {"model": InternalProblem, "description": "a fault the exchange did not foresee"},
}

RETRY_AFTER_SECONDS = "60"

log = structlog.get_logger("onceonly.api")
unavailable_log = structlog.get_logger("onceonly.unavailable")


def route_of(scope: Scope) -> str:
    """The matched route's template (`/v1/people/{person_id}`), for the log: never the path,
    which may name a person."""
    return getattr(scope.get("route"), "path", None) or "unmatched"


def problem_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The body, naming the request's id (bound by the RequestIds middleware) when there is
    one: a caller quoting it lets an operator find every line logged for the request."""
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    return {"code": code, "detail": detail,
            **({"request_id": request_id} if request_id else {}), **extra}


def problem(status: int, code: str, detail: str, *, headers: Mapping[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return JSONResponse(problem_body(code, detail, **extra), status, headers=headers)


async def send_problem(send: Send, status: int, code: str, detail: str, *,
                       headers: tuple[tuple[bytes, bytes], ...] = (), **extra: Any) -> None:
    """The problem as raw ASGI messages, for middleware that answers before any route."""
    body = canonical_json(problem_body(code, detail, **extra))
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


@dataclass(frozen=True, slots=True)
class Unavailable:
    """One cause of a 503: its code, what the operator's log says, what the caller is told."""

    code: str
    logged: str
    detail: str


_DATABASE = Unavailable(
    "database_unavailable", "database unavailable",
    "the exchange's database did not answer; try again later (for operators: the server log "
    "says why, e.g. a database that is down, unreachable or not migrated: `onceonly db "
    "upgrade`)")
UNAVAILABLE: dict[type[Exception], Unavailable] = {
    OperationalError: _DATABASE,
    InterfaceError: _DATABASE,
    PoolTimeout: Unavailable(
        "database_busy", "database connections all in use",
        "every connection this server may open to its database was in use for 30 seconds; try "
        "again later (for operators: ONCEONLY_DATABASE_CONNECTIONS sets how many, within the "
        "database's max_connections)"),
    MasterKeyUnavailable: Unavailable(
        "master_key_unavailable", "master key unavailable",
        "the exchange cannot unwrap its keys with the master keys it is configured with; an "
        "operator must restore the master key"),
    EnvelopeInvalid: Unavailable(
        "key_undecryptable", "stored key or data undecryptable",
        "a key or value the exchange keeps encrypted does not decrypt; an operator must "
        "restore it"),
    SchemaNotCurrent: Unavailable(
        "database_not_migrated", "database schema not current",
        "the exchange's database is not at the schema this server needs; an operator must "
        "migrate it (`onceonly db upgrade`) or run the matching version"),
    ExchangeNotInitialised: Unavailable(
        "exchange_not_initialised", "exchange not initialised",
        "the exchange has no operator signing key yet, so it cannot sign the audit log's tree "
        "heads; an operator must set it up"),
}


def unavailable(request: Request, error: Exception) -> JSONResponse:
    cause = next(c for kind, c in UNAVAILABLE.items() if isinstance(error, kind))
    unavailable_log.error(cause.logged, route=route_of(request.scope),
                          error=str(getattr(error, "orig", error)))  # the driver's words
    return problem(503, cause.code, cause.detail, headers={"Retry-After": RETRY_AFTER_SECONDS})


def domain_error(request: Request, error: DomainError) -> JSONResponse:
    log.info("refused", route=route_of(request.scope), code=error.code)
    retry_after = getattr(error, "retry_after", None)  # a provider's system failing for now
    return problem(http_status(error), error.code, error.detail,
                   headers={"Retry-After": str(retry_after)} if retry_after else None)


def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    try:
        check_unchecked_token(request)  # a route that authenticates late: the token goes first
    except DomainError as refused:
        return domain_error(request, refused)
    if isinstance(error.__cause__, DuplicateKey):
        return problem(422, "duplicate_key", error.__cause__.msg)
    errors = error.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem(422, "malformed_json", "the body is not valid JSON")
    detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:10])
    fields = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
    return problem(422, "invalid_request", detail, errors=fields)


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


def install_problems(app: FastAPI) -> None:
    """Every exception handler of the API, on `app`."""
    app.add_exception_handler(DomainError, domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    for cause in UNAVAILABLE:
        app.add_exception_handler(cause, unavailable)
