"""Anomaly thresholds over HTTP, set by a provider's guardian for its own agreements with a
consumer (the operator's own, for every provider, are set with `onceonly anomaly rule`)."""
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StrictInt, StrictStr

from onceonly.bootstrap import Exchange
from onceonly.domain.anomaly import MAX_WINDOW, Rule, RuleKind
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas import AsWhole, OrgId, Strict

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
    def of(cls, configured: Rule) -> "AnomalyRuleOut":
        return cls(kind=configured.kind.value, threshold=configured.threshold,
                   window_seconds=int(configured.window.total_seconds()))


class AnomalyRulesOut(BaseModel):
    consumer: str
    provider: str
    rules: list[AnomalyRuleOut] = Field(description="the consumer's, as they apply here")
    officers: dict[str, list[AnomalyRuleOut]] = Field(
        description="officers with thresholds of their own")


def anomaly_router(exchange: Exchange, caller_type: Any) -> APIRouter:
    router = APIRouter(tags=["constraints"], route_class=JsonRoute)
    service = exchange.anomalies

    @router.get("/v1/anomaly-rules", response_model=AnomalyRulesOut)
    def rules(consumer: Annotated[OrgId, Query()], caller: caller_type) -> AnomalyRulesOut:
        """The thresholds that apply to the consumer's agreements with the caller's
        organisation (a guardian of the provider)."""
        own, officers = service.guardian_rules(caller, consumer)
        return AnomalyRulesOut(
            consumer=consumer, provider=caller.org_id,
            rules=[AnomalyRuleOut.of(r) for r in own.values()],
            officers={officer: [AnomalyRuleOut.of(r) for r in theirs.values()]
                      for officer, theirs in officers.items()})

    @router.put("/v1/anomaly-rules", response_model=AnomalyRuleOut)
    def set_rule(body: AnomalyRuleIn, caller: caller_type) -> AnomalyRuleOut:
        """Set one threshold for the consumer (or one officer of it) on the caller's
        organisation's agreements only; it wins there over the operator's."""
        return AnomalyRuleOut.of(service.set_guardian_rule(
            caller, body.consumer, body.officer, body.kind.value, body.threshold,
            body.window_seconds))

    return router
