"""Deliveries claimed at their report's intake. When a delivery worker listens in this
process, the intake writes the report's webhook deliveries already claimed (the attempt
counted, a lease, a claim token: as a worker's claim leaves them) in the report's own
transaction and, once the report is durable, hands them to that worker with their
notifications still open, to sign and send at once: no ring, look or claim between.
A process that dies before sending leaves leased claims, taken again by any worker when
the lease ends, as a dead worker's are."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import structlog

from onceonly.crypto.canonical import canonical_json
from onceonly.domain.life_events import Delivery
from onceonly.services.ports.delivery import Claim, Doorbell, Opened
from onceonly.services.ports.unit_of_work import Durability

log = structlog.get_logger("onceonly.delivery")

Outbox = Sequence[tuple[Delivery, dict[str, Any]]]  # each delivery with its notification


class IntakeClaims:
    def __init__(self, doorbell: Doorbell, durability: Durability, lease: timedelta) -> None:
        self.doorbell = doorbell
        self.durability = durability
        self.lease = lease  # the workers' own

    def token_for(self, outbox: Outbox) -> str | None:
        """A claim token for the report's webhook deliveries if a worker of this process
        listens to take them at once; None: they wait in the outbox, the workers rung."""
        if not any(d.mode == "webhook" for d, _ in outbox) or not self.doorbell.has_worker():
            return None
        return uuid.uuid4().hex  # as the outbox's own claims make them

    def claimed(self, outbox: Outbox, now: datetime) -> list[tuple[Delivery, dict[str, Any]]]:
        """The outbox with its webhook deliveries as a claim leaves them: one attempt,
        leased."""
        return [(replace(d, attempts=d.attempts + 1, next_attempt_at=now + self.lease)
                 if d.mode == "webhook" else d, note) for d, note in outbox]

    def hand_over(self, outbox: Outbox, sealed: Sequence[tuple[Any, Any]],
                  urls: Mapping[str, str], token: str) -> None:
        """Once the report is durable (nothing is sent before), its claimed webhook
        deliveries, each with its notification's bytes, to a worker of this process."""
        batch = [Opened(Claim(d, urls[d.receiver_id], box, token), canonical_json(note))
                 for (d, note), (_, box) in zip(outbox, sealed, strict=True)
                 if d.mode == "webhook"]

        def hand_over() -> None:
            if not self.doorbell.hand_over(batch):  # its worker stopped meanwhile
                log.warning("deliveries claimed at intake wait out their lease",
                            deliveries=[o.claim.delivery.id for o in batch])
        self.durability.after_durable(hand_over)
