"""Rows of the exchange database to domain objects and back, for every adapter that reads
or writes agreements and datasets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from onceonly.domain.agreements import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    FieldGrant,
    LegalBasis,
    PrivacyAssessment,
    Risk,
    Transition,
)
from onceonly.domain.catalogue import Dataset, FieldSpec, FieldType, Sensitivity, SourceLabel
from onceonly.domain.special_category import ProcessingCondition


def dataset_fields_to_json(fields: tuple[FieldSpec, ...]) -> list[dict[str, str]]:
    return [
        {
            "name": f.name,
            "type": f.type.value,
            "sensitivity": f.sensitivity.value,
            "source": f.source.value,
            "description": f.description,
            "label": f.label,
            "label_cy": f.label_cy,
            "description_cy": f.description_cy,
        }
        for f in fields
    ]


def dataset_from_row(row: Any) -> Dataset:
    return Dataset(
        id=row.id,
        provider_id=row.provider_id,
        title=row.title,
        subject_scheme=row.subject_scheme,
        fields=tuple(
            FieldSpec(
                name=f["name"],
                type=FieldType(f["type"]),
                sensitivity=Sensitivity(f["sensitivity"]),
                source=SourceLabel(f["source"]),
                description=f.get("description", ""),
                label=f.get("label", ""),
                label_cy=f.get("label_cy", ""),
                description_cy=f.get("description_cy", ""),
            )
            for f in row.fields
        ),
        event_type=row.event_type,
        offers=tuple(getattr(row, "offers", None) or ()),
        version=getattr(row, "version", 1),
    )


def assessment_to_json(a: PrivacyAssessment | None) -> dict[str, str] | None:
    if a is None:
        return None
    return {
        "risk": a.risk.value,
        "summary": a.summary,
        "assessed_by": a.assessed_by,
        "assessed_on": a.assessed_on.isoformat(),
        "reference": a.reference,
    }


def assessment_from_json(data: Mapping[str, str] | None) -> PrivacyAssessment | None:
    if data is None:
        return None
    return PrivacyAssessment(
        risk=Risk(data["risk"]),
        summary=data["summary"],
        assessed_by=data["assessed_by"],
        assessed_on=date.fromisoformat(data["assessed_on"]),
        reference=data.get("reference", ""),
    )


def agreement_from_row(row: Any, history: tuple[Transition, ...] = ()) -> Agreement:
    return Agreement(
        id=row.id,
        provider_id=row.provider_id,
        consumer_id=row.consumer_id,
        dataset_id=row.dataset_id,
        grants=tuple(FieldGrant(**g) for g in row.grants),
        purpose_code=row.purpose_code,
        purpose_text=row.purpose_text,
        legal_basis=LegalBasis(row.legal_basis),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        max_queries_per_day=row.max_queries_per_day,
        retention_days=row.retention_days,
        hidden_days=row.hidden_days,
        max_persons_per_day=row.max_persons_per_day,
        max_uses=row.max_uses,
        bulk_max_records=row.bulk_max_records,
        requires_training=row.requires_training,
        kind=AgreementKind(row.kind),
        assessment=assessment_from_json(row.assessment),
        special_category=row.special_category,
        special_category_condition=(
            None if getattr(row, "special_category_condition", None) is None
            else ProcessingCondition(row.special_category_condition)),
        status=AgreementStatus(row.status),
        approvals=tuple(row.approvals),
        created_by=row.created_by,
        created_at=row.created_at,
        version=row.version,
        history=history,
    )


def agreement_values(a: Agreement) -> dict[str, Any]:
    return {
        "provider_id": a.provider_id,
        "consumer_id": a.consumer_id,
        "dataset_id": a.dataset_id,
        "grants": [{"name": g.name, "source": g.source, "transform": g.transform}
                   for g in a.grants],
        "purpose_code": a.purpose_code,
        "purpose_text": a.purpose_text,
        "legal_basis": a.legal_basis.value,
        "valid_from": a.valid_from,
        "valid_until": a.valid_until,
        "max_queries_per_day": a.max_queries_per_day,
        "retention_days": a.retention_days,
        "hidden_days": a.hidden_days,
        "max_persons_per_day": a.max_persons_per_day,
        "max_uses": a.max_uses,
        "bulk_max_records": a.bulk_max_records,
        "requires_training": a.requires_training,
        "kind": a.kind.value,
        "assessment": assessment_to_json(a.assessment),
        "special_category": a.special_category,
        "special_category_condition": (None if a.special_category_condition is None
                                       else a.special_category_condition.value),
        "status": a.status.value,
        "approvals": list(a.approvals),
        "created_by": a.created_by,
        "created_at": a.created_at,
    }
