"""The manager's figures: policy decisions over time, by outcome, reason and agreement,
from the audit log (every decision of every server process is there)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from onceonly.domain.organisations import Principal, Role
from onceonly.services.auth import require_role
from onceonly.services.ports import Clock, DecisionLog, UnitOfWorkFactory

MAX_DECISIONS = 200_000  # the most a dashboard reads at once


@dataclass
class DecisionFigures:
    since: datetime
    buckets: list[datetime]  # the start of each hour
    permits: list[int]
    refusals: list[int]
    by_reason: Counter[str] = field(default_factory=Counter)
    by_agreement: dict[int, Counter[str]] = field(default_factory=dict)  # outcome -> count
    truncated: bool = False


class DashboardService:
    def __init__(self, decisions: DecisionLog, uows: UnitOfWorkFactory, clock: Clock) -> None:
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
