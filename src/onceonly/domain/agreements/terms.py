"""What an agreement is: its terms, the grants, the privacy assessment, its history of
transitions, and the state that follows from its status and the clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from onceonly.domain.special_category import ProcessingCondition


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


