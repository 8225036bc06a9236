"""An organisation's identity provider over HTTP: its administrator (or the exchange's)
registers how its staff sign in to the portals."""

from __future__ import annotations

from fastapi import APIRouter

from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.routes.keys import OrgClass, OrgCode
from onceonly.entrypoints.api.schemas.single_sign_on import (
    IdentityProviderIn,
    IdentityProviderOut,
)

router = APIRouter(tags=["single sign-on"], route_class=JsonRoute)


@router.put("/v1/members/{org_class}/{org_code}/identity-provider",
            response_model=IdentityProviderOut)
def set_identity_provider(org_class: OrgClass, org_code: OrgCode, body: IdentityProviderIn,
                          caller: Caller, exchange: ExchangeDep) -> IdentityProviderOut:
    """Register (or replace) the organisation's OpenID provider and its claim mapping."""
    return IdentityProviderOut.of(exchange.single_sign_on.register(
        caller, body.provider(f"{org_class}/{org_code}")))
