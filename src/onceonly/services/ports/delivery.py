"""Delivering tell-us-once notifications: the outbox workers claim from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from onceonly.domain.life_events import Delivery
from onceonly.services.ports.agreements import AgreementRepository
from onceonly.services.ports.anomaly import Alerts
from onceonly.services.ports.audit import AuditUnitOfWork


@dataclass(frozen=True, slots=True)
class Claim:
    """A webhook delivery a worker has taken, until its lease ends."""

    delivery: Delivery
    url: str
    sealed: Any  # the notification CloudEvent, sealed
    token: str  # this claim's own: its outcome is written only while the row still carries it


@dataclass(frozen=True, slots=True)
class Opened:
    """A delivery claimed at its report's intake, with its notification still open (the
    CloudEvent's bytes): handed to a worker of the same process to sign and send at once."""

    claim: Claim
    body: bytes


class DeliveryOutbox(Protocol):
    """The webhook deliveries due, as workers take them and write their outcomes."""

    def any_due(self, now: datetime) -> bool:
        """Whether a webhook delivery is due: a read, cheap enough to poll often."""
        ...
    def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[Claim]:
        """Take due webhook deliveries (no two workers take the same one), counting the
        attempt, hiding them until `lease_until` and marking them with a new claim token."""
        ...
    def settle(self, outcomes: Sequence[tuple[str, Delivery]]) -> set[str]:
        """Write deliveries' outcomes (status, attempts, mode, next attempt, error), each
        given with its claim's token, only where that claim still stands: the delivery is
        pending and carries the token. A worker that stalled past its lease finds another's
        claim or outcome there and writes nothing. The ids of the deliveries written."""
        ...


class Doorbell(Protocol):
    """How a worker learns at once that deliveries were queued, rather than at its next poll
    of the outbox. Only a hint: a worker that is not woken still finds them by polling."""

    def ring(self) -> None:
        """Deliveries were queued and committed: wake every listening worker."""
        ...
    def listen(self) -> DoorbellListener:
        """A worker's own ear, made on the worker's event loop."""
        ...
    def has_worker(self) -> bool:
        """Whether a worker of this process listens now: deliveries may then be claimed at
        a report's intake and handed to it."""
        ...
    def hand_over(self, batch: Sequence[Opened]) -> bool:
        """Give deliveries claimed at a report's intake (committed and durable) to one
        listening worker of this process to send at once. False when none took them: their
        claims then wait out their lease and are taken again, as a dead worker's are."""
        ...


class DoorbellListener(Protocol):
    async def wait(self, seconds: float) -> bool:
        """Return once rung since the last wait returned (True), or after `seconds`
        (False). A hand-over also ends the wait, without counting as a ring."""
        ...
    def handed(self) -> list[Opened]:
        """What was handed to this worker since it last asked."""
        ...
    def close(self) -> None: ...


class DeliveryUnitOfWork(AuditUnitOfWork, Protocol):
    @property
    def life_events(self) -> DeliveryOutbox: ...
    @property
    def agreements(self) -> AgreementRepository: ...
    # a receiver that keeps failing raises one
    @property
    def alerts(self) -> Alerts: ...
