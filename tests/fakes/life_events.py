"""Tell us once's store: registers and their subscriptions, reports, and the delivery
outbox (claimed and settled as adapters/db/life_events.py does)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from onceonly.domain.agreements import Agreement, AgreementKind
from onceonly.domain.catalogue import Dataset
from onceonly.domain.life_events import Delivery, DeliveryStatus, Report
from onceonly.services.ports.delivery import Claim
from tests.fakes.data import FakeData


class FakeLifeEvents:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def register(self, event_type: str) -> Dataset | None:
        return next((d for d in self.data.datasets.values() if d.event_type == event_type),
                    None)

    def subscriptions(self, dataset_id: str) -> list[Agreement]:
        return sorted((a for a in self.data.agreements.values()
                       if a.dataset_id == dataset_id and a.kind is AgreementKind.NOTIFICATION),
                      key=lambda a: (a.consumer_id, a.id or 0))

    def schemes_of(self, org_ids: Sequence[str]) -> dict[str, list[str]]:
        return {org: sorted(s for o, s in self.data.org_schemes if o == org) for org in org_ids}

    def set_endpoint(self, org_id: str, url: str | None, by: str, at: datetime) -> None:
        if url is None:
            self.data.endpoints.pop(org_id, None)
        else:
            self.data.endpoints[org_id] = url

    def report_by_event(self, source: str, event_id: str) -> Report | None:
        return next((r for r, _ in self.data.reports.values()
                     if (r.source, r.event_id) == (source, event_id)), None)

    def add_report(self, report: Report, sealed_event: Any,
                   deliveries: Sequence[tuple[Delivery, Any]],
                   claim_token: str | None = None) -> bool:
        # claim_token: no worker listens beside these fakes, so none is ever given
        assert claim_token is None
        if self.report_by_event(report.source, report.event_id) is not None:
            return False
        self.data.reports[report.id] = (report, sealed_event)
        for delivery, sealed in deliveries:
            self.add_delivery(delivery, sealed)
        return True

    def report(self, report_id: str) -> Report | None:
        found = self.data.reports.get(report_id)
        return found[0] if found else None

    def reports_about(self, person_key: str) -> list[Report]:
        return sorted((r for r, _ in self.data.reports.values()
                       if person_key in (r.person_key, r.informant_key)),
                      key=lambda r: r.received_at, reverse=True)

    def deliveries_of(self, report_ids: Sequence[str]) -> list[Delivery]:
        return sorted((d for d in self.data.deliveries.values() if d.report_id in report_ids),
                      key=lambda d: (d.report_id, d.receiver_id))

    def delivery(self, delivery_id: str) -> Delivery | None:
        return self.data.deliveries.get(delivery_id)

    def failed_for(self, org_id: str, limit: int) -> list[Delivery]:
        return sorted((d for d in self.data.deliveries.values()
                       if d.receiver_id == org_id and d.status is DeliveryStatus.FAILED),
                      key=lambda d: d.created_at, reverse=True)[:limit]

    def inbox(self, org_id: str, limit: int) -> list[tuple[Delivery, Any]]:
        waiting = sorted((d for d in self.data.deliveries.values()
                          if d.receiver_id == org_id and d.mode == "inbox"
                          and d.status is DeliveryStatus.PENDING),
                         key=lambda d: (d.created_at, d.id))[:limit]
        return [(d, self.data.sealed[d.id]) for d in waiting]

    def acknowledge(self, delivery_id: str, org_id: str, at: datetime) -> bool:
        found = self.data.deliveries.get(delivery_id)
        if found is None or found.receiver_id != org_id or found.mode != "inbox" \
                or found.status is not DeliveryStatus.PENDING:
            return False
        self.data.deliveries[delivery_id] = replace(
            found, status=DeliveryStatus.DELIVERED, delivered_at=at, attempts=found.attempts + 1)
        self.data.sealed[delivery_id] = None
        return True

    def add_delivery(self, delivery: Delivery, sealed: object) -> None:
        self.data.deliveries[delivery.id] = delivery
        self.data.sealed[delivery.id] = sealed

    def _due(self, now: datetime) -> list[Delivery]:
        return sorted((d for d in self.data.deliveries.values()
                       if d.status is DeliveryStatus.PENDING and d.mode == "webhook"
                       and d.next_attempt_at <= now), key=lambda d: d.next_attempt_at)

    def any_due(self, now: datetime) -> bool:
        return bool(self._due(now))

    def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[Claim]:
        token = uuid.uuid4().hex
        claims = []
        for due in self._due(now)[:limit]:
            taken = replace(due, attempts=due.attempts + 1, next_attempt_at=lease_until)
            self.data.deliveries[due.id] = taken
            self.data.claims[due.id] = token
            claims.append(Claim(taken, self.data.endpoints.get(due.receiver_id, ""),
                                self.data.sealed[due.id], token))
        return claims

    def settle(self, outcomes: Sequence[tuple[str, Delivery]]) -> set[str]:
        standing = set()
        for token, outcome in outcomes:
            stored = self.data.deliveries[outcome.id]
            if stored.status is DeliveryStatus.PENDING and self.data.claims.get(
                    outcome.id) == token:
                standing.add(outcome.id)
                self.data.deliveries[outcome.id] = outcome
                if outcome.status is DeliveryStatus.DELIVERED:  # no longer kept
                    self.data.sealed[outcome.id] = None
        return standing

    def requeue(self, delivery: Delivery) -> bool:
        if self.data.deliveries[delivery.id].status is not DeliveryStatus.FAILED:
            return False
        self.data.deliveries[delivery.id] = delivery
        return True

    def endpoints(self, org_ids: Sequence[str]) -> dict[str, str]:
        return {o: self.data.endpoints[o] for o in org_ids if o in self.data.endpoints}
