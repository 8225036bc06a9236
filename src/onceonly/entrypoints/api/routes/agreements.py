"""Data-sharing agreements over HTTP: drafted by a consumer's officer, moved through their
lifecycle (submit, approve, reject, suspend, resume, revoke), each move with a reason."""

from __future__ import annotations

from fastapi import APIRouter

from onceonly.domain.agreements import TRANSITIONS, FieldGrant, PrivacyAssessment
from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas.agreements import AgreementIn, AgreementOut
from onceonly.entrypoints.api.schemas.common import IdPath, ReasonIn
from onceonly.services.agreements import DraftCommand

router = APIRouter(tags=["agreements"], route_class=JsonRoute)


@router.post("/v1/agreements", status_code=201, response_model=AgreementOut)
def create_agreement(body: AgreementIn, caller: Caller, exchange: ExchangeDep) -> AgreementOut:
    assessment = body.privacy_assessment
    agreement = exchange.agreements.draft(caller, DraftCommand(
        dataset_id=body.dataset_id,
        grants=[FieldGrant(g.name, g.source, g.transform) for g in body.fields],
        purpose_code=body.purpose.code,
        purpose_text=body.purpose.text,
        legal_basis=body.legal_basis,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        max_queries_per_day=body.max_queries_per_day,
        retention_days=body.retention_days,
        hidden_days=body.hidden_days,
        max_persons_per_day=body.max_persons_per_day,
        max_uses=body.max_uses,
        bulk_max_records=body.bulk_max_records,
        requires_training=body.requires_training,
        special_category_condition=body.special_category_condition,
        assessment=None if assessment is None else PrivacyAssessment(
            assessment.risk, assessment.summary, assessment.assessed_by,
            assessment.assessed_on, assessment.reference),
    ))
    return AgreementOut.of(agreement, exchange.clock.now())


@router.get("/v1/agreements", response_model=list[AgreementOut])
def list_agreements(caller: Caller, exchange: ExchangeDep) -> list[AgreementOut]:
    now = exchange.clock.now()
    return [AgreementOut.of(a, now) for a in exchange.agreements.list(caller)]


@router.get("/v1/agreements/{agreement_id}", response_model=AgreementOut)
def get_agreement(agreement_id: IdPath, caller: Caller, exchange: ExchangeDep) -> AgreementOut:
    return AgreementOut.of(exchange.agreements.get(caller, agreement_id), exchange.clock.now())


def _add_transition(action: str) -> None:
    def transition(agreement_id: IdPath, body: ReasonIn, caller: Caller,
                   exchange: ExchangeDep) -> AgreementOut:
        moved = exchange.agreements.transition(caller, agreement_id, action, body.reason)
        return AgreementOut.of(moved, exchange.clock.now())

    router.post(
        f"/v1/agreements/{{agreement_id}}/{action}",
        response_model=AgreementOut,
        name=f"{action}_agreement",
        summary=f"{action.capitalize()} an agreement (with a reason)",
    )(transition)


for _action in TRANSITIONS:
    _add_transition(_action)
