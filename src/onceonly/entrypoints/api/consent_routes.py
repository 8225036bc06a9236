"""Citizens in control over HTTP: consents (grant, list, withdraw, preview) with signed
Kantara receipts; accuracy challenges, the provider guardian's queue and decisions; and
each consumer's inbox of correction notices."""
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, Field, StrictBool, StrictInt, StrictStr

from onceonly.bootstrap import Exchange
from onceonly.domain.accuracy import MAX_TEXT_VALUE, Challenge
from onceonly.domain.consent import Consent
from onceonly.domain.organisations import ORG_ID_PATTERN
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas import (
    MAX_AGREEMENT_ID,
    AsWhole,
    DatasetId,
    FieldName,
    PurposeCode,
    ReasonIn,
    Said,
    Strict,
    Text,
)
from onceonly.services.consents import Receipt

ConsentId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="a consent's id")]
ChallengeId = Annotated[int, Path(gt=0, le=MAX_AGREEMENT_ID)]
MAX_LIST_ITEMS = 64


class ConsentIn(Strict):
    purpose: PurposeCode
    consumer: Annotated[StrictStr | None, Field(
        pattern=ORG_ID_PATTERN,
        description="the one organisation it is for; none: any organisation with an "
                    "agreement for the purpose")] = None
    fields: Annotated[list[FieldName], Field(min_length=1, max_length=MAX_LIST_ITEMS,
                                             description="fields as released (see preview)")]
    expires_at: AwareDatetime


class ConsentOut(BaseModel):
    id: str
    purpose: str
    consumer: str | None
    fields: list[str]
    granted_at: datetime
    expires_at: datetime
    withdrawn_at: datetime | None
    state: str = Field(description="live, expired or withdrawn")
    grant_receipt: str = Field(description="the grant's receipt, a compact JWS")
    withdrawal_receipt: str | None

    @classmethod
    def of(cls, c: Consent, now: datetime, grant_receipt: str,
           withdrawal_receipt: str | None) -> "ConsentOut":
        return cls(id=c.id, purpose=c.purpose, consumer=c.consumer_id, fields=list(c.fields),
                   granted_at=c.granted_at, expires_at=c.expires_at,
                   withdrawn_at=c.withdrawn_at, state=c.state_at(now),
                   grant_receipt=grant_receipt, withdrawal_receipt=withdrawal_receipt)


class ReceiptOut(BaseModel):
    consent: ConsentOut
    receipt: dict[str, Any] = Field(description="the Kantara Consent Receipt v1.1")
    receipt_jws: str = Field(description="the receipt signed by the exchange operator: a "
                                         "compact JWS (Ed25519), keys at "
                                         "/.well-known/jwks/GOV/EXCHANGE.json")


class PreviewOut(BaseModel):
    agreement_id: int
    consumer: str
    provider: str
    purpose: str
    purpose_text: str
    data: dict[str, Any] = Field(description="exactly what would be released, now")
    sources: dict[str, str]


class ChallengeIn(Strict):
    dataset_id: DatasetId
    field: FieldName
    what_is_wrong: Said
    proposed_value: Annotated[Text | None, Field(max_length=MAX_TEXT_VALUE)] = None


class ChallengeOut(BaseModel):
    id: int
    dataset_id: str
    provider: str
    field: str
    status: str
    raised_at: datetime
    what_is_wrong: str | None = Field(description="kept only while the challenge is open")
    proposed_value: str | None
    decided_at: datetime | None
    reason: str | None

    @classmethod
    def of(cls, c: Challenge) -> "ChallengeOut":
        assert c.id is not None
        return cls(id=c.id, dataset_id=c.dataset_id, provider=c.provider_id, field=c.field,
                   status=c.status.value, raised_at=c.raised_at, what_is_wrong=c.what_is_wrong,
                   proposed_value=c.proposed_value, decided_at=c.decided_at, reason=c.reason)


class QueueItemOut(ChallengeOut):
    subject: dict[str, str] | None = Field(
        description="your organisation's own identifier for the person")


CorrectedValue = (Annotated[Text, Field(min_length=1, max_length=MAX_TEXT_VALUE)]
                  | Annotated[StrictInt, Field(ge=-(2**31), le=2**31 - 1), AsWhole] | StrictBool
                  | Annotated[list[Annotated[Text, Field(max_length=100)]],
                              Field(max_length=MAX_LIST_ITEMS)])


class CorrectIn(Strict):
    value: CorrectedValue = Field(description="the corrected value, of the field's type "
                                              "(a date as YYYY-MM-DD)")
    reason: Said


class NotifiedOut(BaseModel):
    consumer: str
    agreement_id: int
    fields: list[str]
    releases: int


class CorrectionOut(BaseModel):
    challenge: ChallengeOut
    correction_id: int
    notified: list[NotifiedOut]


class NoticeOut(BaseModel):
    id: int
    correction_id: int
    agreement_id: int
    dataset_id: str
    field: str = Field(description="the field as released to you")
    source_field: str = Field(description="the provider's field that was corrected")
    release_ids: list[str] = Field(description="your releases that held the old value")
    created_at: datetime


def _receipt_out(exchange: Exchange, consent: Consent, receipt: Receipt,
                 grant_jws: str | None = None) -> ReceiptOut:
    withdrawn = consent.withdrawn_at is not None
    return ReceiptOut(
        consent=ConsentOut.of(consent, exchange.clock.now(),
                              grant_jws if withdrawn and grant_jws else receipt.jws,
                              receipt.jws if withdrawn else None),
        receipt=receipt.document, receipt_jws=receipt.jws)


def consent_router(exchange: Exchange, caller_type: Any) -> APIRouter:
    router = APIRouter(route_class=JsonRoute)
    consents, challenges = exchange.consents, exchange.challenges

    @router.get("/v1/me/consents", response_model=list[ConsentOut], tags=["consent"])
    def list_consents(caller: caller_type) -> list[ConsentOut]:
        """The signed-in citizen's consents, newest first, with their receipts."""
        now = exchange.clock.now()
        return [ConsentOut.of(v.consent, now, v.grant_receipt, v.withdrawal_receipt)
                for v in consents.list(caller)]

    @router.post("/v1/me/consents", status_code=201, response_model=ReceiptOut,
                 tags=["consent"])
    def grant_consent(body: ConsentIn, caller: caller_type) -> ReceiptOut:
        """Consent to a purpose, for one organisation or any with an agreement for it, for
        named fields, until an expiry. Answered with a signed consent receipt."""
        consent, receipt = consents.grant(caller, body.purpose, body.consumer,
                                          list(body.fields), body.expires_at)
        return _receipt_out(exchange, consent, receipt)

    @router.delete("/v1/me/consents/{consent_id}", response_model=ReceiptOut,
                   tags=["consent"])
    def withdraw_consent(consent_id: ConsentId, caller: caller_type) -> ReceiptOut:
        """Withdraw a consent: the very next query that needed it is refused. Answered with
        a signed receipt of the withdrawal."""
        consent, receipt = consents.withdraw(caller, consent_id)
        grant = next((v.grant_receipt for v in consents.list(caller)
                      if v.consent.id == consent.id), None)
        return _receipt_out(exchange, consent, receipt, grant)

    @router.get("/v1/me/consents/preview", response_model=PreviewOut, tags=["consent"])
    def preview_consent(caller: caller_type, agreement_id: Annotated[int, Query(
            gt=0, le=MAX_AGREEMENT_ID, description="an agreement resting on consent")]
                        ) -> PreviewOut:
        """Exactly which values the agreement would release about you, before you consent."""
        preview = consents.preview(caller, agreement_id)
        a = preview.agreement
        assert a.id is not None
        return PreviewOut(agreement_id=a.id, consumer=a.consumer_id, provider=a.provider_id,
                          purpose=a.purpose_code, purpose_text=a.purpose_text,
                          data=preview.data, sources=preview.sources)

    @router.post("/v1/me/challenges", status_code=201, response_model=ChallengeOut,
                 tags=["accuracy"])
    def raise_challenge(body: ChallengeIn, caller: caller_type) -> ChallengeOut:
        """Challenge a value a provider holds about you; its guardian decides."""
        return ChallengeOut.of(challenges.raise_challenge(
            caller, body.dataset_id, body.field, body.what_is_wrong, body.proposed_value))

    @router.get("/v1/me/challenges", response_model=list[ChallengeOut], tags=["accuracy"])
    def my_challenges(caller: caller_type) -> list[ChallengeOut]:
        return [ChallengeOut.of(c) for c in challenges.mine(caller)]

    @router.get("/v1/challenges", response_model=list[QueueItemOut], tags=["accuracy"])
    def challenge_queue(caller: caller_type) -> list[QueueItemOut]:
        """Challenges about your organisation's data, newest first (a guardian)."""
        return [QueueItemOut(**ChallengeOut.of(i.challenge).model_dump(), subject=i.subject)
                for i in challenges.queue(caller)]

    @router.post("/v1/challenges/{challenge_id}/correct", response_model=CorrectionOut,
                 tags=["accuracy"])
    def correct(challenge_id: ChallengeId, body: CorrectIn,
                caller: caller_type) -> CorrectionOut:
        """Correct the record in your organisation's own store; everyone who received the
        old value and may still keep it is told."""
        done = challenges.correct(caller, challenge_id, body.value, body.reason)
        return CorrectionOut(
            challenge=ChallengeOut.of(done.challenge), correction_id=done.correction_id,
            notified=[NotifiedOut(consumer=r.consumer_id, agreement_id=r.agreement_id,
                                  fields=list(r.fields), releases=len(r.release_ids))
                      for r in done.notified])

    @router.post("/v1/challenges/{challenge_id}/reject", response_model=ChallengeOut,
                 tags=["accuracy"])
    def reject(challenge_id: ChallengeId, body: ReasonIn, caller: caller_type) -> ChallengeOut:
        return ChallengeOut.of(challenges.reject(caller, challenge_id, body.reason))

    @router.get("/v1/correction-notices", response_model=list[NoticeOut], tags=["accuracy"])
    def correction_notices(caller: caller_type) -> list[NoticeOut]:
        """Corrections of values your organisation received, newest first."""
        return [NoticeOut(**n) for n in challenges.notices(caller)]

    return router
