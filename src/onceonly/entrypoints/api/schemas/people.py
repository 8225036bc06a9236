"""The people who act for an organisation, as its administrators keep them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictInt, StrictStr

from onceonly.domain.organisations import Role
from onceonly.entrypoints.api.schemas.common import AsWhole, OrgId, Strict, Text
from onceonly.services.people import Issued
from onceonly.services.ports.people import StaffMember

Days = Annotated[StrictInt, Field(ge=1, le=366, description="days until the token expires"),
                 AsWhole]


class PersonIn(Strict):
    org: OrgId
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    role: Role = Field(description="officer, guardian or manager (org_admin: the exchange's "
                                   "administrators only)")
    days: Days = 30
    system: Annotated[StrictStr | None, Field(
        max_length=100, description="for a service account: the organisation's system it "
                                    "acts as")] = None


class TokenIn(Strict):
    days: Days = 30


class TrainingIn(Strict):
    completed_on: date
    valid_until: date


class TrainingOut(BaseModel):
    completed_on: date
    valid_until: date


class IssuedOut(BaseModel):
    id: str
    org: str
    role: str
    system: str | None
    token: str = Field(description="shown this once: the exchange keeps only its digest")
    expires_on: date

    @classmethod
    def of(cls, issued: Issued) -> IssuedOut:
        p = issued.principal
        return cls(id=p.id, org=p.org_id, role=p.role.value, system=p.system_id,
                   token=issued.token, expires_on=issued.expires_on)


class PersonOut(BaseModel):
    id: str
    name: str
    org: str
    role: str
    system: str | None
    disabled_at: datetime | None
    training: TrainingOut | None
    live_tokens: int

    @classmethod
    def of(cls, m: StaffMember) -> PersonOut:
        p = m.principal
        return cls(id=p.id, name=p.name, org=p.org_id, role=p.role.value, system=p.system_id,
                   disabled_at=m.disabled_at,
                   training=None if m.training is None else TrainingOut(
                       completed_on=m.training.completed_on,
                       valid_until=m.training.valid_until),
                   live_tokens=m.live_tokens)


class RevokedOut(BaseModel):
    id: str
    tokens_revoked: int
