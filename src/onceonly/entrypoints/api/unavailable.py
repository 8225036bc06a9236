"""What the exchange depends on, failing while it serves: 503 with a code, never a bare 500.

- its database does not answer (down, unreachable, locked past the busy timeout, or not
  migrated);
- a key it cannot decrypt (its master key file replaced or missing a key, a wrapped key or
  envelope altered in the database);
- no signing key for its operator yet (a freshly migrated database), so no tree head.

The caller did nothing wrong and can retry once an operator has put it right; the operator
is told what failed in the log."""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError

from onceonly.crypto.envelope import EnvelopeInvalid, MasterKeyUnavailable
from onceonly.services.audit_log import ExchangeNotInitialised

log = structlog.get_logger("onceonly.unavailable")

RETRY_AFTER_SECONDS = "60"


def _unavailable(code: str, detail: str) -> JSONResponse:
    return JSONResponse({"code": code, "detail": detail}, 503,
                        headers={"Retry-After": RETRY_AFTER_SECONDS})


def install_unavailable(app: FastAPI) -> None:
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    def database_unavailable(request: Request, error: Exception) -> JSONResponse:
        log.error("database unavailable", path=request.url.path,
                  error=str(getattr(error, "orig", error)))
        return _unavailable("database_unavailable",
                            "the exchange's database did not answer; try again later (for "
                            "operators: the server log says why, e.g. a database that is down, "
                            "unreachable or not migrated: `onceonly db upgrade`)")

    @app.exception_handler(MasterKeyUnavailable)
    def master_key_unavailable(request: Request, error: MasterKeyUnavailable) -> JSONResponse:
        log.error("master key unavailable", path=request.url.path, error=str(error))
        return _unavailable("master_key_unavailable",
                            "the exchange cannot unwrap its keys with the master keys it is "
                            "configured with; an operator must restore the master key")

    @app.exception_handler(EnvelopeInvalid)
    def envelope_invalid(request: Request, error: EnvelopeInvalid) -> JSONResponse:
        log.error("stored key or data undecryptable", path=request.url.path, error=str(error))
        return _unavailable("key_undecryptable",
                            "a key or value the exchange keeps encrypted does not decrypt; "
                            "an operator must restore it")

    @app.exception_handler(ExchangeNotInitialised)
    def not_initialised(request: Request, error: ExchangeNotInitialised) -> JSONResponse:
        log.error("exchange not initialised", path=request.url.path, error=str(error))
        return _unavailable("exchange_not_initialised",
                            "the exchange has no operator signing key yet, so it cannot sign "
                            "the audit log's tree heads; an operator must set it up")
