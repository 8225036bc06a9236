"""Data-sharing agreements and their lifecycle.

draft -> submitted -> approved | rejected; approved -> suspended -> approved (resume);
approved | suspended | submitted -> revoked. "Active" and "expired" are not stored: they
follow from an approved agreement and the clock, so expiry needs no job to take effect.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from onceonly.domain.catalogue import Dataset, Sensitivity
from onceonly.domain.errors import conflict, forbidden, invalid
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.special_category import ProcessingCondition, require_condition
from onceonly.domain.transforms import get_transform

PURPOSE_CODE = re.compile(r"^[a-z][a-z0-9-]{1,63}$")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


MAX_HIDDEN_DAYS = 3 * 365  # the longest an access may stay out of a citizen's view


class AgreementStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class AgreementState(StrEnum):
    """What applies at a moment: the stored status, an approved agreement told apart as
    pending (not yet valid), active or expired, and a suspended one as expired once past."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class LegalBasis(StrEnum):
    CONSENT = "consent"
    STATUTORY_DUTY = "statutory-duty"
    PUBLIC_TASK = "public-task"
    VITAL_INTERESTS = "vital-interests"


class AgreementKind(StrEnum):
    QUERY = "query"  # per-person queries of the provider's store
    NOTIFICATION = "notification"  # life events of the provider's register, as they happen


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class FieldGrant:
    """One field the consumer may receive: `name` as released, computed from `source`."""

    name: str
    source: str
    transform: str = "as_is"


@dataclass(frozen=True, slots=True)
class PrivacyAssessment:
    risk: Risk
    summary: str
    assessed_by: str
    assessed_on: date
    reference: str = ""  # the DPIA's own reference in its organisation's records


@dataclass(frozen=True, slots=True)
class Transition:
    at: datetime
    actor_id: str
    actor_org: str
    action: str
    from_status: AgreementStatus | None
    to_status: AgreementStatus
    reason: str


@dataclass(slots=True)
class Agreement:
    id: int | None
    provider_id: str
    consumer_id: str
    dataset_id: str
    grants: tuple[FieldGrant, ...]
    purpose_code: str
    purpose_text: str
    legal_basis: LegalBasis
    valid_from: datetime
    valid_until: datetime
    max_queries_per_day: int
    retention_days: int
    assessment: PrivacyAssessment | None
    special_category: bool = False  # draws on special-category data: needs a high-risk assessment
    special_category_condition: ProcessingCondition | None = None  # and an Art. 9 condition
    # Days an access stays out of the citizen's access log (an investigation must not be
    # tipped off); the entry is in the audit tree from the start all the same.
    hidden_days: int = 0
    max_persons_per_day: int | None = None  # distinct people a day
    max_uses: int | None = None  # releases over the agreement's life (1: a one-time agreement)
    bulk_max_records: int | None = None  # bulk extracts allowed, of at most this many people
    # The consumer's officers must hold data-protection training in date to use it.
    requires_training: bool = False
    kind: AgreementKind = AgreementKind.QUERY  # follows from the dataset: an event register
    status: AgreementStatus = AgreementStatus.DRAFT
    approvals: tuple[str, ...] = ()  # guardians who approved the current submission
    created_by: str = ""
    created_at: datetime | None = None
    version: int = 0
    history: tuple[Transition, ...] = ()
    grant_by_name: dict[str, FieldGrant] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.grant_by_name = {g.name: g for g in self.grants}

    @property
    def approvals_required(self) -> int:
        return 2 if self.assessment is not None and self.assessment.risk is Risk.HIGH else 1

    def state_at(self, now: datetime) -> AgreementState:
        """The state a user sees: the stored status, or active/pending/expired for approved."""
        if self.status in (AgreementStatus.APPROVED, AgreementStatus.SUSPENDED):
            if now >= self.valid_until:
                return AgreementState.EXPIRED
            if self.status is AgreementStatus.APPROVED:
                return AgreementState.ACTIVE if now >= self.valid_from else AgreementState.PENDING
        return AgreementState(self.status.value)

    def active_at(self, now: datetime) -> bool:
        return self.state_at(now) is AgreementState.ACTIVE

    def in_force_at(self, now: datetime) -> bool:
        """Approved or suspended (it may resume) and not yet expired: its provider is bound
        to keep serving the fields it grants."""
        return (self.status in (AgreementStatus.APPROVED, AgreementStatus.SUSPENDED)
                and now < self.valid_until)

    def hidden_until(self, now: datetime) -> datetime | None:
        """When an access made now under this agreement may appear in the citizen's access
        log (None: at once)."""
        return now + timedelta(days=self.hidden_days) if self.hidden_days else None


def agreements_using(agreements: Sequence[Agreement], fields: Sequence[str],
                     now: datetime) -> list[Agreement]:
    """The agreements in force at `now` that grant one of `fields` (by source field)."""
    wanted = set(fields)
    return [a for a in agreements
            if a.in_force_at(now) and any(g.source in wanted for g in a.grants)]


# long: every term of an agreement, named once each as a keyword and set on the draft
def draft_agreement(
    *,
    actor: Principal,
    dataset: Dataset,
    consumer_id: str,
    grants: list[FieldGrant],
    purpose_code: str,
    purpose_text: str,
    legal_basis: LegalBasis,
    valid_from: datetime,
    valid_until: datetime,
    max_queries_per_day: int,
    retention_days: int,
    assessment: PrivacyAssessment | None,
    now: datetime,
    hidden_days: int = 0,
    max_persons_per_day: int | None = None,
    max_uses: int | None = None,
    bulk_max_records: int | None = None,
    requires_training: bool = False,
    special_category_condition: ProcessingCondition | None = None,
) -> Agreement:
    """A new draft, checked against the dataset it draws on. Drafted by the consumer."""
    if actor.org_id != consumer_id or actor.role not in (Role.OFFICER, Role.GUARDIAN):
        raise forbidden(
            "not_consumer_party",
            "only an officer or guardian of the consuming organisation may draft its agreement",
        )
    if consumer_id == dataset.provider_id:
        raise invalid("self_agreement", "an organisation needs no agreement with itself")
    _check_terms(purpose_code, purpose_text, valid_from, valid_until, max_queries_per_day,
                 retention_days, hidden_days, {"max_persons_per_day": max_persons_per_day,
                                               "max_uses": max_uses,
                                               "bulk_max_records": bulk_max_records})
    _check_grants(grants, dataset)
    agreement = Agreement(
        id=None,
        provider_id=dataset.provider_id,
        consumer_id=consumer_id,
        dataset_id=dataset.id,
        grants=tuple(grants),
        purpose_code=purpose_code,
        purpose_text=purpose_text.strip(),
        legal_basis=legal_basis,
        valid_from=valid_from,
        valid_until=valid_until,
        max_queries_per_day=max_queries_per_day,
        retention_days=retention_days,
        hidden_days=hidden_days,
        max_persons_per_day=max_persons_per_day,
        max_uses=max_uses,
        bulk_max_records=bulk_max_records,
        requires_training=requires_training,
        kind=AgreementKind.NOTIFICATION if dataset.event_type else AgreementKind.QUERY,
        assessment=assessment,
        special_category=any(
            dataset.field(g.source).sensitivity is Sensitivity.SPECIAL for g in grants
        ),
        special_category_condition=special_category_condition,
        created_by=actor.id,
        created_at=now,
    )
    return replace(agreement, history=(_transition(actor, "create", None, AgreementStatus.DRAFT,
                                                   "drafted", now),))


def _check_terms(purpose_code: str, purpose_text: str, valid_from: datetime,
                 valid_until: datetime, max_queries_per_day: int, retention_days: int,
                 hidden_days: int, optional_limits: dict[str, int | None]) -> None:
    """The draft's own terms, before the dataset's: purpose, validity, limits, hiding."""
    if not PURPOSE_CODE.match(purpose_code):
        raise invalid("invalid_purpose", "purpose code must be lower-case words joined by '-'")
    if not purpose_text.strip():
        raise invalid("invalid_purpose", "purpose text must say why the data is needed")
    if valid_until <= valid_from:
        raise invalid("invalid_validity", "valid_until must be after valid_from")
    if max_queries_per_day < 1:
        raise invalid("invalid_limit", "max_queries_per_day must be at least 1")
    if retention_days < 0:
        raise invalid("invalid_retention", "retention_days cannot be negative")
    for name, limit in optional_limits.items():
        if limit is not None and limit < 1:
            raise invalid("invalid_limit", f"{name} must be at least 1, or left out for none")
    if not 0 <= hidden_days <= MAX_HIDDEN_DAYS:
        raise invalid("invalid_hidden_days",
                      f"hidden_days must be between 0 and {MAX_HIDDEN_DAYS}")


def _check_grants(grants: list[FieldGrant], dataset: Dataset) -> None:
    if not grants:
        raise invalid("no_fields", "an agreement must grant at least one field")
    seen: set[str] = set()
    for grant in grants:
        if not FIELD_NAME.match(grant.name):
            raise invalid("invalid_field_name", f"{grant.name!r} is not a valid field name")
        if grant.name in seen:
            raise invalid("duplicate_field", f"field {grant.name!r} is granted twice")
        seen.add(grant.name)
        spec = dataset.field(grant.source)
        if spec is None:
            raise invalid(
                "unknown_field", f"dataset {dataset.id} has no field {grant.source!r}"
            )
        transform = get_transform(grant.transform)
        if transform.accepts is not None and spec.type not in transform.accepts:
            raise invalid(
                "transform_mismatch",
                f"transform {grant.transform!r} cannot apply to {spec.type.value} field "
                f"{grant.source!r}",
            )


def _transition(
    actor: Principal,
    action: str,
    from_status: AgreementStatus | None,
    to_status: AgreementStatus,
    reason: str,
    now: datetime,
) -> Transition:
    return Transition(now, actor.id, actor.org_id, action, from_status, to_status, reason)


def require_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise invalid("reason_required", "every lifecycle step must say why")
    return reason


def _require_status(agreement: Agreement, action: str, *allowed: AgreementStatus) -> None:
    if agreement.status not in allowed:
        raise conflict(
            "illegal_transition",
            f"cannot {action} an agreement that is {agreement.status.value}; "
            f"only one that is {' or '.join(s.value for s in allowed)}",
        )


def _require_provider_guardian(agreement: Agreement, actor: Principal, action: str) -> None:
    if actor.role is not Role.GUARDIAN or actor.org_id != agreement.provider_id:
        raise forbidden(
            "not_provider_guardian",
            f"only a data guardian of {agreement.provider_id} may {action} this agreement",
        )


def _moved(
    agreement: Agreement,
    actor: Principal,
    action: str,
    to: AgreementStatus,
    reason: str,
    now: datetime,
    approvals: tuple[str, ...] | None = None,
) -> Agreement:
    step = _transition(actor, action, agreement.status, to, reason, now)
    return replace(
        agreement,
        status=to,
        approvals=agreement.approvals if approvals is None else approvals,
        history=(*agreement.history, step),
    )


def submit(agreement: Agreement, actor: Principal, reason: str, now: datetime) -> Agreement:
    reason = require_reason(reason)
    if actor.org_id != agreement.consumer_id or actor.role not in (Role.OFFICER, Role.GUARDIAN):
        raise forbidden("not_consumer_party", "only the consuming organisation submits its draft")
    _require_status(agreement, "submit", AgreementStatus.DRAFT)
    if agreement.assessment is None:
        raise conflict(
            "assessment_required",
            "a privacy impact assessment must be attached before the agreement is submitted",
        )
    if agreement.valid_until <= now:
        raise conflict("outside_validity", "the agreement's validity window has already ended")
    if agreement.assessment.risk is not Risk.HIGH and agreement.special_category:
        raise conflict(
            "assessment_understates_risk",
            "the agreement draws on special-category data; its assessment must be high risk",
        )
    require_condition(agreement.special_category, agreement.special_category_condition)
    return _moved(agreement, actor, "submit", AgreementStatus.SUBMITTED, reason, now, ())


def approve(agreement: Agreement, actor: Principal, reason: str, now: datetime) -> Agreement:
    """A guardian of the provider approves; a high-risk agreement needs two different ones."""
    reason = require_reason(reason)
    _require_provider_guardian(agreement, actor, "approve")
    _require_status(agreement, "approve", AgreementStatus.SUBMITTED)
    if actor.id in agreement.approvals:
        raise conflict(
            "duplicate_approval",
            "this guardian has already approved; a high-risk agreement needs a second guardian",
        )
    approvals = (*agreement.approvals, actor.id)
    done = len(approvals) >= agreement.approvals_required
    to = AgreementStatus.APPROVED if done else AgreementStatus.SUBMITTED
    return _moved(agreement, actor, "approve", to, reason, now, approvals)


def reject(agreement: Agreement, actor: Principal, reason: str, now: datetime) -> Agreement:
    reason = require_reason(reason)
    _require_provider_guardian(agreement, actor, "reject")
    _require_status(agreement, "reject", AgreementStatus.SUBMITTED)
    return _moved(agreement, actor, "reject", AgreementStatus.REJECTED, reason, now)


def suspend(agreement: Agreement, actor: Principal, reason: str, now: datetime) -> Agreement:
    reason = require_reason(reason)
    _require_provider_guardian(agreement, actor, "suspend")
    _require_status(agreement, "suspend", AgreementStatus.APPROVED)
    return _moved(agreement, actor, "suspend", AgreementStatus.SUSPENDED, reason, now)


ANOMALY_DETECTOR = "onceonly.anomaly-detector"


def suspend_for_anomaly(agreement: Agreement, rule: str, now: datetime) -> Agreement:
    """The exchange suspends an agreement on the provider's behalf when traffic through it
    looks like harvesting; only the provider's guardian resumes or revokes it."""
    _require_status(agreement, "suspend", AgreementStatus.APPROVED)
    step = Transition(now, ANOMALY_DETECTOR, agreement.provider_id, "suspend",
                      agreement.status, AgreementStatus.SUSPENDED,
                      f"anomaly detected: {rule}; the provider's guardian is alerted")
    return replace(agreement, status=AgreementStatus.SUSPENDED,
                   history=(*agreement.history, step))


def suspend_for_member(agreement: Agreement, actor: Principal, reason: str,
                       now: datetime) -> Agreement:
    """The exchange's operator suspends a member: each agreement in force that it is party
    to is suspended with it (who may do this is the use case's rule)."""
    reason = require_reason(reason)
    _require_status(agreement, "suspend", AgreementStatus.APPROVED)
    return _moved(agreement, actor, "suspend", AgreementStatus.SUSPENDED,
                  f"member suspended: {reason}", now)


def resume_for_member(agreement: Agreement, actor: Principal, reason: str,
                      now: datetime) -> Agreement:
    """The member is resumed: the agreements its suspension suspended resume."""
    reason = require_reason(reason)
    _require_status(agreement, "resume", AgreementStatus.SUSPENDED)
    return _moved(agreement, actor, "resume", AgreementStatus.APPROVED,
                  f"member resumed: {reason}", now)


def resume(agreement: Agreement, actor: Principal, reason: str, now: datetime) -> Agreement:
    reason = require_reason(reason)
    _require_provider_guardian(agreement, actor, "resume")
    _require_status(agreement, "resume", AgreementStatus.SUSPENDED)
    return _moved(agreement, actor, "resume", AgreementStatus.APPROVED, reason, now)


def revoke(agreement: Agreement, actor: Principal, reason: str, now: datetime) -> Agreement:
    reason = require_reason(reason)
    _require_provider_guardian(agreement, actor, "revoke")
    _require_status(
        agreement,
        "revoke",
        AgreementStatus.SUBMITTED,
        AgreementStatus.APPROVED,
        AgreementStatus.SUSPENDED,
    )
    return _moved(agreement, actor, "revoke", AgreementStatus.REVOKED, reason, now)


TRANSITIONS = {
    "submit": submit,
    "approve": approve,
    "reject": reject,
    "suspend": suspend,
    "resume": resume,
    "revoke": revoke,
}
