"""Data-sharing agreements: drafting one, and each as it stands with its history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StrictBool, StrictInt, StrictStr

from onceonly.domain.agreements import MAX_HIDDEN_DAYS, Agreement, LegalBasis, Risk
from onceonly.domain.special_category import ProcessingCondition
from onceonly.entrypoints.api.schemas.common import (
    AsWhole,
    DatasetId,
    FieldName,
    PurposeCode,
    Said,
    Strict,
    Text,
)


class GrantIn(Strict):
    name: FieldName
    source: FieldName
    transform: Annotated[StrictStr, Field(default="as_is", pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class PurposeIn(Strict):
    code: PurposeCode
    text: Said


class AssessmentIn(Strict):
    risk: Risk
    summary: Annotated[Text, Field(min_length=1, max_length=4000)]
    assessed_by: Annotated[Text, Field(min_length=1, max_length=200)]
    assessed_on: date
    reference: Annotated[Text, Field(max_length=100, description=(
        "the DPIA's own reference in its organisation's records"))] = ""


class AgreementIn(Strict):
    dataset_id: DatasetId
    fields: Annotated[list[GrantIn], Field(min_length=1, max_length=64)]
    purpose: PurposeIn
    legal_basis: LegalBasis
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    max_queries_per_day: Annotated[StrictInt, Field(ge=1, le=10_000_000), AsWhole]
    retention_days: Annotated[StrictInt, Field(ge=0, le=36_500), AsWhole]
    hidden_days: Annotated[StrictInt, Field(
        ge=0, le=MAX_HIDDEN_DAYS,
        description="days each access stays out of the citizen's access log (it is in the "
                    "audit tree from the start)"), AsWhole] = 0
    max_persons_per_day: Annotated[StrictInt | None, Field(
        ge=1, le=10_000_000, description="distinct people a day (none if left out)"),
        AsWhole] = None
    max_uses: Annotated[StrictInt | None, Field(
        ge=1, le=10_000_000, description="releases over the agreement's life; 1 for a "
                                         "one-time agreement (none if left out)"), AsWhole] = None
    bulk_max_records: Annotated[StrictInt | None, Field(
        ge=1, le=1_000_000, description="bulk extracts allowed, each approved by the "
                                        "provider's guardian, of at most this many people "
                                        "(none if left out)"), AsWhole] = None
    requires_training: Annotated[StrictBool, Field(
        description="the consumer's officers must hold data-protection training in date "
                    "(refused `training_lapsed` otherwise)")] = False
    privacy_assessment: AssessmentIn | None = None
    special_category_condition: ProcessingCondition | None = Field(None, description=(
        "the UK GDPR Article 9 / DPA 2018 Schedule 1 condition special-category data is "
        "shared under: needed to submit an agreement releasing such data (refused "
        "`special_category_condition_missing` otherwise)"))


class TransitionOut(BaseModel):
    at: datetime
    actor: str
    organisation: str
    action: str
    from_status: str | None
    to_status: str
    reason: str


class AgreementOut(BaseModel):
    id: int
    provider: str
    consumer: str
    dataset_id: str
    fields: list[GrantIn]
    purpose: PurposeIn
    legal_basis: LegalBasis
    valid_from: datetime
    valid_until: datetime
    max_queries_per_day: int
    retention_days: int
    hidden_days: int
    max_persons_per_day: int | None
    max_uses: int | None
    bulk_max_records: int | None
    requires_training: bool = False
    kind: str = Field(description="query (per-person queries) or notification (life events)")
    privacy_assessment: AssessmentIn | None
    special_category: bool = False
    special_category_condition: ProcessingCondition | None = None
    status: str = Field(description="stored lifecycle status")
    state: str = Field(description="what applies now: active, pending, expired, or the status")
    approvals: list[str]
    approvals_required: int
    history: list[TransitionOut]

    @classmethod
    def of(cls, a: Agreement, now: datetime) -> AgreementOut:
        assert a.id is not None
        return cls(
            id=a.id,
            provider=a.provider_id,
            consumer=a.consumer_id,
            dataset_id=a.dataset_id,
            fields=[GrantIn(name=g.name, source=g.source, transform=g.transform)
                    for g in a.grants],
            purpose=PurposeIn(code=a.purpose_code, text=a.purpose_text),
            legal_basis=a.legal_basis,
            valid_from=a.valid_from,
            valid_until=a.valid_until,
            max_queries_per_day=a.max_queries_per_day,
            retention_days=a.retention_days,
            hidden_days=a.hidden_days,
            max_persons_per_day=a.max_persons_per_day,
            max_uses=a.max_uses,
            bulk_max_records=a.bulk_max_records,
            requires_training=a.requires_training,
            kind=a.kind.value,
            privacy_assessment=None if a.assessment is None else AssessmentIn(
                risk=a.assessment.risk,
                summary=a.assessment.summary,
                assessed_by=a.assessment.assessed_by,
                assessed_on=a.assessment.assessed_on,
                reference=a.assessment.reference,
            ),
            special_category=a.special_category,
            special_category_condition=a.special_category_condition,
            status=a.status.value,
            state=a.state_at(now),
            approvals=list(a.approvals),
            approvals_required=a.approvals_required,
            history=[
                TransitionOut(
                    at=h.at, actor=h.actor_id, organisation=h.actor_org, action=h.action,
                    from_status=h.from_status.value if h.from_status else None,
                    to_status=h.to_status.value, reason=h.reason,
                )
                for h in a.history
            ],
        )
