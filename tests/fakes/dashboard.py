"""The decisions and delivery times the dashboard reads, as the test sets them."""

from __future__ import annotations

from datetime import datetime

from onceonly.services.ports.dashboard import DecisionRecord, DeliveryTimes


class FakeDecisionLog:
    def __init__(self, decisions: list[DecisionRecord] | None = None,
                 times: DeliveryTimes | None = None) -> None:
        self.decisions = decisions or []
        self.times = times or DeliveryTimes({}, {})

    def decisions_since(self, since: datetime, limit: int) -> list[DecisionRecord]:
        return sorted((d for d in self.decisions if d.at >= since), key=lambda d: d.at)[:limit]

    def delivery_times_since(self, since: datetime, limit: int) -> DeliveryTimes:
        return self.times
