"""The policy decision: one pure function, made afresh for every request. Deny by default."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from onceonly.domain.agreements import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    FieldGrant,
    LegalBasis,
)
from onceonly.domain.errors import invalid
from onceonly.domain.limits import quota_spent, refusal_detail
from onceonly.domain.organisations import Role
from onceonly.domain.reasons import Reason

__all__ = ["Circumstances", "Decision", "Deny", "Permit", "QueryRequest", "Reason", "check_fields",
           "decide"]


@dataclass(frozen=True, slots=True)
class QueryRequest:
    org_id: str
    role: Role
    purpose: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Circumstances:
    """What the decision needs to know beyond the request and the agreement."""

    now: datetime
    subject_known: bool
    consent_given: bool
    queries_today: int


@dataclass(frozen=True, slots=True)
class Permit:
    grants: tuple[FieldGrant, ...]
    permitted = True


@dataclass(frozen=True, slots=True)
class Deny:
    reason: Reason
    detail: str
    permitted = False


Decision = Permit | Deny


def check_fields(fields: tuple[str, ...]) -> None:
    """A query names each field it wants once, and at least one."""
    if not fields:
        raise invalid("no_fields", "name at least one field to receive")
    if len(set(fields)) != len(fields):
        raise invalid("duplicate_field", "a field is named twice")


def decide(request: QueryRequest, agreement: Agreement, facts: Circumstances) -> Decision:
    """Permit exactly the requested fields, or deny with the first reason that applies.

    The order matters: who may ask comes before anything about the person, so a refused
    caller learns nothing about whether someone exists or has consented.
    """
    if request.org_id != agreement.consumer_id:
        return Deny(Reason.NOT_AGREEMENT_PARTY, "the agreement is not with your organisation")
    if request.role is not Role.OFFICER:
        return Deny(Reason.ROLE_NOT_ALLOWED, "only an officer of the consumer may make queries")
    if agreement.kind is not AgreementKind.QUERY:
        return Deny(Reason.NOT_A_QUERY_AGREEMENT,
                    "a notification agreement delivers life events; it answers no queries")
    if agreement.status is not AgreementStatus.APPROVED:
        return Deny(
            Reason.AGREEMENT_NOT_ACTIVE, f"the agreement is {agreement.status.value}"
        )
    if not agreement.valid_from <= facts.now < agreement.valid_until:
        return Deny(
            Reason.OUTSIDE_VALIDITY,
            f"the agreement is valid from {agreement.valid_from.isoformat()} "
            f"until {agreement.valid_until.isoformat()}",
        )
    if request.purpose != agreement.purpose_code:
        return Deny(
            Reason.PURPOSE_MISMATCH,
            f"the agreement covers purpose {agreement.purpose_code!r} only",
        )
    by_name = agreement.grant_by_name
    outside = [name for name in request.fields if name not in by_name]
    if outside:
        return Deny(
            Reason.FIELD_NOT_IN_AGREEMENT,
            f"not in the agreement: {', '.join(outside)}",
        )
    if not facts.subject_known:
        return Deny(Reason.SUBJECT_UNKNOWN, "no such person is known to the provider")
    if agreement.legal_basis is LegalBasis.CONSENT and not facts.consent_given:
        return Deny(
            Reason.CONSENT_MISSING,
            "the legal basis is consent and this person has not consented to this purpose",
        )
    if quota_spent(agreement, facts.queries_today):
        return Deny(Reason.QUOTA_EXCEEDED, refusal_detail(Reason.QUOTA_EXCEEDED, agreement))
    return Permit(tuple(by_name[name] for name in request.fields))
