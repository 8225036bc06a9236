"""Links between organisations' identifiers that the matcher proposed."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from onceonly.domain.identity import LinkCandidate


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
    def of(cls, c: LinkCandidate) -> LinkCandidateOut:
        return cls(id=c.id or 0, organisation=c.org_id, scheme=c.scheme, value=c.value,
                   person_key=c.person_key, match_weight=c.match_weight,
                   identifier_agreement=c.identifier_agreement,
                   comparisons=dict(c.comparisons), status=c.status.value,
                   created_at=c.created_at, decided_by=c.decided_by,
                   decided_at=c.decided_at, reason=c.reason)
