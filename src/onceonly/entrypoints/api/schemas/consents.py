"""Consents: granting one for named fields, each with its signed Kantara receipt, and a
preview of what it would release."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, Field, StrictStr

from onceonly.domain.consent import Consent
from onceonly.domain.organisations import ORG_ID_PATTERN
from onceonly.entrypoints.api.schemas.common import MAX_LIST_ITEMS, FieldName, PurposeCode, Strict


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
           withdrawal_receipt: str | None) -> ConsentOut:
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
