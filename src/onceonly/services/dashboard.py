"""The manager's figures: policy decisions over time, by outcome, reason and agreement,
from the audit log (every decision of every server process is there); and tell-us-once
delivery times and outcomes by receiving organisation, from the delivery outbox."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from onceonly.domain.organisations import Principal, Role
from onceonly.services.auth import require_role
from onceonly.services.ports.audit import AuditUnitOfWork
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.dashboard import DecisionLog, DeliveryTimes
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory

MAX_DECISIONS = 200_000  # the most a dashboard reads at once
MAX_DELIVERIES = 200_000  # the most timed at once (all are counted)
DELIVERY_STATUSES = ("pending", "delivered", "failed")


@dataclass
class DecisionFigures:
    since: datetime
    buckets: list[datetime]  # the start of each hour
    permits: list[int]
    refusals: list[int]
    by_reason: Counter[str] = field(default_factory=Counter)
    by_agreement: dict[int, Counter[str]] = field(default_factory=dict)  # outcome -> count
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class ReceiverDeliveries:
    """One receiving organisation's deliveries: counts by status, and the time from report
    to delivery (seconds) of those delivered."""

    receiver_id: str
    counts: dict[str, int]  # by status
    p50_seconds: float | None
    p99_seconds: float | None


@dataclass(frozen=True, slots=True)
class DeliveryFigures:
    since: datetime
    receivers: list[ReceiverDeliveries]
    truncated: bool = False


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least `fraction` of all at or below it."""
    return sorted_values[max(math.ceil(fraction * len(sorted_values)) - 1, 0)]


def delivery_figures(times: DeliveryTimes, since: datetime) -> DeliveryFigures:
    receivers = []
    for receiver_id in sorted({r for r, _ in times.counts} | set(times.seconds)):
        seconds = sorted(times.seconds.get(receiver_id, []))
        receivers.append(ReceiverDeliveries(
            receiver_id, {s: times.counts.get((receiver_id, s), 0) for s in DELIVERY_STATUSES},
            percentile(seconds, 0.5) if seconds else None,
            percentile(seconds, 0.99) if seconds else None))
    return DeliveryFigures(since, receivers, times.truncated)


class DashboardService:
    def __init__(self, decisions: DecisionLog, uows: UnitOfWorkFactory[AuditUnitOfWork],
                 clock: Clock) -> None:
        self.decisions = decisions
        self.uows = uows
        self.clock = clock

    def decision_figures(self, manager: Principal, hours: int = 24) -> DecisionFigures:
        require_role(self.uows, self.clock, manager, {Role.MANAGER, Role.ADMIN},
                     "dashboard.read")
        now = self.clock.now()
        first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
        buckets = [first + timedelta(hours=h) for h in range(hours)]
        figures = DecisionFigures(first, buckets, [0] * hours, [0] * hours)
        rows = self.decisions.decisions_since(first, MAX_DECISIONS + 1)
        figures.truncated = len(rows) > MAX_DECISIONS
        for decision in rows[:MAX_DECISIONS]:
            slot = min(int((decision.at - first) / timedelta(hours=1)), hours - 1)
            outcome = "permit" if decision.outcome == "permit" else "deny"
            (figures.permits if outcome == "permit" else figures.refusals)[slot] += 1
            if outcome == "deny":
                figures.by_reason[decision.reason or "unknown"] += 1
            if decision.agreement_id is not None:
                figures.by_agreement.setdefault(decision.agreement_id, Counter())[outcome] += 1
        return figures

    def delivery_figures(self, manager: Principal, hours: int = 24) -> DeliveryFigures:
        require_role(self.uows, self.clock, manager, {Role.MANAGER, Role.ADMIN},
                     "dashboard.read")
        return self.current_delivery_figures(hours)

    def current_delivery_figures(self, hours: int = 24) -> DeliveryFigures:
        """Unchecked: for /metrics, which checks its caller itself."""
        since = self.clock.now() - timedelta(hours=hours)
        return delivery_figures(self.decisions.delivery_times_since(since, MAX_DELIVERIES),
                                since)
