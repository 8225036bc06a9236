"""Small builders for domain objects in unit tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from onceonly.domain.agreements import (
    Agreement,
    AgreementStatus,
    FieldGrant,
    LegalBasis,
    PrivacyAssessment,
    Risk,
)
from onceonly.domain.catalogue import Dataset, FieldSpec, FieldType, Sensitivity, SourceLabel
from onceonly.domain.organisations import Principal, Role

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

INCOME = Dataset(
    id="GOV/HMRC/income",
    provider_id="GOV/HMRC",
    title="Income",
    subject_scheme="nino",
    fields=(
        FieldSpec("full_name", FieldType.STRING, Sensitivity.PERSONAL, SourceLabel.VERIFIED),
        FieldSpec("annual_income", FieldType.INTEGER, Sensitivity.PERSONAL,
                  SourceLabel.VERIFIED),
        FieldSpec("date_of_birth", FieldType.DATE, Sensitivity.PERSONAL, SourceLabel.VERIFIED),
        FieldSpec("conditions", FieldType.LIST, Sensitivity.SPECIAL, SourceLabel.VERIFIED),
    ),
)


def principal(org: str = "GOV/DWP", role: Role = Role.OFFICER, pid: str = "") -> Principal:
    return Principal(pid or f"{org}:{role.value}", "someone", org, role)


def assessment(risk: Risk = Risk.MEDIUM) -> PrivacyAssessment:
    return PrivacyAssessment(risk, "assessed", "assessor", date(2026, 11, 1))


def agreement(**changes: object) -> Agreement:
    base = Agreement(
        id=1,
        provider_id="GOV/HMRC",
        consumer_id="GOV/DWP",
        dataset_id="GOV/HMRC/income",
        grants=(FieldGrant("income_band", "annual_income", "income_band"),
                FieldGrant("full_name", "full_name")),
        purpose_code="benefit-entitlement",
        purpose_text="entitlement",
        legal_basis=LegalBasis.STATUTORY_DUTY,
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=30),
        max_queries_per_day=10,
        retention_days=30,
        assessment=assessment(),
        status=AgreementStatus.APPROVED,
    )
    return replace(base, **changes)
