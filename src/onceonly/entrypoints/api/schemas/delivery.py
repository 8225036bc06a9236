"""Tell-us-once deliveries: how each stands, the inbox, and the webhook to take them at."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictStr

from onceonly.domain.life_events import Delivery
from onceonly.entrypoints.api.schemas.common import Strict


class DeliveryOut(BaseModel):
    delivery_id: str
    organisation: str
    status: str = Field(description="pending, delivered or failed (dead-lettered)")
    mode: str = Field(description="webhook or inbox")
    attempts: int
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(delivery_id=d.id, organisation=d.receiver_id, status=d.status.value,
                   mode=d.mode, attempts=d.attempts, created_at=d.created_at,
                   delivered_at=d.delivered_at,
                   next_attempt_at=d.next_attempt_at if d.status.value == "pending" else None,
                   last_error=d.last_error)


class InboxItemOut(BaseModel):
    delivery_id: str
    attempts: int
    event: dict[str, Any] = Field(description=(
        "the notification, a CloudEvent 1.0; its extension attributes: `reportid`, "
        "`agreementid` and, when a citizen caused it, `language` (`en` or `cy`): the "
        "language to answer that citizen in"))


class EndpointIn(Strict):
    url: Annotated[StrictStr, Field(min_length=8, max_length=2000,
                                    examples=["https://notify.dvla.example/onceonly"])]
