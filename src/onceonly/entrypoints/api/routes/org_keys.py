"""An organisation's own public keys over HTTP: its guardians register, rotate and retire
them; the private keys stay with the organisation."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path

from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.routes.keys import OrgClass, OrgCode
from onceonly.entrypoints.api.schemas.org_keys import (
    KeyIn,
    KeyOut,
    OrganisationKeysOut,
    RetireIn,
)

router = APIRouter(tags=["keys"], route_class=JsonRoute)
KidPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$",
                             description="the key's RFC 7638 thumbprint")]
KEYS = "/v1/members/{org_class}/{org_code}/keys"


@router.post(KEYS, status_code=201, response_model=KeyOut)
def register_key(org_class: OrgClass, org_code: OrgCode, body: KeyIn, caller: Caller,
                 exchange: ExchangeDep) -> KeyOut:
    """Register one of the organisation's public keys (a guardian of it, or an exchange
    admin); with `replaces`, a rotation that retires the old key with an overlap."""
    return KeyOut.of(exchange.org_keys.register(
        caller, f"{org_class}/{org_code}", body.jwk, body.purposes, replaces=body.replaces,
        overlap=timedelta(hours=body.overlap_hours)))


@router.get(KEYS, response_model=OrganisationKeysOut)
def list_keys(org_class: OrgClass, org_code: OrgCode, caller: Caller,
              exchange: ExchangeDep) -> OrganisationKeysOut:
    """The organisation's keys: registered (retired ones too) and hosted."""
    return OrganisationKeysOut.of(exchange.org_keys.list(f"{org_class}/{org_code}"))


@router.post(KEYS + "/{kid}/retire", response_model=KeyOut)
def retire_key(org_class: OrgClass, org_code: OrgCode, kid: KidPath, body: RetireIn,
               caller: Caller, exchange: ExchangeDep) -> KeyOut:
    """Retire a registered key: it still verifies for the overlap, then no longer."""
    return KeyOut.of(exchange.org_keys.retire(caller, f"{org_class}/{org_code}", kid,
                                              timedelta(hours=body.overlap_hours)))
