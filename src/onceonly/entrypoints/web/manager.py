"""The manager's portal: the service's figures. Policy decisions over the last day (from the
audit log, every server process's), those since this process started (its /metrics
counters), and tell-us-once delivery times and outcomes by receiving organisation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from prometheus_client import CollectorRegistry

from onceonly.adapters.connectors.breaker import BreakerFigures
from onceonly.domain.organisations import Role
from onceonly.entrypoints.web.i18n import UK_TIME
from onceonly.entrypoints.web.portal import Portal
from onceonly.services.agreements import AgreementService
from onceonly.services.dashboard import DashboardService, DecisionFigures, DeliveryFigures

MANAGER = {Role.MANAGER, Role.ADMIN}


class ManagerPages:
    def __init__(self, portal: Portal, dashboard: DashboardService,
                 registry: CollectorRegistry,
                 agreements: AgreementService,
                 breakers: Callable[[], list[BreakerFigures]] = list) -> None:
        self.portal = portal
        self.dashboard = dashboard
        self.agreements = agreements  # to name each agreement by its purpose
        self.registry = registry
        self.breakers = breakers  # each provider host's circuit breaker, in this process

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        router.add_api_route("/manager", self.dashboard_page, methods=["GET"])
        return router

    def dashboard_page(self, request: Request) -> HTMLResponse:
        manager = self.portal.signed_in(request, MANAGER)
        figures = self.dashboard.decision_figures(manager)
        # Tell-us-once deliveries: the figures /metrics exposes (DeliveryCollector).
        deliveries = self.dashboard.delivery_figures(manager)
        purposes = {a.id: a.purpose_text for a in self.agreements.list(manager)}
        return self.portal.render(request, "manager/dashboard.html", figures=figures,
                                  chart=chart_data(figures, deliveries, purposes),
                                  since_start=decision_counters(self.registry),
                                  deliveries=deliveries, breakers=self.breakers())


def chart_data(figures: DecisionFigures, deliveries: DeliveryFigures,
               purposes: dict[int, str]) -> dict[str, Any]:
    """What the page's charts draw (dashboard.js reads it as JSON): hours in UK time, and
    each agreement by its purpose in words (its reference beside it)."""
    return {
        "hours": [b.astimezone(UK_TIME).strftime("%H:00") for b in figures.buckets],
        "permits": figures.permits,
        "refusals": figures.refusals,
        "reasons": dict(figures.by_reason.most_common()),
        "agreements": {str(k): dict(v) for k, v in sorted(figures.by_agreement.items())},
        "purposes": {str(k): purposes.get(k, "") for k in sorted(figures.by_agreement)},
        "deliveries": {r.receiver_id: {"p50": r.p50_seconds, "p99": r.p99_seconds, **r.counts}
                       for r in deliveries.receivers},
    }


def decision_counters(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    """onceonly_decisions_total by (outcome, reason), exactly as /metrics shows it."""
    counts: dict[tuple[str, str], float] = {}
    for family in registry.collect():  # the request figures only: nothing read from the database
        if family.name != "onceonly_decisions":
            continue
        for sample in family.samples:
            if sample.name == "onceonly_decisions_total":
                key = (sample.labels["outcome"], sample.labels["reason"])
                counts[key] = sample.value
    return counts
