"""The kill switch: pulled by a provider's guardian, restored by one."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from onceonly.domain.kill_switch import KillSwitch
from onceonly.entrypoints.api.schemas.common import OrgId, Said, Strict


class KillSwitchIn(Strict):
    consumer: OrgId
    reason: Said


class KillSwitchOut(BaseModel):
    id: int
    provider: str
    consumer: str
    agreements: list[int] = Field(description="the agreements it suspended")
    pulled_by: str
    pulled_at: datetime
    reason: str
    restored_by: str | None
    restored_at: datetime | None
    restore_reason: str | None

    @classmethod
    def of(cls, switch: KillSwitch) -> KillSwitchOut:
        assert switch.id is not None
        return cls(id=switch.id, provider=switch.provider_id, consumer=switch.consumer_id,
                   agreements=list(switch.agreement_ids), pulled_by=switch.pulled_by,
                   pulled_at=switch.pulled_at, reason=switch.reason,
                   restored_by=switch.restored_by, restored_at=switch.restored_at,
                   restore_reason=switch.restore_reason)
