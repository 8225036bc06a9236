"""Identity across organisations over HTTP: the guardian's queue of links the matcher
proposed for their organisation's identifiers, and their decisions."""
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from onceonly.bootstrap import Exchange
from onceonly.domain.identity import LinkCandidate
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas import MAX_AGREEMENT_ID, ReasonIn
from onceonly.services.identity import MAX_LISTED

CandidateId = Annotated[int, Path(gt=0, le=MAX_AGREEMENT_ID)]


class LinkCandidateOut(BaseModel):
    """A proposed link: the organisation's identifier, the person it would join, the match
    weight (log2 Bayes factor) and how each field compared. No names, dates or addresses."""

    id: int
    organisation: str
    scheme: str
    value: str
    person_key: str
    match_weight: float
    identifier_agreement: bool
    comparisons: dict[str, str]
    status: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None

    @classmethod
    def of(cls, c: LinkCandidate) -> "LinkCandidateOut":
        return cls(id=c.id or 0, organisation=c.org_id, scheme=c.scheme, value=c.value,
                   person_key=c.person_key, match_weight=c.match_weight,
                   identifier_agreement=c.identifier_agreement,
                   comparisons=dict(c.comparisons), status=c.status.value,
                   created_at=c.created_at, decided_by=c.decided_by,
                   decided_at=c.decided_at, reason=c.reason)


def identity_router(exchange: Exchange, caller_type: Any) -> APIRouter:
    router = APIRouter(tags=["identity"], route_class=JsonRoute)
    service = exchange.identity

    @router.get("/v1/identity/candidates", response_model=list[LinkCandidateOut])
    def candidates(caller: caller_type,
                   status: Annotated[Literal["pending", "applied", "confirmed", "rejected",
                                             "all"], Query()] = "pending",
                   limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 100,
                   ) -> list[LinkCandidateOut]:
        """Links proposed for the caller's organisation's identifiers, highest weight first
        (a guardian of that organisation)."""
        found = service.candidates(caller, None if status == "all" else status, limit)
        return [LinkCandidateOut.of(c) for c in found]

    @router.post("/v1/identity/candidates/{candidate_id}/confirm",
                 response_model=LinkCandidateOut)
    def confirm(candidate_id: CandidateId, body: ReasonIn,
                caller: caller_type) -> LinkCandidateOut:
        """Apply the link to the person index (a guardian of the identifier's organisation)."""
        return LinkCandidateOut.of(service.confirm(caller, candidate_id, body.reason))

    @router.post("/v1/identity/candidates/{candidate_id}/reject",
                 response_model=LinkCandidateOut)
    def reject(candidate_id: CandidateId, body: ReasonIn,
               caller: caller_type) -> LinkCandidateOut:
        return LinkCandidateOut.of(service.reject(caller, candidate_id, body.reason))

    return router
