"""Public keys over HTTP: the organisations' JWKS (all of them, or one organisation's) and
the keys webhooks are signed with, in Standard Webhooks form.

Each answer carries an ETag and Cache-Control, and a request whose If-None-Match names the
current ETag gets 304 with no body: verifiers may poll cheaply, and notice a new key at
once."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from werkzeug.http import parse_etags, quote_etag

from onceonly.crypto.canonical import canonical_json
from onceonly.domain.errors import not_found
from onceonly.entrypoints.api.caller import ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas.keys import JwksOut, WebhookKeysOut

CACHE_CONTROL = "public, max-age=300"
_CACHING_HEADERS = {
    "ETag": {"description": "a strong validator of this document; send it back in "
                            "If-None-Match", "schema": {"type": "string"}},
    "Cache-Control": {"description": CACHE_CONTROL, "schema": {"type": "string"}},
}
_CACHED = {200: {"headers": _CACHING_HEADERS},
           304: {"description": "unchanged since the ETag named in If-None-Match",
                 "headers": _CACHING_HEADERS}}

OrgClass = Annotated[str, Path(pattern=r"^[A-Z]{2,8}$", examples=["GOV"],
                               description="the organisation id's first part, e.g. GOV")]
OrgCode = Annotated[str, Path(pattern=r"^[A-Z0-9][A-Z0-9_-]{0,31}$", examples=["HMRC"],
                              description="the organisation id's second part, e.g. HMRC")]

router = APIRouter(tags=["keys"], route_class=JsonRoute)


def cached_json(request: Request, document: Any) -> Response:
    """`document` as JSON with an ETag (a digest of its bytes) and Cache-Control; 304 when
    If-None-Match already names it (weak comparison, RFC 9110 §13.1.2)."""
    body = canonical_json(document)
    digest = hashlib.sha256(body).hexdigest()
    headers = {"ETag": quote_etag(digest), "Cache-Control": CACHE_CONTROL}
    if parse_etags(request.headers.get("if-none-match")).contains_weak(digest):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/.well-known/jwks.json", response_model=JwksOut, responses=_CACHED)
def jwks(request: Request, exchange: ExchangeDep) -> Response:
    """Every organisation's public signing keys. Each names its organisation (`org`):
    check a signature against the keys of the organisation that should have made it
    (a release: its agreement's provider; a tree head or receipt: the operator)."""
    return cached_json(request, exchange.key_store.jwks(now=exchange.clock.now()))


@router.get("/.well-known/jwks/{org_class}/{org_code}.json", response_model=JwksOut,
            responses=_CACHED)
def organisation_jwks(request: Request, org_class: OrgClass, org_code: OrgCode,
                      exchange: ExchangeDep) -> Response:
    """One organisation's public signing keys (`/.well-known/jwks/GOV/HMRC.json`): the
    only keys to check that organisation's signatures with."""
    org_id = f"{org_class}/{org_code}"
    document = exchange.key_store.jwks(org_id, now=exchange.clock.now())
    if not document["keys"]:
        raise not_found("organisation_unknown", f"no organisation {org_id} with keys")
    return cached_json(request, document)


@router.get("/.well-known/webhook-keys.json", response_model=WebhookKeysOut,
            responses=_CACHED)
def webhook_keys(request: Request, exchange: ExchangeDep) -> Response:
    """The keys webhooks are signed with now (Standard Webhooks `v1a`), as `whpk_...`
    strings any Standard Webhooks library takes: the operator's active keys."""
    operator = exchange.audit.operator_org
    return cached_json(request, {"org": operator,
                                 "keys": exchange.key_store.webhook_keys(operator)})
