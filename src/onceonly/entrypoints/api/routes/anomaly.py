"""Anomalies over HTTP: the alerts about a provider's data and its guardian's decisions on
them; the thresholds a provider's guardian sets for its own agreements with a consumer (the
operator's own, for every provider, are set with `onceonly anomaly rule`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas.anomaly import (
    AlertOut,
    AnomalyRuleIn,
    AnomalyRuleOut,
    AnomalyRulesOut,
)
from onceonly.entrypoints.api.schemas.common import IdPath, OrgId, ReasonIn
from onceonly.services.anomaly import RESOLUTIONS

router = APIRouter(tags=["constraints"], route_class=JsonRoute)


@router.get("/v1/alerts", response_model=list[AlertOut])
def list_alerts(caller: Caller, exchange: ExchangeDep) -> list[AlertOut]:
    """Anomaly alerts about the caller's organisation's data, newest first (guardians)."""
    return [AlertOut.of(a) for a in exchange.anomaly.alerts(caller)]


def _add_resolution(action: str) -> None:
    def resolve(alert_id: IdPath, body: ReasonIn, caller: Caller,
                exchange: ExchangeDep) -> AlertOut:
        return AlertOut.of(exchange.anomaly.resolve(caller, alert_id, action, body.reason))

    router.post(f"/v1/alerts/{{alert_id}}/{action}", response_model=AlertOut,
                name=f"{action}_after_alert",
                summary=f"{action.capitalize()} the agreement an anomaly alert suspended",
                )(resolve)


for _action in RESOLUTIONS:
    _add_resolution(_action)


@router.get("/v1/anomaly-rules", response_model=AnomalyRulesOut)
def rules(consumer: Annotated[OrgId, Query()], caller: Caller,
          exchange: ExchangeDep) -> AnomalyRulesOut:
    """The thresholds that apply to the consumer's agreements with the caller's
    organisation (a guardian of the provider)."""
    own, officers = exchange.anomaly.guardian_rules(caller, consumer)
    return AnomalyRulesOut(
        consumer=consumer, provider=caller.org_id,
        rules=[AnomalyRuleOut.of(r) for r in own.values()],
        officers={officer: [AnomalyRuleOut.of(r) for r in theirs.values()]
                  for officer, theirs in officers.items()})


@router.put("/v1/anomaly-rules", response_model=AnomalyRuleOut)
def set_rule(body: AnomalyRuleIn, caller: Caller, exchange: ExchangeDep) -> AnomalyRuleOut:
    """Set one threshold for the consumer (or one officer of it) on the caller's
    organisation's agreements only; it wins there over the operator's."""
    return AnomalyRuleOut.of(exchange.anomaly.set_guardian_rule(
        caller, body.consumer, body.officer, body.kind.value, body.threshold,
        body.window_seconds))
