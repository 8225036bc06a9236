"""Members of the exchange: organisations, their systems, identifier schemes, and each
member's history. Ids are checked by the use case (so each refusal is audited with its
code: invalid_org_id, unknown_member_class, invalid_system_id, invalid_pattern)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictStr

from onceonly.domain.organisations import Organisation, Scheme
from onceonly.entrypoints.api.schemas.common import Strict, Text
from onceonly.services.ports.members import MemberEvent

Name = Annotated[Text, Field(min_length=1, max_length=200)]


class MemberIn(Strict):
    id: Annotated[StrictStr, Field(max_length=64, examples=["LA/EASTSHIRE"], description=(
        "CLASS/CODE; CLASS one of GOV, LA, NHS, POL, EDU, CHA, COM"))]
    name: Name


class MemberOut(BaseModel):
    id: str
    name: str
    status: str = Field(description="active, suspended or deregistered")
    systems: list[str]

    @classmethod
    def of(cls, org: Organisation) -> MemberOut:
        return cls(id=org.id, name=org.name, status=org.status.value, systems=list(org.systems))


class SystemIn(Strict):
    id: Annotated[StrictStr, Field(max_length=100, examples=["LA/EASTSHIRE/housing"],
                                   description="CLASS/CODE/system of a registered member")]
    title: Name


class SystemOut(BaseModel):
    id: str


class SchemeIn(Strict):
    code: Annotated[StrictStr, Field(max_length=32, examples=["uprn"])]
    name: Name
    pattern: Annotated[Text, Field(max_length=500, examples=["^[0-9]{1,12}$"],
                                   description="the identifiers' format, a regular expression")]
    issuer: Annotated[StrictStr, Field(max_length=64, examples=["LA/EASTSHIRE"])]


class SchemeOut(BaseModel):
    code: str
    name: str
    pattern: str | None
    issuer: str

    @classmethod
    def of(cls, scheme: Scheme) -> SchemeOut:
        return cls(code=scheme.code, name=scheme.name, pattern=scheme.pattern,
                   issuer=scheme.issuer_id)


class MemberEventOut(BaseModel):
    member: str
    at: datetime
    action: str = Field(description="register, suspend, resume or deregister")
    actor: str
    reason: str
    agreements: list[int] = Field(description="the agreements this step suspended or resumed")

    @classmethod
    def of(cls, event: MemberEvent) -> MemberEventOut:
        return cls(member=event.org_id, at=event.at, action=event.action,
                   actor=event.actor_id, reason=event.reason,
                   agreements=list(event.agreement_ids))
