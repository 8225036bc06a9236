"""The managers' dashboard: decisions and delivery times, read from the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One policy decision on a query, as the audit log records it (the decision itself is
    domain.policy.Decision)."""

    at: datetime
    agreement_id: int | None
    outcome: str  # permit or deny
    reason: str | None


@dataclass(frozen=True, slots=True)
class DeliveryTimes:
    """Tell-us-once deliveries created in a window: how many, by receiver and status; and
    the seconds from report to delivery of each one delivered, by receiver."""

    counts: dict[tuple[str, str], int]
    seconds: dict[str, list[float]]
    truncated: bool = False  # more were delivered than the limit: the latest are timed


class DecisionLog(Protocol):
    def decisions_since(self, since: datetime, limit: int) -> list[DecisionRecord]:
        """Query decisions at or after `since`, oldest first, at most `limit`."""
        ...
    def delivery_times_since(self, since: datetime, limit: int) -> DeliveryTimes:
        """Deliveries created at or after `since`: all counted, at most `limit` timed."""
        ...
