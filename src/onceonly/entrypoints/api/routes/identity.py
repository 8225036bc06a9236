"""Identity across organisations over HTTP: the guardian's queue of links the matcher
proposed for their organisation's identifiers, and their decisions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas.common import IdPath, ReasonIn
from onceonly.entrypoints.api.schemas.identity import LinkCandidateOut
from onceonly.services.identity import MAX_LISTED

router = APIRouter(tags=["identity"], route_class=JsonRoute)


@router.get("/v1/identity/candidates", response_model=list[LinkCandidateOut])
def candidates(caller: Caller, exchange: ExchangeDep,
               status: Annotated[Literal["pending", "applied", "confirmed", "rejected",
                                         "all"], Query()] = "pending",
               limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 100,
               ) -> list[LinkCandidateOut]:
    """Links proposed for the caller's organisation's identifiers, highest weight first
    (a guardian of that organisation)."""
    found = exchange.identity.candidates(caller, None if status == "all" else status, limit)
    return [LinkCandidateOut.of(c) for c in found]


@router.post("/v1/identity/candidates/{candidate_id}/confirm",
             response_model=LinkCandidateOut)
def confirm(candidate_id: IdPath, body: ReasonIn,
            caller: Caller, exchange: ExchangeDep) -> LinkCandidateOut:
    """Apply the link to the person index (a guardian of the identifier's organisation)."""
    return LinkCandidateOut.of(exchange.identity.confirm(caller, candidate_id, body.reason))


@router.post("/v1/identity/candidates/{candidate_id}/reject",
             response_model=LinkCandidateOut)
def reject(candidate_id: IdPath, body: ReasonIn,
           caller: Caller, exchange: ExchangeDep) -> LinkCandidateOut:
    return LinkCandidateOut.of(exchange.identity.reject(caller, candidate_id, body.reason))
