"""A governed query and the release it is answered with."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictInt

from onceonly.entrypoints.api.schemas.common import (
    MAX_AGREEMENT_ID,
    AsWhole,
    FieldName,
    PurposeCode,
    Strict,
    SubjectIn,
)


class QueryIn(Strict):
    agreement_id: Annotated[StrictInt, Field(gt=0, le=MAX_AGREEMENT_ID), AsWhole]
    subject: SubjectIn
    fields: Annotated[list[FieldName], Field(min_length=1, max_length=64)]
    purpose: PurposeCode


class ReleaseOut(BaseModel):
    release_id: str
    agreement_id: int
    subject: SubjectIn
    data: dict[str, Any]
    sources: dict[str, str] = Field(
        description="each field's source label: verified, citizen-supplied or derived")
    released_at: datetime
