"""Accuracy challenges: raised by a citizen, decided by the provider's guardian; and the
correction notices consumers are sent."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt

from onceonly.domain.accuracy import MAX_TEXT_VALUE, Challenge
from onceonly.entrypoints.api.schemas.common import (
    MAX_LIST_ITEMS,
    AsWhole,
    DatasetId,
    FieldName,
    Said,
    Strict,
    Text,
)


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
    def of(cls, c: Challenge) -> ChallengeOut:
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
