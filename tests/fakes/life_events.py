"""Tell us once's store: for now its delivery outbox (what delivery workers claim and
settle, as adapters/db/life_events.py does), and the endpoints deliveries go to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from onceonly.domain.life_events import Delivery, DeliveryStatus
from onceonly.services.ports.delivery import Claim
from tests.fakes.data import FakeData


class FakeLifeEvents:
    def __init__(self, data: FakeData) -> None:
        self.data = data

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
