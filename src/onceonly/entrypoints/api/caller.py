"""Who is calling, as FastAPI dependencies: `Caller` for every route that acts for someone,
`BearerToken` for the one whose use case authenticates in its own read transaction, and
`ExchangeDep` for the exchange the app serves. Each reads what create_app put on app.state."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from onceonly.bootstrap import Exchange
from onceonly.domain.organisations import Principal
from onceonly.services.request_signatures import SignaturePolicy

bearer = HTTPBearer(auto_error=False, description="an API token from `onceonly token issue`")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def exchange_of(request: Request) -> Exchange:
    return cast(Exchange, request.app.state.exchange)


def signing_of(request: Request) -> SignaturePolicy:
    return cast(SignaturePolicy, request.app.state.signing)


async def current_exchange(request: Request) -> Exchange:
    return exchange_of(request)  # async: a plain read, not worth a worker thread


ExchangeDep = Annotated[Exchange, Depends(current_exchange)]


def signature_checked(request: Request, principal: Principal | None) -> Principal | None:
    """Signed requests (RFC 9421, verified by the RequestSignatures middleware): the signing
    organisation must be the caller's; where signatures are required, one must be there.
    Without a signature or a policy this is one attribute read."""
    signed = getattr(request.state, "signed_by", None)
    signing = signing_of(request)
    if signed is None and not signing.active:
        return principal
    auth = exchange_of(request).auth
    if signed is None and signing.everyone:
        auth.require_signature({"path": request.url.path})
    if principal is None:  # a route that authenticates late: look now
        principal = auth.authenticate(getattr(request.state, "unchecked_token", (None,))[0])
    auth.check_signer(signing, signed, principal)
    return principal


def note_caller(state: Any, principal: Principal) -> None:
    """Name who is calling (organisation, role) in the request's access log line, which the
    RequestIds middleware writes from request.state."""
    state.caller = (principal.org_id, principal.role.value)


def current_principal(request: Request, credentials: Credentials) -> Principal:
    token = credentials.credentials if credentials else None
    if signing_of(request).everyone and getattr(request.state, "signed_by", None) is None:
        signature_checked(request, None)  # refused before the token is looked up
    principal = exchange_of(request).auth.authenticate(token)
    note_caller(request.state, principal)
    signature_checked(request, principal)
    return principal


Caller = Annotated[Principal, Depends(current_principal)]


async def bearer_token(request: Request, credentials: Credentials) -> str | None:
    """The bearer token, not yet checked: the use case authenticates it in its own read
    transaction."""
    return noted_token(request, credentials.credentials if credentials else None)


def noted_token(request: Request, token: str | None) -> str | None:
    """`token` noted on the request, so that a body that fails validation is refused for
    its token first, as on the routes that take a `Caller`; and the request's signature
    checked against the policy."""
    request.state.unchecked_token = (token,)
    signature_checked(request, None)
    return token


def bearer_of(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` value, read as `bearer` (FastAPI's
    HTTPBearer without auto_error) reads it, without building its model: None for no value,
    another scheme, or no token."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme and token and scheme.lower() == "bearer" else None


BearerToken = Annotated[str | None, Depends(bearer_token)]


def check_unchecked_token(request: Request) -> None:
    """On a route that authenticates late, refuse (raise) the token its request carried, if
    it does not hold: called before the request's body is refused as invalid."""
    unchecked = getattr(request.state, "unchecked_token", None)
    if unchecked is not None:
        exchange_of(request).auth.authenticate(unchecked[0])
