"""Consents over HTTP: a citizen grants, lists and withdraws them, each answered with a signed
Kantara receipt, and previews what an agreement resting on consent would release."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from onceonly.bootstrap import Exchange
from onceonly.domain.consent import Consent
from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas.common import MAX_AGREEMENT_ID
from onceonly.entrypoints.api.schemas.consents import ConsentIn, ConsentOut, PreviewOut, ReceiptOut
from onceonly.services.consents import Receipt

ConsentId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="a consent's id")]

router = APIRouter(tags=["consent"], route_class=JsonRoute)


def _receipt_out(exchange: Exchange, consent: Consent, receipt: Receipt,
                 grant_jws: str | None = None) -> ReceiptOut:
    withdrawn = consent.withdrawn_at is not None
    return ReceiptOut(
        consent=ConsentOut.of(consent, exchange.clock.now(),
                              grant_jws if withdrawn and grant_jws else receipt.jws,
                              receipt.jws if withdrawn else None),
        receipt=receipt.document, receipt_jws=receipt.jws)


@router.get("/v1/me/consents", response_model=list[ConsentOut])
def list_consents(caller: Caller, exchange: ExchangeDep) -> list[ConsentOut]:
    """The signed-in citizen's consents, newest first, with their receipts."""
    now = exchange.clock.now()
    return [ConsentOut.of(v.consent, now, v.grant_receipt, v.withdrawal_receipt)
            for v in exchange.consents.list(caller)]


@router.post("/v1/me/consents", status_code=201, response_model=ReceiptOut)
def grant_consent(body: ConsentIn, caller: Caller, exchange: ExchangeDep) -> ReceiptOut:
    """Consent to a purpose, for one organisation or any with an agreement for it, for
    named fields, until an expiry. Answered with a signed consent receipt."""
    consent, receipt = exchange.consents.grant(caller, body.purpose, body.consumer,
                                               list(body.fields), body.expires_at)
    return _receipt_out(exchange, consent, receipt)


@router.delete("/v1/me/consents/{consent_id}", response_model=ReceiptOut)
def withdraw_consent(consent_id: ConsentId, caller: Caller,
                     exchange: ExchangeDep) -> ReceiptOut:
    """Withdraw a consent: the very next query that needed it is refused. Answered with
    a signed receipt of the withdrawal."""
    consent, receipt = exchange.consents.withdraw(caller, consent_id)
    grant = next((v.grant_receipt for v in exchange.consents.list(caller)
                  if v.consent.id == consent.id), None)
    return _receipt_out(exchange, consent, receipt, grant)


@router.get("/v1/me/consents/preview", response_model=PreviewOut)
def preview_consent(caller: Caller, exchange: ExchangeDep, agreement_id: Annotated[int, Query(
        gt=0, le=MAX_AGREEMENT_ID, description="an agreement resting on consent")]
                    ) -> PreviewOut:
    """Exactly which values the agreement would release about you, before you consent."""
    preview = exchange.consents.preview(caller, agreement_id)
    a = preview.agreement
    assert a.id is not None
    return PreviewOut(agreement_id=a.id, consumer=a.consumer_id, provider=a.provider_id,
                      purpose=a.purpose_code, purpose_text=a.purpose_text,
                      data=preview.data, sources=preview.sources)
