"""An organisation's people over HTTP, kept by its own administrators (`org_admin`, or the
exchange's): officers, guardians, managers and service accounts, their tokens and officers'
training. Never for another organisation (403 `not_your_organisation`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas.common import OrgId
from onceonly.entrypoints.api.schemas.people import (
    IssuedOut,
    PersonIn,
    PersonOut,
    RevokedOut,
    TokenIn,
    TrainingIn,
    TrainingOut,
)
from onceonly.services.people import LAPSING_DAYS, NewPerson

router = APIRouter(tags=["people"], route_class=JsonRoute)

PrincipalId = Annotated[str, Path(pattern=r"^[a-z0-9_.:-]{1,64}$")]
OrgQuery = Annotated[OrgId | None, Query(description="default: the caller's organisation")]


@router.post("/v1/people", status_code=201, response_model=IssuedOut)
def add_person(body: PersonIn, caller: Caller, exchange: ExchangeDep) -> IssuedOut:
    """A new officer, guardian, manager or service account of the caller's organisation,
    with a first token (shown once)."""
    return IssuedOut.of(exchange.people.add(caller, NewPerson(
        body.org, body.name, body.role, body.days, body.system)))


@router.get("/v1/people", response_model=list[PersonOut])
def list_people(caller: Caller, exchange: ExchangeDep, org: OrgQuery = None) -> list[PersonOut]:
    return [PersonOut.of(m) for m in exchange.people.list(caller, org)]


@router.get("/v1/people/training-lapsing", response_model=list[PersonOut])
def training_lapsing(caller: Caller, exchange: ExchangeDep, org: OrgQuery = None,
                     days: Annotated[int, Query(ge=0, le=366)] = LAPSING_DAYS
                     ) -> list[PersonOut]:
    """Officers whose training has lapsed, lapses within `days` days, or is not recorded."""
    return [PersonOut.of(m) for m in exchange.people.lapsing(caller, org, days)]


@router.post("/v1/people/{principal_id}/disable", response_model=RevokedOut)
def disable_person(principal_id: PrincipalId, caller: Caller,
                   exchange: ExchangeDep) -> RevokedOut:
    """Their tokens and web sessions stop on the next request, on every server."""
    return RevokedOut(id=principal_id,
                      tokens_revoked=exchange.people.disable(caller, principal_id))


@router.post("/v1/people/{principal_id}/tokens", status_code=201, response_model=IssuedOut)
def issue_person_token(principal_id: PrincipalId, body: TokenIn, caller: Caller,
                       exchange: ExchangeDep) -> IssuedOut:
    return IssuedOut.of(exchange.people.issue_token(caller, principal_id, body.days))


@router.post("/v1/people/{principal_id}/tokens/revoke", response_model=RevokedOut)
def revoke_person_tokens(principal_id: PrincipalId, caller: Caller,
                         exchange: ExchangeDep) -> RevokedOut:
    return RevokedOut(id=principal_id,
                      tokens_revoked=exchange.people.revoke_tokens(caller, principal_id))


@router.put("/v1/people/{principal_id}/training", response_model=TrainingOut)
def record_training(principal_id: PrincipalId, body: TrainingIn, caller: Caller,
                    exchange: ExchangeDep) -> TrainingOut:
    """An officer's data-protection training (kept by their organisation's administrator)."""
    training = exchange.people.record_training(caller, principal_id, body.completed_on,
                                               body.valid_until)
    return TrainingOut(completed_on=training.completed_on, valid_until=training.valid_until)
