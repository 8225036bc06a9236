"""Running the exchange: readiness for load balancers and figures for Prometheus."""

from __future__ import annotations

from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from onceonly.bootstrap import Exchange
from onceonly.domain.organisations import Role
from onceonly.entrypoints.api.audit_metrics import AuditCollector
from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.connector_metrics import BreakerCollector
from onceonly.entrypoints.api.delivery_metrics import DeliveryCollector
from onceonly.entrypoints.api.json_bodies import JsonRoute

router = APIRouter(tags=["operations"], route_class=JsonRoute)


def exposition(exchange: Exchange, figures: CollectorRegistry) -> CollectorRegistry:
    """What a scrape shows: every worker's request figures, the exchange's own (read from the
    database, so each once), and this process's."""
    shown = CollectorRegistry()
    for collector in (figures, DeliveryCollector(exchange.dashboard),
                      AuditCollector(exchange.audit, exchange.timestamps),
                      BreakerCollector(exchange.connectors.breakers),
                      ProcessCollector(registry=None),
                      PlatformCollector(registry=None)):
        shown.register(collector)
    return shown


@router.get("/livez")
async def livez() -> dict[str, str]:
    """Alive: the process answers (nothing else is asked, so a database that is away does
    not get the server restarted; readiness is /readyz)."""
    return {"status": "alive"}


@router.get("/readyz")
def readyz(exchange: ExchangeDep) -> dict[str, Any]:
    """Ready to serve: the database answers and is migrated to this server's schema, the
    operator can sign tree heads, and the keys decrypt; else 503 with why
    (`database_unavailable`, `database_busy`, `database_not_migrated`, `exchange_not_initialised`,
    `master_key_unavailable`, `key_undecryptable`). With timestamping authorities or
    witnesses configured, the signed heads waiting for them are shown too (how many, and
    the oldest's wait in seconds); they never make the server unready, as the exchange
    serves on while an authority or a witness is away."""
    exchange.health.check()
    ready: dict[str, Any] = {"status": "ok"}
    for evidence, service in (("timestamps", exchange.timestamps),
                              ("witnesses", exchange.witnesses)):
        if service.configured:
            waiting = service.backlog()
            ready[evidence] = {"heads_waiting": waiting.count,
                               "oldest_waiting_seconds": waiting.oldest_age_seconds}
    return ready


@router.get("/healthz")
def healthz(exchange: ExchangeDep) -> dict[str, Any]:
    """Readiness, as /readyz (kept for the probes that use this name)."""
    return readyz(exchange)


@router.get("/metrics", response_class=Response)
def prometheus(caller: Caller, exchange: ExchangeDep, request: Request) -> Response:
    exchange.auth.require_role(caller, {Role.MANAGER, Role.ADMIN}, "metrics.read")
    shown = cast(CollectorRegistry, request.app.state.exposition)
    return Response(generate_latest(shown), media_type=CONTENT_TYPE_LATEST)
