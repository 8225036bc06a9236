"""Drafting an agreement: its own terms checked (purpose, validity, limits, hiding), then
its grants against the dataset it draws on."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from onceonly.domain.agreements.lifecycle import _transition
from onceonly.domain.agreements.terms import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    FieldGrant,
    LegalBasis,
    PrivacyAssessment,
)
from onceonly.domain.catalogue import Dataset, Sensitivity
from onceonly.domain.errors import forbidden, invalid
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.special_category import ProcessingCondition
from onceonly.domain.transforms import get_transform

PURPOSE_CODE = re.compile(r"^[a-z][a-z0-9-]{1,63}$")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


MAX_HIDDEN_DAYS = 3 * 365  # the longest an access may stay out of a citizen's view



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


