"""Anomaly alerts and the thresholds a provider's guardian sets for them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictInt, StrictStr

from onceonly.domain.anomaly import MAX_WINDOW, Alert, Rule, RuleKind
from onceonly.entrypoints.api.schemas.common import AsWhole, OrgId, Strict


class AlertOut(BaseModel):
    id: int
    at: datetime
    provider: str
    consumer: str
    agreement_id: int
    officer: str | None = Field(description="the officer whose pattern fired, if one did")
    suspended: str = Field(description="what was suspended: 'officer' (that officer, from "
                                       "the provider's data) or 'agreement'")
    rule: str
    evidence: dict[str, Any]
    status: str = Field(description="open, resumed or revoked")
    resolved_by: str | None
    resolved_at: datetime | None
    resolution: str | None

    @classmethod
    def of(cls, alert: Alert) -> AlertOut:
        return cls(id=alert.id, at=alert.at, provider=alert.provider_id,
                   consumer=alert.consumer_id, agreement_id=alert.agreement_id,
                   officer=alert.officer_id, suspended=alert.suspended, rule=alert.rule,
                   evidence=alert.evidence,
                   status=alert.status, resolved_by=alert.resolved_by,
                   resolved_at=alert.resolved_at, resolution=alert.resolution)


PrincipalId = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$",
                                         description="an officer of the consumer")]


class AnomalyRuleIn(Strict):
    consumer: OrgId
    officer: PrincipalId | None = Field(
        default=None, description="only this officer of the consumer; else the consumer's")
    kind: RuleKind
    threshold: Annotated[StrictInt, Field(
        ge=2, le=10**9, description="a finding once the count reaches it"), AsWhole]
    window_seconds: Annotated[StrictInt, Field(
        ge=1, le=int(MAX_WINDOW.total_seconds())), AsWhole]


class AnomalyRuleOut(BaseModel):
    kind: str
    threshold: int
    window_seconds: int

    @classmethod
    def of(cls, configured: Rule) -> AnomalyRuleOut:
        return cls(kind=configured.kind.value, threshold=configured.threshold,
                   window_seconds=int(configured.window.total_seconds()))


class AnomalyRulesOut(BaseModel):
    consumer: str
    provider: str
    rules: list[AnomalyRuleOut] = Field(description="the consumer's, as they apply here")
    officers: dict[str, list[AnomalyRuleOut]] = Field(
        description="officers with thresholds of their own")
