"""Tell-us-once delivery over HTTP: an organisation takes its notifications from an inbox or
at a webhook, and its guardian sees and retries those that failed every attempt."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Response

from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas.common import UuidPath
from onceonly.entrypoints.api.schemas.delivery import DeliveryOut, EndpointIn, InboxItemOut

Listed = Annotated[int, Query(ge=1, le=500)]

router = APIRouter(tags=["tell us once"], route_class=JsonRoute)


@router.get("/v1/inbox", response_model=list[InboxItemOut])
def inbox(caller: Caller, exchange: ExchangeDep, limit: Listed = 100) -> list[InboxItemOut]:
    """Notifications waiting for your organisation; acknowledge each once applied."""
    return [InboxItemOut(delivery_id=d.id, attempts=d.attempts, event=json.loads(body))
            for d, body in exchange.life_events.inbox(caller, limit)]


@router.post("/v1/inbox/{delivery_id}/ack", response_model=DeliveryOut)
def acknowledge(delivery_id: UuidPath, caller: Caller, exchange: ExchangeDep) -> DeliveryOut:
    return DeliveryOut.of(exchange.life_events.acknowledge(caller, delivery_id))


@router.get("/v1/dead-letters", response_model=list[DeliveryOut])
def dead_letters(caller: Caller, exchange: ExchangeDep,
                 limit: Listed = 100) -> list[DeliveryOut]:
    """Deliveries to your organisation that failed every attempt (a guardian)."""
    return [DeliveryOut.of(d) for d in exchange.life_events.dead_letters(caller, limit)]


@router.post("/v1/deliveries/{delivery_id}/redeliver", response_model=DeliveryOut)
def redeliver(delivery_id: UuidPath, caller: Caller, exchange: ExchangeDep) -> DeliveryOut:
    """Try a dead-lettered delivery again (a guardian of the receiving organisation)."""
    return DeliveryOut.of(exchange.life_events.redeliver(caller, delivery_id))


@router.put("/v1/notification-endpoint", status_code=204)
def set_endpoint(body: EndpointIn, caller: Caller, exchange: ExchangeDep) -> Response:
    """Take notifications at this webhook (a guardian of the organisation)."""
    exchange.life_events.set_endpoint(caller, body.url)
    return Response(status_code=204)


@router.delete("/v1/notification-endpoint", status_code=204)
def clear_endpoint(caller: Caller, exchange: ExchangeDep) -> Response:
    """Take notifications from the inbox instead."""
    exchange.life_events.set_endpoint(caller, None)
    return Response(status_code=204)
